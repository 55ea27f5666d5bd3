package rollout_test

import (
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/planfile"
	"github.com/tokenscope/tokenscope/internal/rollout"
	"github.com/tokenscope/tokenscope/internal/trust"
	"github.com/tokenscope/tokenscope/internal/use"
)

func TestDecide(t *testing.T) {
	list := func(enforced bool, vis string, projects, groups []inventory.Entry) rollout.Allowlist {
		a := rollout.Allowlist{Enforced: enforced, Visibility: vis, Projects: map[string]inventory.Entry{}, Groups: map[string]inventory.Entry{}}
		for _, e := range projects {
			a.Projects[e.Path] = e
		}
		for _, e := range groups {
			a.Groups[e.Path] = e
		}
		return a
	}
	web := []inventory.Entry{{Path: "apps/web"}}
	webJobs := []inventory.Entry{{Path: "apps/web", Policies: []string{"read_jobs"}}}
	for _, c := range []struct {
		name     string
		a        rollout.Allowlist
		caller   string
		kind     access.Kind
		req      rollout.Request
		policies bool
		want     rollout.Outcome
		reason   rollout.Reason
	}{
		{"legacy: not enforced", list(false, "private", nil, nil), "apps/web", access.PackagesRead, rollout.API, true, rollout.Allowed, rollout.NotEnforced},
		{"not on the list", list(true, "private", nil, nil), "apps/web", access.RepositoryRead, rollout.Git, true, rollout.Refused, rollout.NotAllowlisted},
		{"project entry", list(true, "private", web, nil), "apps/web", access.RepositoryRead, rollout.Git, true, rollout.Allowed, rollout.Allowlisted},
		{"ancestor group entry", list(true, "private", nil, []inventory.Entry{{Path: "apps"}}), "apps/sub/web", access.PackagesRead, rollout.API, true, rollout.Allowed, rollout.Allowlisted},
		{"other group", list(true, "private", nil, []inventory.Entry{{Path: "app"}}), "apps/web", access.PackagesRead, rollout.API, true, rollout.Refused, rollout.NotAllowlisted},
		{"policy present", list(true, "private", webJobs, nil), "apps/web", access.ArtifactsRead, rollout.API, true, rollout.Allowed, rollout.Allowlisted},
		{"policy missing", list(true, "private", webJobs, nil), "apps/web", access.PackagesRead, rollout.API, true, rollout.Refused, rollout.PolicyMissing},
		{"policies not honoured", list(true, "private", webJobs, nil), "apps/web", access.PackagesRead, rollout.API, false, rollout.Allowed, rollout.Allowlisted},
		{"git ignores policies", list(true, "private", webJobs, nil), "apps/web", access.RepositoryRead, rollout.Git, true, rollout.Allowed, rollout.Allowlisted},
		{"endpoint without a policy, fine-grained entry", list(true, "private", webJobs, nil), "apps/web", access.APIRead, rollout.API, true, rollout.Refused, rollout.PolicyMissing},
		{"internal: git open to all", list(true, "internal", nil, nil), "apps/web", access.RepositoryRead, rollout.Git, true, rollout.Allowed, rollout.OpenVisibility},
		{"internal: API needs an entry under policies", list(true, "internal", nil, nil), "apps/web", access.PackagesRead, rollout.API, true, rollout.Refused, rollout.NotAllowlisted},
		{"public: API open before policies", list(true, "public", nil, nil), "apps/web", access.PackagesRead, rollout.API, false, rollout.Allowed, rollout.OpenVisibility},
		{"never: registry push", list(false, "private", web, nil), "apps/web", access.ContainerWrite, rollout.Registry, true, rollout.Refused, rollout.NeverAllowed},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := rollout.Decide(c.a, c.caller, c.kind, c.req, c.policies)
			if d.Outcome != c.want || d.Reason != c.reason {
				t.Errorf("Decide = %+v, want %s (%s)", d, c.want, c.reason)
			}
		})
	}
}

func TestRequestOf(t *testing.T) {
	for _, c := range []struct {
		kind   access.Kind
		detail string
		want   rollout.Request
	}{
		{access.RepositoryRead, "git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@host/a/b.git", rollout.Git},
		{access.RepositoryRead, "curl ${CI_API_V4_URL}/projects/1/repository/files/x/raw", rollout.API},
		{access.ContainerRead, "FROM registry/a/b", rollout.Registry},
		{access.PipelineTrigger, "", rollout.Trigger},
		{access.PackagesRead, "", rollout.API},
		{"", "job token authentication log", rollout.Git},
	} {
		if got := rollout.RequestOf(use.Use{Access: c.kind, Evidence: use.Evidence{Detail: c.detail}}); got != c.want {
			t.Errorf("RequestOf(%s, %q) = %s, want %s", c.kind, c.detail, got, c.want)
		}
	}
}

