package rollout_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/apply"
	"github.com/tokenscope/tokenscope/internal/capability"
	"github.com/tokenscope/tokenscope/internal/discovery"
	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/orggen"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/planfile"
	"github.com/tokenscope/tokenscope/internal/report"
	"github.com/tokenscope/tokenscope/internal/rollout"
	"github.com/tokenscope/tokenscope/internal/trust"
	"github.com/tokenscope/tokenscope/internal/use"
)

const adminToken = "glpat-rehearsal-admin"

// rehearsalNow is the clock of the trust file: its approvals are in force.
var rehearsalNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// org is a snapshot with its discovered edges and trust file.
type org struct {
	dir     string
	version string // the GitLab version simulated and planned for; "" for the inventory's
	snap    *inventory.Snapshot
	g       *graph.Graph
	tf      *trust.File
}

func loadOrg(t *testing.T, dir, trustFile string) *org {
	return loadOrgAt(t, dir, trustFile, "")
}

func loadOrgAt(t *testing.T, dir, trustFile, version string) *org {
	t.Helper()
	snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { snap.Close() })
	var tf *trust.File
	if trustFile != "" {
		var diags interface{ HasErrors() bool }
		tf, diags, err = trust.LoadFile(trustFile, trust.LoadOptions{Index: snap.Index, Now: rehearsalNow})
		if err != nil || diags.HasErrors() {
			t.Fatalf("trust: %v %v", err, diags)
		}
	}
	g, _, err := discovery.Scan(context.Background(), snap, discovery.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &org{dir: dir, version: version, snap: snap, g: g, tf: tf}
}

