package discovery

import (
	"context"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tokenscope/tokenscope/internal/detect"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
)

// memFiles holds repository files in memory: project → file → content.
type memFiles map[string]map[string]string

func (m memFiles) ReadFile(project, name string) ([]byte, error) {
	fs0, ok := m[project]
	if !ok {
		return nil, inventory.ErrNoProject
	}
	s, ok := fs0[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: project + "/" + name, Err: fs.ErrNotExist}
	}
	return []byte(s), nil
}

func (m memFiles) Glob(project, pattern string) ([]string, error) {
	var out []string
	for name := range m[project] {
		if ok, _ := path.Match(pattern, name); ok || inventory.MatchDoubleStar(pattern, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (m memFiles) HasFiles(project string) bool { _, ok := m[project]; return ok }

// counting counts the jobs the detectors are run on (one per analysis).
type counting struct{ n *atomic.Int64 }

func (counting) Name() string { return "counting" }

func (c counting) Detect(in *detect.Input, _ *detect.Output) {
	if in.Job != nil {
		c.n.Add(1)
	}
}

// scanMem scans the projects of files (IDs in order of their paths) and
// returns the graph and the number of job analyses.
func scanMem(t *testing.T, files memFiles) (*graph.Graph, int) {
	t.Helper()
	inv := &inventory.Inventory{Version: inventory.Version, ServerURL: "https://gitlab.example.com", Registry: "registry.example.com"}
	paths := []string{"group/lib", "group/other"}
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	paths = slices.Compact(paths)
	for i, p := range paths {
		inv.Projects = append(inv.Projects, &inventory.Project{Path: p, ID: 100 + i})
	}
	var n atomic.Int64
	res, err := DiscoverFiles(context.Background(), inv, files, Options{Detectors: append(detect.All(), counting{&n})})
	if err != nil {
		t.Fatal(err)
	}
	notes := append(res.Notes, DiagNotes(res.Diags)...)
	return graph.Build(inventory.NewIndex(inv), res.Uses, notes), int(n.Load())
}

// lines renders a use per line: caller → callee access job {variants}.
func edgeUses(g *graph.Graph) []string {
	var out []string
	for _, e := range g.Edges {
		for _, u := range e.Uses {
			out = append(out, e.Caller+" → "+e.Callee+" "+string(u.Access)+" "+u.Evidence.Job+" {"+strings.Join(u.Evidence.Variants.List(), ",")+"}")
		}
	}
	return out
}
