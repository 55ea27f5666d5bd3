package apply_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/apply"
	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/orggen"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/planfile"
)

// BenchmarkApply1000Entries applies a plan of 1,000 new entries over 500
// projects (two each, one of them with fine-grained policies, and
// enforcement) to the simulator at 20 ms latency and 2,000 requests per
// minute, as a self-managed GitLab's Rack::Attack limits an API user
// (https://docs.gitlab.com/administration/settings/user_and_ip_rate_limits/).
// It reports the requests made, the 429s received and the wall time.
// With that limit a run takes about a minute:
//
//	go test ./internal/apply -run '^$' -bench Apply1000 -benchtime 1x
func BenchmarkApply1000Entries(b *testing.B) {
	dir := b.TempDir()
	if _, err := orggen.Write(dir, orggen.Options{Projects: 520, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		off := false
		s, err := sim.Load(dir, sim.Options{Latency: 20 * time.Millisecond, RateLimit: 2000, RateLimitPeriod: time.Minute, InstanceEnforcesAllowlist: &off})
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(s)
		doc := benchPlan(b, s.Export(), 500)
		c, err := gitlab.New(gitlab.Options{URL: srv.URL, Token: "bench-token", Concurrency: 1, Timeout: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		s.ResetStats()
		b.StartTimer()
		start := time.Now()
		res, err := apply.Run(context.Background(), doc, apply.Live{Client: c}, apply.Options{Write: true})
		wall := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		st := s.Stats()
		b.ReportMetric(float64(c.Requests()), "requests")
		b.ReportMetric(float64(st.RateLimited+st.Faults[sim.Fault429]), "429s")
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(res.Count(apply.Done)), "calls")
		srv.Close()
		_ = s.Close()
		b.StartTimer()
	}
}

// benchPlan builds the plan by hand from the org: n projects not yet
// enforced each add the next two projects (the first with read_jobs) and
// enforce; their current entries are kept, so the plan is not stale.
func benchPlan(b testing.TB, inv *inventory.Inventory, n int) *planfile.Document {
	doc := &planfile.Document{Version: planfile.Version, Pruned: true}
	ps := inv.Projects
	for i := 0; i < len(ps) && len(doc.Projects) < n; i++ {
		p := ps[i]
		if p.JobTokenScope == nil || p.JobTokenScope.InboundEnabled {
			continue
		}
		pp := planfile.Project{Project: p.Path, ID: p.ID, Enforce: true}
		on := map[string]bool{}
		for _, e := range p.JobTokenScope.Allowlist.Projects {
			on[e.Path] = true
			pp.Keep = append(pp.Keep, planfile.Entry{Type: plan.ProjectEntry, Path: e.Path, CurrentPolicies: planfile.Policies(e.Policies)})
		}
		for _, e := range p.JobTokenScope.Allowlist.Groups {
			pp.Keep = append(pp.Keep, planfile.Entry{Type: plan.GroupEntry, Path: e.Path, CurrentPolicies: planfile.Policies(e.Policies)})
		}
		added := 0
		for j := 1; added < 2 && j < len(ps); j++ {
			t := ps[(i+j)%len(ps)]
			if on[t.Path] || t.Path == p.Path {
				continue
			}
			added++
			var pol []string
			if added == 1 {
				pol = []string{"read_jobs"}
			}
			tgt := &planfile.Target{Type: plan.ProjectEntry, Path: t.Path, ID: t.ID}
			pp.Add = append(pp.Add, planfile.Entry{Type: plan.ProjectEntry, Path: t.Path, Policies: pol})
			pp.Calls = append(pp.Calls, planfile.Call{Kind: plan.CallAddProject, Method: "POST",
				Path: fmt.Sprintf("api/v4/projects/%d/job_token_scope/allowlist", p.ID), Params: map[string]any{"target_project_id": t.ID},
				Target: tgt, Done: []string{"already in the job token allowlist"}})
			if pol != nil {
				pp.Calls = append(pp.Calls, planfile.Call{Kind: plan.CallUpdatePolicies, Method: "POST", Path: "api/graphql",
					Mutation: "ciJobTokenScopeUpdatePolicies", Target: tgt, Policies: planfile.Policies(pol),
					Params: map[string]any{"projectPath": p.Path, "targetPath": t.Path}})
			}
		}
		pp.Calls = append(pp.Calls, planfile.Call{Kind: plan.CallEnforce, Method: "PATCH",
			Path: fmt.Sprintf("api/v4/projects/%d/job_token_scope", p.ID), Params: map[string]any{"enabled": true}})
		doc.Projects = append(doc.Projects, pp)
	}
	if len(doc.Projects) < n {
		b.Fatalf("only %d projects to plan", len(doc.Projects))
	}
	return doc
}
