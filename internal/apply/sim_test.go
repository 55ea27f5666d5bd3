package apply_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/apply"
	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
	"github.com/tokenscope/tokenscope/internal/orggen"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/planfile"
)

// Against the simulator: libs/jslib (201) adds apps/web (301) with
// read_jobs and is enforced; then an administrator turns on the instance
// setting, and the rollback removes the entry but cannot turn the
// project's allowlist off: GitLab's 400 is reported with the setting named.
func TestRollbackUnderInstanceEnforcement(t *testing.T) {
	off := false
	s, err := sim.Load(filepath.Join("..", "..", "examples", "acme"), sim.Options{InstanceEnforcesAllowlist: &off})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, err := gitlab.New(gitlab.Options{URL: srv.URL, Token: "tok-admin-0123456789", Concurrency: 1, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	tgt := &planfile.Target{Type: plan.ProjectEntry, Path: "apps/web", ID: 301}
	doc := &planfile.Document{Version: planfile.Version, Projects: []planfile.Project{{Project: "libs/jslib", ID: 201, Enforce: true,
		Add: []planfile.Entry{{Type: plan.ProjectEntry, Path: "apps/web", Policies: []string{"read_jobs"}}},
		Calls: []planfile.Call{
			{Kind: plan.CallAddProject, Method: "POST", Path: "api/v4/projects/201/job_token_scope/allowlist", Target: tgt},
			{Kind: plan.CallUpdatePolicies, Method: "POST", Path: "api/graphql", Target: tgt, Policies: planfile.Policies([]string{"read_jobs"})},
			{Kind: plan.CallEnforce, Method: "PATCH", Path: "api/v4/projects/201/job_token_scope"},
		}}}}
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	ctx := context.Background()
	if _, err := apply.Run(ctx, doc, apply.Live{Client: c}, apply.Options{Write: true, Journal: journal}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("PUT", srv.URL+"/api/v4/application/settings?enforce_ci_inbound_job_token_scope_enabled=true", nil)
	req.Header.Set("PRIVATE-TOKEN", "tok-admin-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT settings: %v %v", resp, err)
	}
	resp.Body.Close()
	lines, err := apply.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	res, err := apply.Rollback(ctx, lines, apply.Live{Client: c}, apply.RollbackOptions{Write: true})
	if !apply.IsInstanceEnforced(err) || res.Count(apply.Done) != 2 || res.Count(apply.Failed) != 1 {
		t.Fatalf("err %v; done %d, failed %d", err, res.Count(apply.Done), res.Count(apply.Failed))
	}
	if !strings.Contains(err.Error(), `"Enforce job token allowlist"`) || !strings.Contains(err.Error(), "because it is enforced for the instance") {
		t.Errorf("message: %v", err)
	}
	var fe *apply.RollbackFailedError
	if !errors.As(err, &fe) || !fe.Partial {
		t.Errorf("not partial: %v", err)
	}
	for _, p := range s.Export().Projects {
		if p.Path == "libs/jslib" {
			for _, e := range p.JobTokenScope.Allowlist.Projects {
				if e.Path == "apps/web" {
					t.Errorf("apps/web still on the allowlist")
				}
			}
		}
	}
}

// Under 20% injected faults (429, 5xx, slow and dropped answers) and a
// tight rate limit, apply converges: every run resumes the journal of
// the one before, and within a few runs the live state is the plan's (a
// dry run finds nothing to make).
func TestApplyConvergesUnderFaultsAndRateLimit(t *testing.T) {
	dir := t.TempDir()
	if _, err := orggen.Write(dir, orggen.Options{Projects: 20, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	off := false
	s, err := sim.Load(dir, sim.Options{FailRate: 0.2, Seed: 3, FaultRetryAfter: 10 * time.Millisecond, SlowDelay: 20 * time.Millisecond,
		RateLimit: 5, RateLimitPeriod: 500 * time.Millisecond, InstanceEnforcesAllowlist: &off})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	doc := benchPlan(t, s.Export(), 8)
	c, err := gitlab.New(gitlab.Options{URL: srv.URL, Token: "tok", Concurrency: 1, Timeout: time.Second,
		RetryWaitMin: 5 * time.Millisecond, RetryWaitMax: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	ctx := context.Background()
	o := apply.Options{Write: true, Journal: journal, PlanDigest: "sha256:p"}
	runs := 0
	for ; runs < 5; runs++ {
		if runs > 0 {
			lines, err := apply.ReadJournal(journal)
			if err != nil {
				t.Fatal(err)
			}
			if o.Resume, err = apply.Resumed(lines, "sha256:p"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err = apply.Run(ctx, doc, apply.Live{Client: c}, o); err == nil {
			break
		}
		t.Logf("run %d: %v", runs+1, err)
	}
	if err != nil {
		t.Fatalf("not converged after %d runs: %v", runs, err)
	}
	st := s.Stats()
	faults := 0
	for _, n := range st.Faults {
		faults += n
	}
	if faults == 0 || st.RateLimited == 0 {
		t.Errorf("faults %v, rate limited %d: the test tests nothing", st.Faults, st.RateLimited)
	}
	res, err := apply.Run(ctx, doc, apply.Live{Client: c}, apply.Options{})
	if err != nil || res.Count(apply.Planned) != 0 || res.Count(apply.Already) != len(res.Steps) {
		t.Errorf("after: err %v, planned %d of %d", err, res.Count(apply.Planned), len(res.Steps))
	}
	t.Logf("%d run(s), %d requests, faults %v, %d rate limited", runs+1, st.Requests, st.Faults, st.RateLimited)
}