// A small org: libs/lib is called by apps/a (approved), apps/b (not
// approved), apps/c (denied) and, in the authentication log only, by
// apps/old (last seen long ago) and apps/a.
func smallOrg(instance *bool) (*graph.Graph, *inventory.Index, *trust.File) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	inv := &inventory.Inventory{Version: 1, GitLabVersion: "18.5", InstanceEnforcesAllowlist: instance, Projects: []*inventory.Project{
		{Path: "apps/a"}, {Path: "apps/b"}, {Path: "apps/c"}, {Path: "apps/old"}, {Path: "apps/docs"},
		{Path: "libs/lib", Visibility: "private", JobTokenScope: &inventory.JobTokenScope{}, AuthLog: []inventory.AuthLogEntry{
			{Origin: "apps/a", LastAuthorizedAt: day(20)}, {Origin: "apps/old", LastAuthorizedAt: day(1)}}},
	}}
	ix := inventory.NewIndex(inv)
	ci := func(caller string) graph.Edge {
		return graph.Edge{Caller: caller, Callee: "libs/lib", Access: []access.Kind{access.PackagesRead}, Uses: []use.Use{{
			Origin: use.CIConfig, Access: access.PackagesRead, Caller: caller, Callee: "libs/lib",
			Evidence: use.Evidence{Pos: loc.Pos{Project: caller, File: ".gitlab-ci.yml", Line: 3}, Job: "build", Detail: "npm install"}}}}
	}
	g := &graph.Graph{Edges: []graph.Edge{ci("apps/a"), ci("apps/b"), ci("apps/c")}}
	tf := &trust.File{Name: "trust.yaml",
		Edges: []trust.Edge{{Caller: "apps/a", Callee: "libs/lib", Access: []access.Kind{access.PackagesRead}, Line: 3}},
		Deny:  []trust.Deny{{Callee: "libs/lib", Callers: []string{"apps/c"}, Line: 9}},
		Open:  []trust.Open{{Project: "apps/docs", Reason: "docs", Owner: "@docs", Line: 12}},
		Waves: []trust.Wave{{Name: "libs", Groups: []string{"libs"}, Line: 15}, {Name: "apps", Groups: []string{"apps"}, Line: 16}}}
	return g, ix, tf
}

func TestComputeCurrent(t *testing.T) {
	g, ix, tf := smallOrg(nil)
	st := rollout.Compute(g, ix, tf, rollout.Options{Since: time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)})
	if len(st.Waves) != 3 || st.Waves[2].Name != rollout.OrgWide || !st.Waves[2].OrgWide {
		t.Fatalf("waves: %+v", st.Waves)
	}
	libs, _ := st.Wave("libs")
	if libs.Verdict != rollout.Blocked || len(libs.Projects) != 1 {
		t.Fatalf("libs wave: %+v", libs)
	}
	want := map[string]rollout.CallerStatus{"apps/a": rollout.Approved, "apps/b": rollout.Unapproved, "apps/c": rollout.Denied}
	if len(libs.Blocked) != len(want) {
		t.Errorf("blocked: %+v", libs.Blocked)
	}
	for _, b := range libs.Blocked {
		if want[b.Caller] != b.Status {
			t.Errorf("%s: status %s, want %s", b.Caller, b.Status, want[b.Caller])
		}
	}
	p := libs.Projects[0]
	if len(p.AuthLog) != 2 || !p.AuthLog[0].InWindow || p.AuthLog[1].InWindow {
		t.Errorf("auth log window: %+v", p.AuthLog)
	}
	for _, c := range p.Callers {
		if c.Caller == "apps/old" {
			t.Errorf("apps/old was last seen before --since: not a caller in use")
		}
		if c.Caller == "apps/a" && len(c.Checks) != 2 {
			t.Errorf("apps/a: the CI use and the auth-log row, got %+v", c.Checks)
		}
	}
	apps, _ := st.Wave("apps")
	for _, p := range apps.Projects {
		if p.Path == "apps/docs" && (p.Enforce || p.Open == nil) {
			t.Errorf("apps/docs: the open exception keeps it off in its wave: %+v", p)
		}
	}
	for _, p := range st.Waves[2].Projects {
		if p.Path == "apps/docs" && !p.Enforce {
			t.Errorf("org-wide: the instance setting enforces apps/docs despite its exception")
		}
	}
	if !st.Breaks() {
		t.Error("Breaks: want true")
	}
}

func TestComputePlanned(t *testing.T) {
	g, ix, tf := smallOrg(nil)
	doc := &planfile.Document{Version: 1, Projects: []planfile.Project{{Project: "libs/lib", Enforce: true,
		Add: []planfile.Entry{{Type: "project", Path: "apps/a", Policies: []string{"read_packages"}}}}}}
	st := rollout.Compute(g, ix, tf, rollout.Options{Plan: doc, Since: time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)})
	libs, _ := st.Wave("libs")
	if len(libs.Blocked) != 2 || libs.Projects[0].PlannedEntries != 1 || libs.Projects[0].Entries != 0 {
		t.Fatalf("planned libs wave: %+v", libs)
	}
	for _, b := range libs.Blocked {
		if b.Caller == "apps/a" {
			t.Errorf("apps/a is added by the plan, with read_packages: not blocked")
		}
	}
	// A plan whose entry lacks the policy: refused for the policy.
	doc.Projects[0].Add[0].Policies = []string{"read_jobs"}
	st = rollout.Compute(g, ix, tf, rollout.Options{Plan: doc})
	libs, _ = st.Wave("libs")
	found := false
	for _, c := range libs.Projects[0].Callers {
		if c.Caller == "apps/a" {
			found = true
			if c.Outcome != rollout.Refused || c.Checks[0].Decision.Reason != rollout.PolicyMissing || c.Checks[0].Decision.Policy != "read_packages" {
				t.Errorf("apps/a with read_jobs only: %+v", c)
			}
		}
	}
	if !found {
		t.Error("apps/a not listed")
	}
}

func TestComputeInstanceEnforced(t *testing.T) {
	on := true
	g, ix, tf := smallOrg(&on)
	st := rollout.Compute(g, ix, tf, rollout.Options{})
	org := st.Waves[len(st.Waves)-1]
	if org.Enforced != len(org.Projects) {
		t.Errorf("the instance setting enforces every project: %d of %d", org.Enforced, len(org.Projects))
	}
	apps, _ := st.Wave("apps")
	for _, p := range apps.Projects {
		if p.Path == "apps/docs" && !p.Enforce {
			t.Errorf("an open exception cannot hold under the instance setting")
		}
	}
}
