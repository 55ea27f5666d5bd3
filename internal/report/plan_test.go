package report

import (
	"bytes"
	"encoding/json"
	"github.com/tokenscope/tokenscope/internal/gitlab/schema"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/trust"
	"github.com/tokenscope/tokenscope/internal/use"
)

// samplePlan is the case every plan renderer is checked on: it holds each
// status (add, keep, update, remove, review, stale, denied, never,
// unapproved), a group grant, a callee without a known ID and an
// unresolved reference.
func samplePlan(t *testing.T, withTrust bool) *plan.Plan {
	t.Helper()
	inv := sampleInventory()
	ix := inventory.NewIndex(inv)
	return samplePlanOf(t, ix, withTrust)
}

// sampleInventory is the org samplePlan is computed from.
func sampleInventory() *inventory.Inventory {
	inv := &inventory.Inventory{Version: 1, ServerURL: "https://gitlab.acme.example", GitLabVersion: "18.5",
		Groups: []inventory.Group{{Path: "apps", ID: 30}, {Path: "infra", ID: 40}, {Path: "libs", ID: 20}, {Path: "platform", ID: 10}}}
	add := func(p *inventory.Project) { inv.Projects = append(inv.Projects, p) }
	add(&inventory.Project{Path: "apps/web", ID: 301})
	add(&inventory.Project{Path: "apps/api", ID: 302})
	add(&inventory.Project{Path: "apps/deploy", ID: 303})
	add(&inventory.Project{Path: "apps/legacy-portal", ID: 306, Archived: true})
	add(&inventory.Project{Path: "data/etl"}) // no ID known
	add(&inventory.Project{Path: "libs/jslib", ID: 201, JobTokenScope: &inventory.JobTokenScope{
		Allowlist: inventory.Allowlist{Projects: []inventory.Entry{{Path: "apps/legacy-portal", ID: 306, Autopopulated: true}}}}})
	add(&inventory.Project{Path: "infra/tfstate", ID: 401, JobTokenScope: &inventory.JobTokenScope{InboundEnabled: true,
		Allowlist: inventory.Allowlist{Projects: []inventory.Entry{{Path: "apps/deploy", ID: 303, Policies: []string{"read_terraform_state"}}, {Path: "apps/web", ID: 301}}}}})
	add(&inventory.Project{Path: "platform/base-images", ID: 103})
	add(&inventory.Project{Path: "platform/build-scripts", JobTokenScope: &inventory.JobTokenScope{}}) // no ID known
	return inv
}

