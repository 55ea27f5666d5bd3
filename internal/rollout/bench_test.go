package rollout_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/planfile"
	"github.com/tokenscope/tokenscope/internal/rollout"
	"github.com/tokenscope/tokenscope/internal/trust"
	"github.com/tokenscope/tokenscope/internal/use"
)

// benchOrg is projects projects in 100 groups, edges edges (each with one
// CI-config use of a kind taken in turn), auth authentication-log rows, a
// trust file approving every other edge with one wave per group, and a plan
// adding the approved edges and enforcing every project.
func benchOrg(projects, edges, auth int) (*graph.Graph, *inventory.Index, *trust.File, *planfile.Document) {
	inv := &inventory.Inventory{Version: 1, GitLabVersion: "18.5"}
	path := func(i int) string { return fmt.Sprintf("g%02d/p%05d", i%100, i) }
	for i := range 100 {
		inv.Groups = append(inv.Groups, inventory.Group{Path: fmt.Sprintf("g%02d", i), ID: 10000 + i})
	}
	for i := range projects {
		p := &inventory.Project{Path: path(i), ID: i + 1, Visibility: "private",
			JobTokenScope: &inventory.JobTokenScope{InboundEnabled: i%4 == 0}}
		if i%7 == 0 {
			p.JobTokenScope.Allowlist.Groups = []inventory.Entry{{Path: fmt.Sprintf("g%02d", (i+1)%100)}}
		}
		inv.Projects = append(inv.Projects, p)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range auth {
		p := inv.Projects[(i*13)%projects]
		p.AuthLog = append(p.AuthLog, inventory.AuthLogEntry{Origin: path((i*31 + 5) % projects), LastAuthorizedAt: at.Add(time.Duration(i) * time.Minute)})
	}
	kinds := []access.Kind{access.PackagesRead, access.RepositoryRead, access.ArtifactsRead, access.ContainerRead, access.TerraformStateWrite}
	tf := &trust.File{Name: "trust.yaml"}
	for i := range 100 {
		tf.Waves = append(tf.Waves, trust.Wave{Name: fmt.Sprintf("w%02d", i), Groups: []string{fmt.Sprintf("g%02d", i)}, Line: i + 1})
	}
	doc := &planfile.Document{Version: planfile.Version}
	adds := map[string][]planfile.Entry{}
	g := &graph.Graph{}
	seen := map[[2]string]bool{}
	for i := 0; len(g.Edges) < edges; i++ {
		// Four callees per caller, spread over the org.
		caller, callee := path(i%projects), path((i%projects+1+(i/projects)*2503+i%97)%projects)
		if caller == callee || seen[[2]string{caller, callee}] {
			continue
		}
		seen[[2]string{caller, callee}] = true
		k := kinds[i%len(kinds)]
		u := use.Use{Origin: use.CIConfig, Access: k, Caller: caller, Callee: callee,
			Evidence: use.Evidence{Pos: loc.Pos{Project: caller, File: ".gitlab-ci.yml", Line: i%200 + 1}, Job: "build", Detail: "bench"}}
		g.Edges = append(g.Edges, graph.Edge{Caller: caller, Callee: callee, Access: []access.Kind{k}, Uses: []use.Use{u}})
		if i%2 == 0 {
			tf.Edges = append(tf.Edges, trust.Edge{Caller: caller, Callee: callee, Access: []access.Kind{k}, Line: i})
			in, _ := access.Lookup(k)
			adds[callee] = append(adds[callee], planfile.Entry{Type: plan.ProjectEntry, Path: caller, Policies: in.Policies()})
		}
	}
	for _, p := range inv.Projects {
		doc.Projects = append(doc.Projects, planfile.Project{Project: p.Path, Enforce: true, Add: adds[p.Path]})
	}
	return g, inventory.NewIndex(inv), tf, doc
}

// BenchmarkPreflight10000 is the pre-flight of every wave and org-wide over
// 10,000 projects, 40,000 edges and 10,000 authentication-log rows, of the
// current allowlists and of a plan's (docs/design.md §8c, target < 2 s).
func BenchmarkPreflight10000(b *testing.B) {
	g, ix, tf, doc := benchOrg(10000, 40000, 10000)
	since := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		doc  *planfile.Document
	}{{"current", nil}, {"planned", doc}} {
		b.Run(c.name, func(b *testing.B) {
			var st *rollout.Status
			for b.Loop() {
				st = rollout.Compute(g, ix, tf, rollout.Options{Plan: c.doc, Since: since})
			}
			org := st.Waves[len(st.Waves)-1]
			b.ReportMetric(float64(len(org.Projects)), "projects")
			b.ReportMetric(float64(len(org.Blocked)), "blocked")
		})
	}
}
