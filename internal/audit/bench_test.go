package audit_test

import (
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/audit"
	"github.com/tokenscope/tokenscope/internal/capability"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/report"
	"github.com/tokenscope/tokenscope/internal/trust"
)

// driftedOrg builds an org of n projects in 100 groups, every project but
// the first calling four of 500 library projects (4(n-1) edges, about
// 40,000 for n = 10,000). The trust file approves nine edges in ten, with
// an owner on most; the allowlists hold most approved entries (some with
// default permissions: wider), miss some, hold a few unapproved ones, and
// nine libraries in ten enforce theirs: every kind of drift at scale.
func driftedOrg(n int) (*graph.Graph, *inventory.Index, *trust.File) {
	r := rand.New(rand.NewPCG(3, 4))
	inv := &inventory.Inventory{Version: 1, GitLabVersion: "18.5"}
	path := func(i int) string { return fmt.Sprintf("g%02d/sub%d/p%05d", i%100, i%7, i) }
	for i := range n {
		inv.Projects = append(inv.Projects, &inventory.Project{Path: path(i), ID: i + 1,
			JobTokenScope: &inventory.JobTokenScope{InboundEnabled: true}})
	}
	for g := range 100 {
		inv.Groups = append(inv.Groups, inventory.Group{Path: fmt.Sprintf("g%02d", g), ID: 100000 + g})
	}
	const libs = 500
	caps := capability.For(capability.MustVersion("18.5"))
	kinds := []access.Kind{access.PackagesRead, access.RepositoryRead, access.ArtifactsRead, access.ReleasesRead}
	tf := &trust.File{Name: "trust.yaml"}
	var edges []graph.Edge
	for i := 1; i < n; i++ {
		callees := map[int]bool{}
		for len(callees) < 4 {
			if c := 1 + r.IntN(libs); c != i {
				callees[c] = true
			}
		}
		for _, c := range slices.Sorted(maps.Keys(callees)) {
			k := kinds[r.IntN(len(kinds))]
			caller, callee := path(i), path(c)
			edges = append(edges, graph.Edge{Caller: caller, Callee: callee, Access: []access.Kind{k}})
			sc := inv.Projects[c].JobTokenScope
			if r.IntN(10) == 0 {
				if r.IntN(2) == 0 {
					sc.Allowlist.Projects = append(sc.Allowlist.Projects, inventory.Entry{Path: caller}) // unapproved
				}
				continue
			}
			owner := "@team"
			if r.IntN(20) == 0 {
				owner = ""
			}
			tf.Edges = append(tf.Edges, trust.Edge{Caller: caller, Callee: callee, Access: []access.Kind{k}, Reason: "x", Owner: owner, Line: len(tf.Edges) + 3})
			pol, _ := plan.Policies([]access.Kind{k}, caps)
			switch x := r.IntN(20); {
			case x == 0: // missing
			case x == 1:
				sc.Allowlist.Projects = append(sc.Allowlist.Projects, inventory.Entry{Path: caller}) // wider
			default:
				sc.Allowlist.Projects = append(sc.Allowlist.Projects, inventory.Entry{Path: caller, Policies: pol})
			}
		}
	}
	for c := 1; c <= libs; c += 10 {
		inv.Projects[c].JobTokenScope.InboundEnabled = false
	}
	slices.SortFunc(edges, func(a, b graph.Edge) int { return strings.Compare(a.Caller+" "+a.Callee, b.Caller+" "+b.Callee) })
	return &graph.Graph{Edges: edges}, inventory.NewIndex(inv), tf
}

// BenchmarkAudit10k audits a 10,000-project org with about 40,000 edges:
// the plan the audit is a view of, the findings, and their JSON and Code
// Quality renderings (the scan before it is measured by discovery's
// BenchmarkScan10k).
// Run: go test -run '^$' -bench Audit10k -benchtime 3x ./internal/audit
func BenchmarkAudit10k(b *testing.B) {
	g, ix, tf := driftedOrg(10000)
	b.ResetTimer()
	var res *audit.Result
	for b.Loop() {
		start := time.Now()
		p := plan.Compute(g, ix, tf, plan.Options{})
		res = audit.Audit(p, ix, tf, audit.Options{FailOn: []audit.Kind{audit.Review}})
		for _, f := range []string{report.FormatJSON, report.FormatCodeQuality, report.FormatTable} {
			if err := report.Audit(io.Discard, res, f, report.AuditMeta{Source: "bench"}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "audit-ms")
	}
	c := res.Counts()
	b.ReportMetric(float64(len(g.Edges)), "edges")
	b.ReportMetric(float64(len(res.Findings)), "findings")
	b.ReportMetric(float64(c.Failing), "failing")
}

// The benchmark's org holds every drift kind it claims to, so the figure
// measures real work.
func TestDriftedOrgHasDrift(t *testing.T) {
	g, ix, tf := driftedOrg(600)
	res := audit.Audit(plan.Compute(g, ix, tf, plan.Options{}), ix, tf, audit.Options{})
	c := res.Counts()
	for _, k := range []audit.Kind{audit.Missing, audit.Wider, audit.Unapproved, audit.NotEnforced, audit.NoOwner, audit.Review} {
		if c.ByKind[k] == 0 {
			t.Errorf("no %s finding: %v", k, c.ByKind)
		}
	}
	if res.Projects != 600 {
		t.Errorf("projects %d, want 600", res.Projects)
	}
}