// rehearse applies o's plan to a simulator serving o, then replays every
// use discovery found as a real job-token request, and compares the
// simulator's answer with rollout's predictions: of the plan before it
// was applied, and of the live state after.
func rehearse(t *testing.T, o *org) {
	s, err := sim.Load(o.dir, sim.Options{Version: o.version, Tokens: []sim.Token{{Value: adminToken, Username: "admin", Admin: true}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s) // 127.0.0.1, real HTTP
	t.Cleanup(srv.Close)
	c, err := gitlab.New(gitlab.Options{URL: srv.URL, Token: adminToken, Concurrency: 1, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var v capability.Version
	if o.version != "" {
		v = capability.MustVersion(o.version)
	}
	// The org as GitLab holds it (what `plan --gitlab` reads: on an older
	// version, entries have no policies), the plan of it as `plan --prune
	// --format json` writes it, read back as `apply` and `rollout status
	// --plan` read it.
	live := inventory.NewIndex(s.Export())
	p := plan.Compute(o.g, live, o.tf, plan.Options{Prune: true, GitLabVersion: v})
	var buf bytes.Buffer
	if err := report.Plan(&buf, p, report.FormatJSON, report.PlanHints{}); err != nil {
		t.Fatal(err)
	}
	doc, err := planfile.Read(&buf, "plan.json")
	if err != nil {
		t.Fatal(err)
	}
	doc.Unreviewed = 0 // generated orgs have no trust file to review
	predicted := rollout.Compute(o.g, live, o.tf, rollout.Options{Plan: doc, GitLabVersion: v})
	if _, err := apply.Run(context.Background(), doc, apply.Live{Client: c}, apply.Options{Write: true, Journal: filepath.Join(t.TempDir(), "j.jsonl")}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	after := rollout.Compute(o.g, inventory.NewIndex(s.Export()), o.tf, rollout.Options{GitLabVersion: v})

	r := &replayer{t: t, base: srv.URL, jobs: map[string]string{}}
	var agree, total, unmapped, approvedOK, unapprovedRefused int
	unmappedKinds := map[string]int{}
	for _, w := range predicted.Waves {
		if w.OrgWide {
			continue // each project is predicted in its own wave
		}
		for _, p := range w.Projects {
			for _, cl := range p.Callers {
				for _, ch := range cl.Checks {
					got, ok := r.replay(cl.Caller, p.Path, ch)
					if !ok {
						unmapped++
						unmappedKinds[string(ch.Use.Access)]++
						continue
					}
					total++
					want := ch.Decision.Outcome
					live := decisionAfter(t, after, p.Path, cl.Caller, ch.Use)
					if got.outcome == want && live == want {
						agree++
					} else {
						t.Errorf("%s -> %s %s (%s): simulator %s (%d %s), predicted from the plan %s, from the live state %s",
							cl.Caller, p.Path, ch.Use.Access, ch.Use.Evidence.Detail, got.outcome, got.status, got.body, want, live)
					}
					// The point of the plan: every approved use goes
					// through, every unapproved one is refused (where the
					// allowlist decides: not on a public or internal
					// callee's open features).
					switch expectation(o.tf, o.snap.Index, cl.Caller, p.Path, ch) {
					case rollout.Allowed:
						approvedOK++
						if got.outcome != rollout.Allowed {
							t.Errorf("approved use %s -> %s %s refused: %d %s", cl.Caller, p.Path, ch.Use.Access, got.status, got.body)
						}
					case rollout.Refused:
						unapprovedRefused++
						if got.outcome != rollout.Refused {
							t.Errorf("unapproved use %s -> %s %s allowed", cl.Caller, p.Path, ch.Use.Access)
						}
					}
				}
			}
		}
	}
	if total == 0 {
		t.Fatal("no use replayed")
	}
	t.Logf("replayed %d uses: %d agree (%.0f%%); %d approved allowed, %d unapproved refused; %d not mappable to a request %v",
		total, agree, 100*float64(agree)/float64(total), approvedOK, unapprovedRefused, unmapped, unmappedKinds)
}

// expectation is what trust.yaml intends for one use: Allowed for an
// approved access, Refused for one nothing approves (or a deny rule, or a
// job token can never make), "" where the allowlist does not decide (a
// public or internal callee's Git, registry and trigger requests).
func expectation(tf *trust.File, ix *inventory.Index, caller, callee string, ch rollout.Check) rollout.Outcome {
	if in, ok := access.Lookup(ch.Use.Access); ok && in.Never {
		return rollout.Refused
	}
	if p := ix.Project(callee); p != nil && (p.Visibility == "public" || p.Visibility == "internal") && ch.Request != rollout.API {
		return ""
	}
	for _, d := range tf.DenyRules(callee) {
		if d.Denies(caller) {
			return rollout.Refused
		}
	}
	covers := func(ks []access.Kind) bool {
		return ch.Use.Access == "" || len(ks) == 0 || containsKind(ks, ch.Use.Access)
	}
	if a, ok := tf.Approval(caller, callee); ok && a.Counts() && covers(a.Access) {
		return rollout.Allowed
	}
	for _, g := range tf.GroupGrants(callee) {
		if g.Counts() && trust.Under(caller, g.CallerGroup) && covers(g.Access) {
			return rollout.Allowed
		}
	}
	if tf == nil {
		return "" // without a trust file every discovered edge is planned
	}
	return rollout.Refused
}

func containsKind(ks []access.Kind, k access.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// decisionAfter finds the prediction for the same use in the status of
// the live state after apply.
func decisionAfter(t *testing.T, st *rollout.Status, callee, caller string, u use.Use) rollout.Outcome {
	t.Helper()
	for _, w := range st.Waves {
		if w.OrgWide {
			continue
		}
		for _, p := range w.Projects {
			if p.Path != callee {
				continue
			}
			for _, cl := range p.Callers {
				if cl.Caller != caller {
					continue
				}
				for _, ch := range cl.Checks {
					if use.CompareUses(ch.Use, u) == 0 {
						return ch.Decision.Outcome
					}
				}
			}
		}
	}
	t.Errorf("no prediction after apply for %s -> %s %s", caller, callee, u.Access)
	return ""
}

type replayer struct {
	t    *testing.T
	base string
	jobs map[string]string // caller -> running job's token
}

type answer struct {
	outcome rollout.Outcome
	status  int
	body    string
}

// token starts a job in caller (POST /-/sim/jobs, docs/design.md §8) and
// returns its CI_JOB_TOKEN.
func (r *replayer) token(caller string) string {
	if tok, ok := r.jobs[caller]; ok {
		return tok
	}
	body, _ := json.Marshal(map[string]string{"project": caller})
	req, _ := http.NewRequest("POST", r.base+"/-/sim/jobs", bytes.NewReader(body))
	req.Header.Set("PRIVATE-TOKEN", adminToken)
	req.Header.Set("Content-Type", "application/json")
	status, out := r.do(req)
	if status != http.StatusCreated {
		r.t.Fatalf("POST /-/sim/jobs %s: %d %s", caller, status, out)
	}
	var j struct{ Token string }
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		r.t.Fatal(err)
	}
	r.jobs[caller] = j.Token
	return j.Token
}

func (r *replayer) do(req *http.Request) (int, string) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// replay makes the request the use implies, with the caller's job token;
// false when its access kind maps to no request the simulator serves.
func (r *replayer) replay(caller, callee string, ch rollout.Check) (answer, bool) {
	tok := r.token(caller)
	api := r.base + "/api/v4/projects/" + url.PathEscape(callee)
	var req *http.Request
	jobToken := func(method, u string, body io.Reader) {
		req, _ = http.NewRequest(method, u, body)
		req.Header.Set("JOB-TOKEN", tok)
	}
	detail := strings.ToLower(ch.Use.Evidence.Detail)
	switch k := ch.Use.Access; {
	case k == access.RepositoryRead && ch.Request == rollout.API:
		return answer{}, false // the REST repository reads take no job token in the simulator
	case k == "" || k == access.RepositoryRead:
		// A use known only from the authentication log is replayed as the
		// request rollout predicts it as: the scope check alone (Git).
		req, _ = http.NewRequest("GET", r.base+"/"+callee+".git/info/refs?service=git-upload-pack", nil)
		req.SetBasicAuth("gitlab-ci-token", tok)
	case k == access.RepositoryWrite:
		req, _ = http.NewRequest("GET", r.base+"/"+callee+".git/info/refs?service=git-receive-pack", nil)
		req.SetBasicAuth("gitlab-ci-token", tok)
	case k == access.ContainerRead, k == access.ContainerWrite:
		action := "pull"
		if k == access.ContainerWrite {
			action = "push"
		}
		req, _ = http.NewRequest("GET", r.base+"/jwt/auth?service=container_registry&scope=repository:"+callee+":"+action, nil)
		req.SetBasicAuth("gitlab-ci-token", tok)
		status, body := r.do(req)
		return answer{outcome: registryOutcome(r.t, status, body, action), status: status, body: body}, true
	case k == access.PackagesRead:
		switch {
		case strings.Contains(detail, "npm"):
			jobToken("GET", api+"/packages/npm/@acme%2Fpkg", nil)
		case strings.Contains(detail, "pypi"):
			jobToken("GET", api+"/packages/pypi/simple/pkg", nil)
		case strings.Contains(detail, "maven"):
			jobToken("GET", api+"/packages/maven/com/acme/pkg/1.0/pkg-1.0.pom", nil)
		default:
			jobToken("GET", api+"/packages/generic/pkg/1.0/pkg.tgz", nil)
		}
	case k == access.PackagesWrite:
		jobToken("PUT", api+"/packages/generic/pkg/1.0/pkg.tgz", strings.NewReader("content"))
	case k == access.ArtifactsRead:
		jobToken("GET", api+"/jobs/artifacts/main/download?job=build", nil)
	case k == access.PipelineTrigger:
		req, _ = http.NewRequest("POST", api+"/trigger/pipeline", strings.NewReader(url.Values{"token": {tok}, "ref": {"main"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case k == access.ReleasesRead:
		jobToken("GET", api+"/releases", nil)
	case k == access.ReleasesWrite:
		jobToken("POST", api+"/releases?tag_name=v9.9.9", nil)
	case k == access.DeploymentsRead:
		jobToken("GET", api+"/deployments", nil)
	case k == access.EnvironmentsRead:
		jobToken("GET", api+"/environments", nil)
	case k == access.SecureFilesRead:
		jobToken("GET", api+"/secure_files", nil)
	case k == access.TerraformStateRead:
		jobToken("GET", api+"/terraform/state/default", nil)
	case k == access.TerraformStateWrite:
		jobToken("POST", api+"/terraform/state/default/lock", strings.NewReader("{}"))
	default:
		// deployments-write, environments-write, secure-files-write,
		// api-read, api-write: no one request stands for the kind.
		return answer{}, false
	}
	status, body := r.do(req)
	out := rollout.Refused
	if status >= 200 && status < 300 {
		out = rollout.Allowed
	} else if !denial(status, body) {
		// A refusal that is not GitLab's job-token answer (a missing
		// route, a bad request) would agree with a refused prediction by
		// accident.
		r.t.Errorf("%s %s: %d %s is not a job-token refusal", req.Method, req.URL.Path, status, body)
	}
	return answer{outcome: out, status: status, body: body}, true
}

// denial reports whether an answer is one of GitLab's job-token refusals
// (docs/design.md §3, failure kinds): the allowlist message (403 from
// 17.4, the project hidden as 404 before), the policy message, the push
// refusal, the trigger API's 404.
func denial(status int, body string) bool {
	for _, m := range []string{"Authentication by CI/CD job token not allowed from", "Insufficient permissions",
		"You are not allowed to upload code", "This action is unauthorized for CI/CD job tokens",
		"404 Project Not Found", "404 Not Found", "could not be found or you don't have permission"} {
		if strings.Contains(body, m) {
			return status == 403 || status == 404
		}
	}
	return false
}

// registryOutcome reads the granted actions from the JWT's access claim,
// as the registry does.
func registryOutcome(t *testing.T, status int, body, action string) rollout.Outcome {
	if status != http.StatusOK {
		return rollout.Refused
	}
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(body), &tok); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok.Token, ".")
	if len(parts) != 3 {
		t.Fatalf("registry token %q", tok.Token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Access []struct{ Actions []string } `json:"access"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	for _, a := range claims.Access {
		for _, x := range a.Actions {
			if x == action {
				return rollout.Allowed
			}
		}
	}
	return rollout.Refused
}

// TestRehearsalExample replays every use of the bundled example org after
// applying its plan.
func TestRehearsalExample(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "acme")
	rehearse(t, loadOrg(t, dir, filepath.Join(dir, "trust.yaml")))
}

// TestRehearsalExampleVersions does the same on older GitLab: 18.3 (the
// first with fine-grained policies GA, no read_repositories yet) and 17.0
// (no policies; a refused job token gets 404). Between 17.10 and 18.2 the
// policies depend on a per-project feature flag tokenscope cannot read, so
// neither the plan nor the prediction can be exact there.
func TestRehearsalExampleVersions(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "acme")
	for _, v := range []string{"18.3", "17.0"} {
		t.Run(v, func(t *testing.T) { rehearse(t, loadOrgAt(t, dir, filepath.Join(dir, "trust.yaml"), v)) })
	}
}

// TestRehearsalGenerated does the same on a generated org whose trust file
// approves two edges in three (the rest must be refused once enforced).
func TestRehearsalGenerated(t *testing.T) {
	dir := t.TempDir()
	if _, err := orggen.Write(dir, orggen.Options{Projects: 60, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	unreviewed := loadOrg(t, dir, "")
	var b strings.Builder
	b.WriteString("version: 1\nedges:\n")
	for i, e := range unreviewed.g.Edges {
		if i%3 == 0 || len(e.Access) == 0 {
			continue
		}
		kinds := make([]string, len(e.Access))
		for j, k := range e.Access {
			kinds[j] = string(k)
		}
		fmt.Fprintf(&b, "  - {caller: %s, callee: %s, access: [%s], reason: generated, owner: \"@gen\"}\n", e.Caller, e.Callee, strings.Join(kinds, ", "))
	}
	b.WriteString("waves:\n  - {name: everything, all: true}\n")
	tf := filepath.Join(t.TempDir(), "trust.yaml")
	if err := os.WriteFile(tf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	rehearse(t, loadOrg(t, dir, tf))
}