func samplePlanOf(t *testing.T, ix *inventory.Index, withTrust bool) *plan.Plan {
	t.Helper()
	ev := func(caller string, k access.Kind, file string, line int, job, detail string) use.Use {
		return use.Use{Origin: use.CIConfig, Access: k, Caller: caller, Evidence: use.Evidence{Pos: loc.Pos{Project: caller, File: file, Line: line}, Job: job, Detail: detail}}
	}
	logUse := func(callee, when string) use.Use {
		return use.Use{Origin: use.AuthLog, Evidence: use.Evidence{Pos: loc.Pos{Project: callee}, Detail: "job token authentication log: last authorized " + when}}
	}
	g := &graph.Graph{Edges: []graph.Edge{
		{Caller: "apps/api", Callee: "platform/base-images", Access: []access.Kind{access.ContainerRead}, Uses: []use.Use{
			ev("apps/api", access.ContainerRead, ".gitlab-ci.yml", 3, "", "image: registry.acme.example/platform/base-images/jdk:21")}},
		{Caller: "apps/deploy", Callee: "infra/tfstate", Access: []access.Kind{access.TerraformStateWrite}, Uses: []use.Use{
			ev("apps/deploy", access.TerraformStateWrite, ".gitlab-ci.yml", 30, "apply", "terraform HTTP backend address .../projects/401/terraform/state/prod with lock"),
			logUse("infra/tfstate", "2026-11-27T22:01:13Z")}},
		{Caller: "apps/legacy-portal", Callee: "libs/jslib", Uses: []use.Use{logUse("libs/jslib", "2026-06-02T17:40:00Z")}},
		{Caller: "apps/web", Callee: "infra/tfstate", Access: []access.Kind{access.TerraformStateRead}, Uses: []use.Use{
			ev("apps/web", access.TerraformStateRead, ".gitlab-ci.yml", 50, "outputs", "curl --header \"JOB-TOKEN: $CI_JOB_TOKEN\" .../terraform/state/prod")}},
		{Caller: "apps/web", Callee: "libs/jslib", Access: []access.Kind{access.ArtifactsRead, access.PackagesRead}, Uses: []use.Use{
			ev("apps/web", access.PackagesRead, ".npmrc", 2, "", "npm registry projects/201 with _authToken=${CI_JOB_TOKEN}"),
			ev("apps/web", access.ArtifactsRead, ".gitlab-ci.yml", 24, "build", "needs:project libs/jslib job build"),
			logUse("libs/jslib", "2026-11-20T08:15:00Z")}},
		{Caller: "apps/web", Callee: "platform/base-images", Access: []access.Kind{access.ContainerRead}, Uses: []use.Use{
			ev("apps/web", access.ContainerRead, ".gitlab-ci.yml", 1, "", "image: registry.acme.example/platform/base-images/node:20")}},
		{Caller: "data/etl", Callee: "platform/build-scripts", Access: []access.Kind{access.RepositoryRead}, Uses: []use.Use{
			ev("data/etl", access.RepositoryRead, ".gitlab-ci.yml", 12, "prepare", "git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.acme.example/platform/build-scripts.git")}},
		{Caller: "data/etl", Callee: "apps/web", Access: []access.Kind{access.RepositoryWrite}, Uses: []use.Use{
			ev("data/etl", access.RepositoryWrite, ".gitlab-ci.yml", 40, "publish", "git push https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.acme.example/apps/web.git")}},
	}, Unresolved: []use.Unresolved{{Pos: loc.Pos{Project: "data/etl", File: ".gitlab-ci.yml", Line: 20}, Job: "fixtures", Access: access.RepositoryRead,
		Reference: "${FIXTURES_REPO}", Reason: "variable FIXTURES_REPO is not defined in the CI config"}}}
	slices.SortFunc(g.Edges, func(a, b graph.Edge) int { return strings.Compare(a.Caller+" "+a.Callee, b.Caller+" "+b.Callee) })
	var tf *trust.File
	if withTrust {
		var diags []string
		f, ds := trust.Load("trust.yaml", []byte(`version: 1
edges:
  - {caller: apps/web, callee: libs/jslib, access: [packages-read, artifacts-read], reason: web consumes the design-system package, owner: "@frontend"}
  - {caller: apps/deploy, callee: infra/tfstate, access: [terraform-state-write], reason: deploys production, owner: "@ops"}
  - {caller: apps/api, callee: platform/build-scripts, access: [repository-read], reason: shared build scripts, owner: "@platform"}
groups:
  - {callee: platform/base-images, caller_group: apps, access: [container-read], reason: every app builds on the base images}
deny:
  - {callee: infra/tfstate, except: [apps/deploy], reason: state holds secrets}
waves:
  - {name: pilot, projects: [libs/jslib]}
  - {name: platform, groups: [platform]}
  - {name: everything, all: true}
`), trust.LoadOptions{Index: ix, Now: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)})
		for _, d := range ds {
			diags = append(diags, d.String())
		}
		if ds.HasErrors() {
			t.Fatalf("trust: %v", diags)
		}
		tf = f
	}
	return plan.Compute(g, ix, tf, plan.Options{})
}

func TestPlanFormats(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		for _, f := range PlanFormats {
			name := "plan." + f
			if !trusted {
				name = "plan-untrusted." + f
			}
			t.Run(name, func(t *testing.T) {
				var buf bytes.Buffer
				if err := Plan(&buf, samplePlan(t, trusted), f, testHints); err != nil {
					t.Fatal(err)
				}
				if strings.Contains(buf.String(), "glpat") {
					t.Error("a token leaked")
				}
				untrusted := strings.Contains(buf.String(), "PROPOSED, not reviewed") || strings.Contains(buf.String(), "no trust file: every discovered edge is PROPOSED")
				if untrusted == trusted {
					t.Errorf("the output must say loudly when no trust file was used (trusted=%v)", trusted)
				}
				golden(t, name, buf.Bytes())
			})
		}
	}
}

