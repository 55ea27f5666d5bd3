package plan

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/trust"
)

// bigOrg builds an org of n projects in 100 groups: every project calls
// three of 500 library projects, and every project calls one hot callee
// (far past the 200-entry limit). The trust file approves nine edges in
// ten; half the libraries have an allowlist already.
func bigOrg(n int) (*graph.Graph, *inventory.Index, *trust.File) {
	r := rand.New(rand.NewPCG(1, 2))
	inv := &inventory.Inventory{Version: 1, GitLabVersion: "18.5"}
	path := func(i int) string { return fmt.Sprintf("g%02d/sub%d/p%05d", i%100, i%7, i) }
	for i := range n {
		inv.Projects = append(inv.Projects, &inventory.Project{Path: path(i), ID: i + 1})
	}
	for g := range 100 {
		inv.Groups = append(inv.Groups, inventory.Group{Path: fmt.Sprintf("g%02d", g), ID: 100000 + g})
	}
	hot := path(0)
	libs := 500
	kinds := []access.Kind{access.PackagesRead, access.RepositoryRead, access.ArtifactsRead, access.ContainerRead}
	var edges []graph.Edge
	tf := &trust.File{Name: "trust.yaml"}
	for i := 1; i < n; i++ {
		callees := map[string]bool{hot: true}
		for len(callees) < 4 {
			callees[path(1+r.IntN(libs))] = true
		}
		for _, c := range slices.Sorted(maps.Keys(callees)) {
			if c == path(i) {
				continue
			}
			k := kinds[r.IntN(len(kinds))]
			edges = append(edges, edge(path(i), c, k))
			if r.IntN(10) > 0 {
				tf.Edges = append(tf.Edges, trust.Edge{Caller: path(i), Callee: c, Access: []access.Kind{k}, Reason: "x", Line: len(tf.Edges) + 2})
			}
		}
	}
	for i := 1; i <= libs; i += 2 {
		var es []inventory.Entry
		for j := range 20 {
			es = append(es, inventory.Entry{Path: path(libs + 1 + (i*20+j)%(n-libs-1)), Policies: []string{"read_packages"}})
		}
		inv.Projects[i].JobTokenScope = &inventory.JobTokenScope{InboundEnabled: i%4 == 1, Allowlist: inventory.Allowlist{Projects: es}}
	}
	slices.SortFunc(edges, func(a, b graph.Edge) int { return strings.Compare(a.Caller+" "+a.Callee, b.Caller+" "+b.Callee) })
	return &graph.Graph{Edges: edges}, inventory.NewIndex(inv), tf
}

// BenchmarkCompute10k plans a 10,000-project org with about 36,000 edges
// and one callee with 9,999 callers (which the 200-entry limit compacts).
// Run: go test -run '^$' -bench Compute10k ./internal/plan
func BenchmarkCompute10k(b *testing.B) {
	g, ix, tf := bigOrg(10000)
	b.ResetTimer()
	var p *Plan
	for b.Loop() {
		start := time.Now()
		p = Compute(g, ix, tf, Options{})
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "plan-ms")
	}
	t := p.Totals()
	b.ReportMetric(float64(len(g.Edges)), "edges")
	b.ReportMetric(float64(t.Add+t.Keep+t.Update), "entries")
	b.ReportMetric(float64(t.Review), "reviews")
}

func TestBigOrgDeterministic(t *testing.T) {
	g, ix, tf := bigOrg(1000)
	a := Compute(g, ix, tf, Options{})
	if b := Compute(g, ix, tf, Options{}); !reflect.DeepEqual(a, b) {
		t.Fatal("Compute is not deterministic on a large org")
	}
}

func TestBigOrgRespectsLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("large org")
	}
	g, ix, tf := bigOrg(2000)
	p := Compute(g, ix, tf, Options{})
	for _, pr := range p.Projects {
		if n := len(stayingOf(pr)); n > DefaultProjectLimit {
			t.Errorf("%s: %d project entries stay; limit %d", pr.Path, n, DefaultProjectLimit)
		}
	}
	// The hot callee has ~1,800 approved callers spread over 100 top-level
	// groups (no common root): the fewest group entries is what the
	// largest top-level groups save, taken until the limit is met.
	hot := project(t, p, "g00/sub0/p00000")
	var proposed, replaced int
	for _, e := range hot.Add {
		if e.Widening != nil && e.Widening.Proposed {
			proposed++
			replaced += len(e.Widening.Replaces)
		}
	}
	perGroup := map[string]int{}
	total := 0
	for _, e := range g.Edges {
		if a, ok := tf.Approval(e.Caller, e.Callee); ok && e.Callee == hot.Path && !a.Expired {
			perGroup[strings.SplitN(e.Caller, "/", 2)[0]]++
			total++
		}
	}
	var nets []int
	for _, k := range perGroup {
		nets = append(nets, k-1)
	}
	slices.Sort(nets)
	slices.Reverse(nets)
	need, fewest := total-DefaultProjectLimit, 0
	for _, n := range nets {
		if need <= 0 {
			break
		}
		need -= n
		fewest++
	}
	if proposed != fewest || replaced == 0 {
		t.Errorf("hot callee: %d proposed group entries replacing %d; the fewest possible is %d", proposed, replaced, fewest)
	}
}
