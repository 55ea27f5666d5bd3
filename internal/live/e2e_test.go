package live_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/live"
)

const token = "glpat-e2e-Tok3nValue-0123456789"

func acme(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", "acme")
}

// startSim serves dir on 127.0.0.1 and returns the simulator and its URL.
func startSim(t testing.TB, dir string, o sim.Options) (*sim.Server, string) {
	t.Helper()
	if o.Tokens == nil {
		o.Tokens = []sim.Token{{Value: token, Role: sim.RoleOwner, Admin: true}}
	}
	s, err := sim.Load(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func client(t testing.TB, url string, o gitlab.Options) *gitlab.Client {
	t.Helper()
	o.URL, o.Token = url, token
	if o.RetryWaitMin == 0 {
		o.RetryWaitMin, o.RetryWaitMax = 5*time.Millisecond, 200*time.Millisecond
	}
	c, err := gitlab.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var acmeGroups = []string{"platform", "libs", "apps", "infra", "data", "sandbox"}

func snapshot(t testing.TB, url string, co gitlab.Options, so live.Options) *live.Result {
	t.Helper()
	if so.Groups == nil {
		so.Groups = acmeGroups
	}
	res, err := live.Snapshot(context.Background(), client(t, url, co), so)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// canonical renders an inventory for comparison, without what legitimately
// differs between the source and a snapshot of it served by the simulator.
func canonical(t testing.TB, inv *inventory.Inventory) string {
	t.Helper()
	c := inv.Canonical()
	data, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// withoutGraphQLOnly drops what only GraphQL shows (fine-grained policies,
// autopopulation, the authentication log): the REST walk cannot see it.
func withoutGraphQLOnly(inv *inventory.Inventory) *inventory.Inventory {
	c := inv.Canonical()
	for _, p := range c.Projects {
		p.AuthLog = nil
		if p.JobTokenScope != nil {
			for _, l := range []*[]inventory.Entry{&p.JobTokenScope.Allowlist.Projects, &p.JobTokenScope.Allowlist.Groups} {
				for i := range *l {
					(*l)[i].Policies, (*l)[i].Autopopulated = nil, false
				}
			}
		}
	}
	return c
}

// The snapshot of a simulated org is that org: the inventory the simulator
// holds, and every file discovery needs, byte for byte; batched over
// GraphQL, and one request at a time over REST (GitLab before 16.6).
func TestSnapshotEqualsSource(t *testing.T) {
	for _, mode := range []struct {
		name    string
		version string
		rest    bool
	}{{"graphql", "18.5", false}, {"rest", "16.4", false}, {"forced-rest", "18.5", true}} {
		t.Run(mode.name, func(t *testing.T) {
			testSnapshotEqualsSource(t, mode.version, mode.rest)
		})
	}
}

func testSnapshotEqualsSource(t *testing.T, version string, rest bool) {
	dir := acme(t)
	s, url := startSim(t, dir, sim.Options{Version: version})
	res := snapshot(t, url, gitlab.Options{}, live.Options{REST: rest, IncludeArchived: true})
	want := s.Export()
	if rest || version == "16.4" {
		want = withoutGraphQLOnly(want)
	}
	if version == "16.4" {
		want.InstanceEnforcesAllowlist = nil // the admin setting appeared in 17.6
	}
	if got, want := canonical(t, res.Inventory), canonical(t, want); got != want {
		t.Errorf("inventory differs from the source:\n--- snapshot\n%s\n--- source\n%s", got, want)
	}
	src, _, err := inventory.Load(dir, inventory.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	n := 0
	for p, files := range res.Files {
		for name, data := range files {
			n++
			want, err := src.ReadFile(p, name)
			if err != nil || !bytes.Equal(data, want) {
				t.Errorf("%s/%s: fetched %q; source has %q (%v)", p, name, data, want, err)
			}
		}
	}
	for _, f := range []string{
		"apps/web/.gitlab-ci.yml", "apps/web/ci/deploy.yml", "apps/web/.npmrc", "apps/web/Dockerfile",
		"apps/api/.gitmodules", "apps/api/docker/Dockerfile", "apps/api/ci_settings.xml", "apps/api/pom.xml",
		"platform/ci-templates/templates/build.yml", "platform/ci-templates/templates/node-test/template.yml",
		"data/etl/requirements.txt", "infra/charts/charts/web/Chart.yaml",
	} {
		p, name := splitProjectFile(src, f)
		if _, ok := res.Files[p][name]; !ok {
			t.Errorf("%s not fetched", f)
		}
	}
	t.Logf("%d projects, %d files, %d requests", len(res.Inventory.Projects), n, res.Requests)
}

// Archived projects are skipped unless asked for: their pipelines do not run.
func TestArchivedSkipped(t *testing.T) {
	_, url := startSim(t, acme(t), sim.Options{Version: "16.4"})
	res := snapshot(t, url, gitlab.Options{}, live.Options{})
	if p := inventory.NewIndex(res.Inventory).Project("apps/legacy-portal"); p != nil {
		t.Errorf("archived project listed: %+v", p)
	}
}

func splitProjectFile(src *inventory.Snapshot, f string) (string, string) {
	for i := len(f) - 1; i > 0; i-- {
		if f[i] == '/' && src.Index.Project(f[:i]) != nil {
			return f[:i], f[i+1:]
		}
	}
	return "", f
}

// Allowlists need Maintainer: a Developer's snapshot lists those projects
// with unknown settings and one warning each, and does not fail.
func TestPermissionGapsPerProject(t *testing.T) {
	_, url := startSim(t, acme(t), sim.Options{Tokens: []sim.Token{{Value: token, Role: sim.RoleDeveloper,
		Roles: map[string]sim.Role{"platform": sim.RoleMaintainer}}}})
	res := snapshot(t, url, gitlab.Options{}, live.Options{})
	gaps := map[string]bool{}
	for _, d := range res.Diags {
		if strings.Contains(d.Summary, "job token settings") {
			if !strings.Contains(d.Detail, "Maintainer") || d.Severity != diag.Warning {
				t.Errorf("gap diagnostic without advice: %s", d)
			}
			gaps[d.Project] = true
		}
	}
	for _, p := range res.Inventory.Projects {
		platform := strings.HasPrefix(p.Path, "platform/")
		if platform && (p.JobTokenScope == nil || gaps[p.Path]) {
			t.Errorf("%s: Maintainer, yet settings unknown", p.Path)
		}
		if !platform && (p.JobTokenScope != nil || !gaps[p.Path]) {
			t.Errorf("%s: Developer, yet settings read (%v) or no gap reported", p.Path, p.JobTokenScope)
		}
	}
	if len(res.Files["apps/web"]) == 0 {
		t.Error("a Developer's snapshot lost the repository files")
	}
}

// GitLab's rate limit answers 429 with Retry-After; the client waits as
// told and ends with the same snapshot.
func TestRateLimitRetryAfterHonoured(t *testing.T) {
	groups := []string{"platform"}
	_, clean := startSim(t, acme(t), sim.Options{})
	want := snapshot(t, clean, gitlab.Options{}, live.Options{Groups: groups})
	s, url := startSim(t, acme(t), sim.Options{RateLimit: 4, RateLimitPeriod: time.Second})
	start := time.Now()
	got := snapshot(t, url, gitlab.Options{Concurrency: 4}, live.Options{Groups: groups})
	if s.Stats().RateLimited == 0 {
		t.Fatal("the rate limit never applied; the test proves nothing")
	}
	if canonical(t, got.Inventory) != canonical(t, want.Inventory) || !sameFiles(got.Files, want.Files) {
		t.Error("rate-limited snapshot differs from the clean one")
	}
	// At most 4 requests per one-second window: the run must have spanned
	// at least (requests/4 - 1) windows.
	minWait := time.Duration(got.Requests/4-1) * time.Second
	if el := time.Since(start); el < minWait {
		t.Errorf("%d requests in %v under a 10/500ms limit: Retry-After not honoured", got.Requests, el)
	}
	t.Logf("%d requests, %d throttled, %v", got.Requests, s.Stats().RateLimited, time.Since(start))
}

func sameFiles(a, b map[string]map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for p, fa := range a {
		fb := b[p]
		if len(fa) != len(fb) {
			return false
		}
		for n, d := range fa {
			if !bytes.Equal(d, fb[n]) {
				return false
			}
		}
	}
	return true
}

// 20% of requests fail (429, 5xx, slow, dropped): the snapshot is the
// same as a clean run's.
func TestFaultInjectionSameSnapshot(t *testing.T) {
	_, clean := startSim(t, acme(t), sim.Options{})
	want := snapshot(t, clean, gitlab.Options{}, live.Options{})
	s, url := startSim(t, acme(t), sim.Options{FailRate: 0.2, Seed: 7, SlowDelay: 300 * time.Millisecond, FaultRetryAfter: 10 * time.Millisecond})
	got := snapshot(t, url, gitlab.Options{Timeout: 200 * time.Millisecond, RetryMax: 12}, live.Options{})
	st := s.Stats()
	faults := 0
	for _, n := range st.Faults {
		faults += n
	}
	if faults == 0 {
		t.Fatal("no fault injected; the test proves nothing")
	}
	if canonical(t, got.Inventory) != canonical(t, want.Inventory) || !sameFiles(got.Files, want.Files) {
		t.Errorf("snapshot under faults differs from the clean one")
	}
	t.Logf("%d requests, faults %v", st.Requests, st.Faults)
}

// Older GitLab: no projects(fullPaths:) before 16.6, no authentication
// log before 17.6, allowlist entries GraphQL can show with the minimal
// target types only from 17.9, autopopulated from 17.10, policies in force
// from 18.3. The client picks
// what each version has (the simulator refuses fields a version lacks) and
// still reads settings, allowlists and files.
func TestOlderVersions(t *testing.T) {
	for _, tc := range []struct {
		version           string
		policies, authLog bool
		operation         string // the GraphQL document that reads job token data, "" for REST only
	}{
		{"16.4", false, false, ""},
		{"17.2", false, false, ""},
		{"17.6", false, true, "AuthLogs"},
		{"17.8", false, true, "AuthLogs"},
		// Policies exist in the schema from 17.5 but apply only once the
		// add_policies_to_ci_job_token flag is on (GA 18.3).
		{"17.9", false, true, "JobTokenSettings179"},
		{"17.10", false, true, "JobTokenSettings"},
		{"18.5", true, true, "JobTokenSettings"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			s, url := startSim(t, acme(t), sim.Options{Version: tc.version})
			res := snapshot(t, url, gitlab.Options{}, live.Options{})
			st := s.Stats()
			rest := st.ByRoute["GET /api/v4/projects/:id/job_token_scope/allowlist"]
			if tc.operation != "" && st.GraphQLOperations[tc.operation] == 0 || tc.operation == "JobTokenSettings" && rest > 0 {
				t.Errorf("job token data read by %v and %d REST allowlist requests; want %q", st.GraphQLOperations, rest, tc.operation)
			}
			if res.Inventory.GitLabVersion != tc.version {
				t.Errorf("version %q", res.Inventory.GitLabVersion)
			}
			ix := inventory.NewIndex(res.Inventory)
			p := ix.Project("platform/build-scripts")
			if p == nil || p.JobTokenScope == nil || !p.JobTokenScope.InboundEnabled || len(p.JobTokenScope.Allowlist.Projects) == 0 {
				t.Errorf("allowlist not read: %+v", p)
			}
			if _, ok := res.Files["apps/web"]["ci/deploy.yml"]; !ok {
				t.Error("include:local not fetched")
			}
			var policies, logs int
			for _, p := range res.Inventory.Projects {
				logs += len(p.AuthLog)
				if p.JobTokenScope != nil {
					for _, e := range p.JobTokenScope.Allowlist.Projects {
						policies += len(e.Policies)
					}
				}
			}
			if (policies > 0) != tc.policies || (logs > 0) != tc.authLog {
				t.Errorf("policies %d, auth log entries %d; want policies %v, log %v", policies, logs, tc.policies, tc.authLog)
			}
		})
	}
}

func TestCancelStops(t *testing.T) {
	_, url := startSim(t, acme(t), sim.Options{Latency: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := live.Snapshot(ctx, client(t, url, gitlab.Options{}), live.Options{Groups: acmeGroups})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v; want the context's", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %v to stop", time.Since(start))
	}
}

// Wrong tokens, unknown groups, failed requests: the token never appears
// in an error.
func TestErrorsNeverCarryTheToken(t *testing.T) {
	_, url := startSim(t, acme(t), sim.Options{Tokens: []sim.Token{{Value: "another-token-entirely", Role: sim.RoleOwner}}})
	_, err := live.Snapshot(context.Background(), client(t, url, gitlab.Options{}), live.Options{Groups: acmeGroups})
	if err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("err = %v", err)
	}
	_, url = startSim(t, acme(t), sim.Options{})
	_, err = live.Snapshot(context.Background(), client(t, url, gitlab.Options{}), live.Options{Groups: []string{"no/such/group"}})
	if err == nil || !strings.Contains(err.Error(), "no/such/group") || strings.Contains(err.Error(), token) {
		t.Errorf("err = %v", err)
	}
}

// Connections longer than a page are followed: a repository of 250 files
// (three tree pages; a Dockerfile on the last) and an authentication log of
// 45 origins (the first page holds 20).
func TestPagesFollowed(t *testing.T) {
	dir := t.TempDir()
	var inv strings.Builder
	inv.WriteString("version: 1\ngitlab_version: \"18.5\"\nprojects:\n  - path: big/repo\n    id: 1\n    default_branch: main\n    job_token_scope:\n      inbound_enabled: true\n      allowlist: {}\n    auth_log:\n")
	for i := range 45 {
		fmt.Fprintf(&inv, "      - {origin: big/o%02d, last_authorized_at: 2026-11-01T10:%02d:00Z}\n", i, i)
	}
	write := func(name, content string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("inventory.yaml", inv.String())
	write("big/repo/.gitlab-ci.yml", "build:\n  script: [make]\n")
	for i := range 248 {
		write(fmt.Sprintf("big/repo/src/f%03d.go", i), "package src\n")
	}
	write("big/repo/zz/Dockerfile", "FROM alpine\n")
	s, url := startSim(t, dir, sim.Options{})
	res := snapshot(t, url, gitlab.Options{}, live.Options{Groups: []string{"big"}})
	p := inventory.NewIndex(res.Inventory).Project("big/repo")
	if p == nil || len(p.AuthLog) != 45 {
		t.Fatalf("auth log: %+v", p)
	}
	if _, ok := res.Files["big/repo"]["zz/Dockerfile"]; !ok {
		t.Error("a Dockerfile on the last tree page was not fetched")
	}
	if len(res.Files["big/repo"]) != 2 {
		t.Errorf("fetched %d files; want the CI configuration and the Dockerfile only", len(res.Files["big/repo"]))
	}
	ops := s.Stats().GraphQLOperations
	if ops["ProjectTreePage"] != 2 || ops["AuthLogPage"] != 1 {
		t.Errorf("operations %v; want 2 tree pages and 1 auth log page after the first", ops)
	}
}

// A snapshot of one group reads only that group's repositories: an
// include:project of another group's project is left to the scan, which
// says it is not in the snapshot (ciconfig asks HasFiles before reading).
func TestOnlyTheGroupsAreRead(t *testing.T) {
	_, url := startSim(t, acme(t), sim.Options{})
	res := snapshot(t, url, gitlab.Options{}, live.Options{Groups: []string{"apps"}})
	for p := range res.Files {
		if !strings.HasPrefix(p, "apps/") {
			t.Errorf("files of %s, outside the group, were read", p)
		}
	}
	if _, ok := res.Files["apps/web"]["ci/deploy.yml"]; !ok {
		t.Error("include:local of apps/web not read")
	}
}