// TestPlanJSONContract checks docs/design.md §6b: field names, arrays never
// null, policies null for default permissions with the reason in reason.
func TestPlanJSONContract(t *testing.T) {
	var buf bytes.Buffer
	if err := Plan(&buf, samplePlan(t, true), FormatJSON, testHints); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version  int              `json:"version"`
		Projects []map[string]any `json:"projects"`
		Warnings []string         `json:"warnings"`
		Digest   string           `json:"state_digest"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != PlanFormatVersion || !strings.HasPrefix(doc.Digest, "sha256:") || doc.Warnings == nil {
		t.Errorf("header: %+v", doc)
	}
	var paths []string
	for _, p := range doc.Projects {
		paths = append(paths, p["project"].(string))
		for _, k := range []string{"add", "update", "remove", "keep", "needs_review", "stale"} {
			if _, ok := p[k].([]any); !ok {
				t.Errorf("%s: %s = %#v; want an array", p["project"], k, p[k])
			}
		}
		if _, ok := p["enforce"].(bool); !ok {
			t.Errorf("%s: enforce missing", p["project"])
		}
	}
	if !slices.IsSorted(paths) {
		t.Errorf("projects not sorted: %v", paths)
	}
	byPath := map[string]map[string]any{}
	for _, p := range doc.Projects {
		byPath[p["project"].(string)] = p
	}
	add := byPath["libs/jslib"]["add"].([]any)[0].(map[string]any)
	if add["type"] != "project" || add["path"] != "apps/web" || !reflectEqual(add["policies"], []any{"read_jobs", "read_packages"}) ||
		!reflectEqual(add["access"], []any{"artifacts-read", "packages-read"}) || add["id"] != float64(301) {
		t.Errorf("add entry: %v", add)
	}
	group := byPath["platform/base-images"]["add"].([]any)[0].(map[string]any)
	if group["policies"] != nil || !strings.Contains(group["reason"].(string), "default permissions: container-read: container registry pulls") {
		t.Errorf("policies null with the reason: %v", group)
	}
	if byPath["libs/jslib"]["enforce"] != true || byPath["infra/tfstate"]["enforce"] != false {
		t.Error("enforce")
	}
	review := byPath["libs/jslib"]["needs_review"].([]any)[0].(map[string]any)
	if review["caller"] != "apps/legacy-portal" || len(review["uses"].([]any)) != 1 {
		t.Errorf("needs_review: %v", review)
	}
	remove := byPath["infra/tfstate"]["remove"].([]any)[0].(map[string]any)
	if remove["path"] != "apps/web" || !strings.Contains(remove["reason"].(string), "denied") {
		t.Errorf("remove: %v", remove)
	}
}

func reflectEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestPolicyLabel(t *testing.T) {
	for in, want := range map[string]string{
		"read_packages": "Packages: Read", "admin_terraform_state": "Terraform state: Read and write",
		"read_secure_files": "Secure files: Read", "read_jobs": "Jobs: Read",
	} {
		if got := policyLabel(in); got != want {
			t.Errorf("policyLabel(%s) = %s; want %s", in, got, want)
		}
	}
}

func scriptFile(t *testing.T, p *plan.Plan) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Plan(&buf, p, FormatScript, testHints); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.sh")
	if err := os.WriteFile(path, buf.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func runScript(t *testing.T, path string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{path}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestScriptDryRunAndSyntax(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	path := scriptFile(t, samplePlan(t, true))
	if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	out, errOut, code := runScript(t, path, nil)
	if code != 0 || !strings.Contains(errOut, "dry run") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"== libs/jslib\nwould add project apps/web: POST api/v4/projects/201/job_token_scope/allowlist --data target_project_id=301\n",
		"would policies of apps/web: read_jobs, read_packages: POST api/graphql --header Content-Type: application/json --data {\"query\":\"mutation { ciJobTokenScopeUpdatePolicies(input: {projectPath: \\\"libs/jslib\\\", targetPath: \\\"apps/web\\\", defaultPermissions: false, jobTokenPolicies: [READ_JOBS, READ_PACKAGES]}) { errors } }\"}\n",
		"would turn on the allowlist (Authorized groups and projects): PATCH api/v4/projects/201/job_token_scope --data enabled=true\n",
		"would remove project apps/web: DELETE api/v4/projects/401/job_token_scope/allowlist/301",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	// One wave only.
	out, _, code = runScript(t, path, nil, "--wave", "pilot")
	if code != 0 || !strings.Contains(out, "== libs/jslib") || strings.Contains(out, "== platform/base-images") {
		t.Errorf("--wave pilot: exit %d\n%s", code, out)
	}
	if _, errOut, code = runScript(t, path, nil, "--wave", "nope"); code != 2 || !strings.Contains(errOut, "unknown wave: nope") {
		t.Errorf("unknown wave: exit %d %s", code, errOut)
	}
	if _, errOut, code = runScript(t, path, nil, "--execute"); code != 2 || !strings.Contains(errOut, "GITLAB_TOKEN is not set") {
		t.Errorf("no token: exit %d %s", code, errOut)
	}
	untrusted := scriptFile(t, samplePlan(t, false))
	if _, errOut, code = runScript(t, untrusted, []string{"GITLAB_TOKEN=x"}, "--execute"); code != 2 || !strings.Contains(errOut, "WITHOUT a trust file") {
		t.Errorf("unreviewed plan: exit %d %s", code, errOut)
	}
}

// TestScriptExecute runs the script against a recording server over real
// HTTP: calls in plan order, the token only in the header, and a second
// run that finds everything done.
func TestScriptExecute(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	const token = "glpat-test-token-0123456789"
	var mu sync.Mutex
	var calls []string
	done := map[string]bool{}
	failAdds := false
	reads := liveReads(t, sampleInventory())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("PRIVATE-TOKEN") == token && reads(w, r) {
			return
		}
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("PRIVATE-TOKEN") != token {
			w.WriteHeader(401)
			io.WriteString(w, `{"message":"401 Unauthorized"}`)
			return
		}
		k := r.Method + " " + r.URL.Path + " " + string(body)
		calls = append(calls, r.Method+" "+r.URL.Path)
		switch {
		case failAdds && r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/allowlist"):
			w.WriteHeader(403)
			io.WriteString(w, `{"message":"403 Forbidden"}`)
		case strings.HasSuffix(r.URL.Path, "/graphql"):
			io.WriteString(w, `{"data":{"x":{"errors":[]}}}`)
		case r.Method == "POST" && done[k]:
			w.WriteHeader(400)
			io.WriteString(w, `{"message":"400 Bad request - This project is already in the job token allowlist."}`)
		case r.Method == "DELETE" && done[k]:
			w.WriteHeader(400)
			io.WriteString(w, `{"message":"400 Bad request - Target project is not in the job token scope"}`)
		case r.Method == "POST":
			w.WriteHeader(201)
			io.WriteString(w, `{}`)
		default:
			w.WriteHeader(204)
		}
		done[k] = true
	}))
	defer srv.Close()
	path := scriptFile(t, samplePlan(t, true))
	env := []string{"GITLAB_TOKEN=" + token, "GITLAB_URL=" + srv.URL}
	out, errOut, code := runScript(t, path, env, "--execute", "--wave", "pilot")
	if code != 0 {
		t.Fatalf("execute: exit %d\n%s\n%s", code, out, errOut)
	}
	want := []string{"POST /api/v4/projects/201/job_token_scope/allowlist", "POST /api/graphql", "PATCH /api/v4/projects/201/job_token_scope"}
	mu.Lock()
	got := slices.Clone(calls)
	mu.Unlock()
	if !slices.Equal(got, want) {
		t.Errorf("calls = %v; want %v (entries, policies, then enforcement)", got, want)
	}
	if strings.Contains(out+errOut, token) {
		t.Error("the script printed the token")
	}
	out, errOut, code = runScript(t, path, env, "--execute", "--wave", "pilot")
	if code != 0 || !strings.Contains(out, "already done add project apps/web") {
		t.Errorf("second run must be idempotent: exit %d\n%s\n%s", code, out, errOut)
	}
	// A failed entry skips the project's enforcement and fails the run.
	mu.Lock()
	calls, failAdds = nil, true
	mu.Unlock()
	_, errOut, code = runScript(t, path, env, "--execute", "--wave", "pilot")
	if code != 1 || !strings.Contains(errOut, "SKIPPED turn on the allowlist") {
		t.Errorf("failure: exit %d\n%s", code, errOut)
	}
	// A token that cannot read the allowlists cannot check the plan
	// against them: nothing is written.
	mu.Lock()
	calls = nil
	mu.Unlock()
	env[0] = "GITLAB_TOKEN=wrong"
	_, errOut, code = runScript(t, path, env, "--execute", "--wave", "pilot")
	mu.Lock()
	defer mu.Unlock()
	if code != 1 || !strings.Contains(errOut, "cannot check the saved plan against GitLab: the allowlists of libs/jslib could not be read") ||
		strings.Contains(errOut, "wrong") || len(calls) > 0 {
		t.Errorf("unreadable: exit %d, writes %v\n%s", code, calls, errOut)
	}
}

func TestTerraformFormatted(t *testing.T) {
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("terraform not installed")
	}
	var buf bytes.Buffer
	if err := Plan(&buf, samplePlan(t, true), FormatTerraform, testHints); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tf, "fmt", "-")
	cmd.Stdin = bytes.NewReader(buf.Bytes())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("terraform fmt: %v", err)
	}
	if !bytes.Equal(out, buf.Bytes()) {
		t.Errorf("terraform fmt would change the output:\n%s", out)
	}
}

// TestWithoutIDs plans an org known only by paths (a folder of clones):
// REST writes need numeric IDs, so the steps fall back to path-based
// GraphQL and Terraform looks the IDs up with data sources.
func TestWithoutIDs(t *testing.T) {
	inv := &inventory.Inventory{Version: 1, GitLabVersion: "18.5", Projects: []*inventory.Project{
		{Path: "apps/web"}, {Path: "libs/jslib", JobTokenScope: &inventory.JobTokenScope{
			Allowlist: inventory.Allowlist{Projects: []inventory.Entry{{Path: "apps/old"}}}}}, {Path: "apps/old"}}}
	g := &graph.Graph{Edges: []graph.Edge{{Caller: "apps/web", Callee: "libs/jslib", Access: []access.Kind{access.PackagesRead},
		Uses: []use.Use{{Origin: use.CIConfig, Access: access.PackagesRead, Evidence: use.Evidence{Pos: loc.Pos{Project: "apps/web", File: ".npmrc", Line: 1}}}}}}}
	p := plan.Compute(g, inventory.NewIndex(inv), nil, plan.Options{Prune: true})
	var script, tf bytes.Buffer
	if err := Plan(&script, p, FormatScript, testHints); err != nil {
		t.Fatal(err)
	}
	if err := Plan(&tf, p, FormatTerraform, testHints); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`ciJobTokenScopeAddGroupOrProject(input: {projectPath: \"libs/jslib\", targetPath: \"apps/web\"})`,
		`ciJobTokenScopeRemoveProject(input: {projectPath: \"libs/jslib\", targetProjectPath: \"apps/old\", direction: INBOUND})`,
		`'api/v4/projects/libs%2Fjslib/job_token_scope'`,
	} {
		if !strings.Contains(script.String(), want) {
			t.Errorf("script lacks %s:\n%s", want, script.String())
		}
	}
	for _, want := range []string{
		"data \"gitlab_project\" \"apps_web\" {\n  path_with_namespace = \"apps/web\"\n}\n",
		"    data.gitlab_project.apps_web.id, # apps/web: policies read_packages",
		`project = "libs/jslib"`,
	} {
		if !strings.Contains(tf.String(), want) {
			t.Errorf("terraform lacks %q:\n%s", want, tf.String())
		}
	}
	// apps/old gets its own locked-down resource; it must not stay in
	// libs/jslib's authoritative set.
	_, jslib, _ := strings.Cut(tf.String(), `resource "gitlab_project_job_token_scopes" "libs_jslib"`)
	if jslib, _, _ = strings.Cut(jslib, "\n}\n"); jslib == "" || strings.Contains(jslib, "apps/old") {
		t.Errorf("a pruned entry must not stay in the authoritative set:\n%s", tf.String())
	}
}

// TestPlanGraphQLIsValid checks every GraphQL mutation the plan's steps
// and script send (adds by path, policy updates, removals by path) against
// the schema tokenscope carries: a mutation GitLab would reject must fail
// here first.
func TestPlanGraphQLIsValid(t *testing.T) {
	inv := &inventory.Inventory{Version: 1, GitLabVersion: "18.5", Projects: []*inventory.Project{
		{Path: "apps/web"}, {Path: "apps/api", ID: 302}, {Path: "libs/jslib", ID: 201, JobTokenScope: &inventory.JobTokenScope{
			Allowlist: inventory.Allowlist{Projects: []inventory.Entry{{Path: "apps/old"}, {Path: "apps/api", ID: 302}},
				Groups: []inventory.Entry{{Path: "sandbox"}}}}}, {Path: "apps/old"}}}
	g := &graph.Graph{Edges: []graph.Edge{
		{Caller: "apps/web", Callee: "libs/jslib", Access: []access.Kind{access.PackagesRead},
			Uses: []use.Use{{Origin: use.CIConfig, Access: access.PackagesRead, Evidence: use.Evidence{Pos: loc.Pos{Project: "apps/web", File: ".npmrc", Line: 1}}}}},
		{Caller: "apps/api", Callee: "libs/jslib", Access: []access.Kind{access.ArtifactsRead},
			Uses: []use.Use{{Origin: use.CIConfig, Access: access.ArtifactsRead, Evidence: use.Evidence{Pos: loc.Pos{Project: "apps/api", File: ".gitlab-ci.yml", Line: 3}}}}},
	}}
	p := plan.Compute(g, inventory.NewIndex(inv), nil, plan.Options{Prune: true})
	var out bytes.Buffer
	for _, f := range []string{FormatScript, FormatTable} {
		if err := Plan(&out, p, f, testHints); err != nil {
			t.Fatal(err)
		}
	}
	re := regexp.MustCompile(`mutation \{ [^\n']*\}( \{ errors \})? \}`)
	found := map[string]bool{}
	for _, m := range re.FindAllString(strings.ReplaceAll(out.String(), `\"`, `"`), -1) {
		name := strings.Fields(m)[2]
		name = name[:strings.IndexByte(name, '(')]
		found[name] = true
		if _, err := schema.Validate(name, m); err != nil {
			t.Errorf("%s is not valid against the schema: %v\n%s", name, err, m)
		}
	}
	for _, want := range []string{"ciJobTokenScopeAddGroupOrProject", "ciJobTokenScopeUpdatePolicies", "ciJobTokenScopeRemoveProject", "ciJobTokenScopeRemoveGroup"} {
		if !found[want] {
			t.Errorf("no %s mutation in the rendered plan (found %v)", want, found)
		}
	}
}

// testHints are the flag names the command line gives (internal/cli
// planHints); the goldens are its output.
var testHints = PlanHints{Trust: "--trust", Prune: "--prune", GitLabVersion: "--gitlab-version", Format: "--format", DetailedExitCode: "--detailed-exitcode", Steps: "--steps"}

// unknownPlan has one callee whose settings could not be read (libs/jslib)
// and one that was (infra/tfstate).
func unknownPlan(t *testing.T) *plan.Plan {
	t.Helper()
	ix := inventory.NewIndex(unknownInventory())
	g := &graph.Graph{Edges: []graph.Edge{
		{Caller: "apps/deploy", Callee: "infra/tfstate", Access: []access.Kind{access.TerraformStateRead}},
		{Caller: "apps/web", Callee: "libs/jslib", Access: []access.Kind{access.PackagesRead}},
	}}
	tf, ds := trust.Load("trust.yaml", []byte(`version: 1
edges:
  - {caller: apps/web, callee: libs/jslib, access: [packages-read], reason: r}
  - {caller: apps/deploy, callee: infra/tfstate, access: [terraform-state-read], reason: r}
`), trust.LoadOptions{Index: ix, Now: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	return plan.Compute(g, ix, tf, plan.Options{})
}

// unknownInventory is the org unknownPlan is computed from: libs/jslib's
// allowlist could not be read.
func unknownInventory() *inventory.Inventory {
	inv := &inventory.Inventory{Version: 1, ServerURL: "https://gitlab.acme.example", GitLabVersion: "18.5"}
	inv.Projects = []*inventory.Project{{Path: "apps/web", ID: 301}, {Path: "apps/deploy", ID: 303},
		{Path: "libs/jslib", ID: 201, JobTokenScopeUnknown: true},
		{Path: "infra/tfstate", ID: 401, JobTokenScope: &inventory.JobTokenScope{}}}
	return inv
}

// liveReads answers the reads of the script's state check from the
// simulator (the test oracle) of inv, the org a plan was computed from; it
// reports whether r was such a read. The recording servers below answer
// the writes.
func liveReads(t *testing.T, inv *inventory.Inventory) func(http.ResponseWriter, *http.Request) bool {
	t.Helper()
	s, err := sim.New(inv, nil, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet {
			return false
		}
		s.ServeHTTP(w, r)
		return true
	}
}

func TestPlanUnknownState(t *testing.T) {
	p := unknownPlan(t)
	render := func(f string) string {
		var buf bytes.Buffer
		if err := Plan(&buf, p, f, testHints); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	line := "current allowlist unknown: the token cannot read it (needs Maintainer)"
	table := render(FormatTable)
	if !strings.Contains(table, "== libs/jslib (id 201), wave libs\n   allowlist: turn on the allowlist (current setting unknown; turning it on is idempotent)\n   "+line) ||
		strings.Count(table, line) != 1 || !strings.Contains(strings.Join(strings.Fields(table), " "), "1 with the current allowlist UNKNOWN") {
		t.Errorf("table:\n%s", table)
	}
	if md := render(FormatMarkdown); !strings.Contains(md, "> **Current allowlist unknown: the token cannot read it (needs Maintainer)**") {
		t.Errorf("markdown:\n%s", md)
	}
	var doc struct {
		Projects []struct {
			Project, State string
		}
	}
	if err := json.Unmarshal([]byte(render(FormatJSON)), &doc); err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, pr := range doc.Projects {
		states[pr.Project] = pr.State
	}
	if states["libs/jslib"] != "unknown" || states["infra/tfstate"] != "known" {
		t.Errorf("json states = %v", states)
	}
	tf := render(FormatTerraform)
	if strings.Contains(tf, `resource "gitlab_project_job_token_scopes" "libs_jslib"`) ||
		!strings.Contains(tf, "# libs/jslib: NOT MANAGED\n# "+line+".") ||
		!strings.Contains(tf, `resource "gitlab_project_job_token_scopes" "infra_tfstate"`) {
		t.Errorf("terraform must manage only the known project:\n%s", tf)
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	path := scriptFile(t, p)
	if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	out, _, code := runScript(t, path, nil)
	if code != 0 || !strings.Contains(out, "would add project apps/web: POST api/v4/projects/201/job_token_scope/allowlist") {
		t.Errorf("dry run (exit %d) must still show the calls:\n%s", code, out)
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	var mu sync.Mutex
	var calls []string
	reads := liveReads(t, unknownInventory())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reads(w, r) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, r.Method+" "+r.URL.Path)
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	out, errOut, code := runScript(t, path, []string{"GITLAB_TOKEN=glpat-test-token-0123456789", "GITLAB_URL=" + srv.URL}, "--execute")
	if code != 1 || !strings.Contains(errOut, "REFUSED libs/jslib: "+line) {
		t.Errorf("--execute must refuse the unknown project and fail (exit %d):\n%s\n%s", code, out, errOut)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, c := range calls {
		if strings.Contains(c, "/projects/201/") {
			t.Errorf("a call was made for the unknown project: %s", c)
		}
	}
	if !slices.Contains(calls, "PATCH /api/v4/projects/401/job_token_scope") {
		t.Errorf("the known project's calls must still run: %v", calls)
	}
}

// An open exception is listed in the JSON with its terms.
func TestPlanJSONOpen(t *testing.T) {
	inv := &inventory.Inventory{Version: 1, GitLabVersion: "18.5", Projects: []*inventory.Project{
		{Path: "apps/docs", ID: 302, JobTokenScope: &inventory.JobTokenScope{}}, {Path: "apps/web", ID: 301, JobTokenScope: &inventory.JobTokenScope{}}}}
	ix := inventory.NewIndex(inv)
	tf, ds := trust.Load("trust.yaml", []byte("version: 1\nopen:\n  - {project: apps/docs, reason: public docs, owner: \"@docs\", expires: 2027-03-31}\n"),
		trust.LoadOptions{Index: ix, Now: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	var buf bytes.Buffer
	if err := Plan(&buf, plan.Compute(&graph.Graph{}, ix, tf, plan.Options{}), FormatJSON, testHints); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, `"open": {
        "reason": "public docs",
        "owner": "@docs",
        "expires": "2027-03-31",
        "line": 3
      }`) || strings.Count(out, `"open"`) != 1 || !strings.Contains(out, `"project": "apps/web",
      "enforce": true`) {
		t.Errorf("json:\n%s", out)
	}
}
