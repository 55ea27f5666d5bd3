package live

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/discovery"
	"github.com/tokenscope/tokenscope/internal/inventory"
)

func acmeDir(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", "acme")
}

// Discovery over memFiles, fed only what it asks for, converges on the
// files that include:local, include:project and components need, and asks
// for nothing else. This is the loop Snapshot runs, with the repository
// read from disk instead of GitLab.
func TestRecordAndRefetchConverges(t *testing.T) {
	dir := acmeDir(t)
	snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	projects := snap.Inventory.Projects
	m := newMemFiles(projects)
	for _, p := range projects {
		var tree []string
		root := filepath.Join(dir, filepath.FromSlash(p.Path))
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(root, path)
				tree = append(tree, filepath.ToSlash(rel))
			}
			return nil
		})
		m.SetTree(p.Path, tree)
		if data, err := snap.ReadFile(p.Path, configPath(p)); err == nil {
			m.Put(p.Path, configPath(p), data)
		}
	}
	rounds := 0
	for ; rounds < 8; rounds++ {
		if _, err := discovery.DiscoverFiles(context.Background(), snap.Inventory, m, discovery.Options{}); err != nil {
			t.Fatal(err)
		}
		want := m.takeWanted()
		if len(want) == 0 {
			break
		}
		for p, names := range want {
			for _, n := range names {
				data, err := snap.ReadFile(p, n)
				if errors.Is(err, fs.ErrNotExist) {
					data = nil
				} else if err != nil {
					t.Fatal(err)
				}
				m.Put(p, n, data)
			}
		}
	}
	if rounds == 0 || rounds >= 8 {
		t.Fatalf("%d rounds; want convergence after at least one fetch", rounds)
	}
	var got []string
	for p, files := range m.fetched() {
		for n := range files {
			if n != configPath(snap.Index.Project(p)) {
				got = append(got, p+"/"+n)
			}
		}
	}
	slices.Sort(got)
	for _, want := range []string{
		"apps/web/ci/deploy.yml",                                 // include:local
		"apps/web/ci/e2e.yml",                                    // trigger:include (a child pipeline, read in a later round)
		"platform/ci-templates/templates/build.yml",              // include:project
		"platform/ci-templates/templates/node-test/template.yml", // component
	} {
		if !slices.Contains(got, want) {
			t.Errorf("%s not fetched; fetched %v", want, got)
		}
	}
	for _, g := range got {
		if strings.HasSuffix(g, "README.md") || strings.HasSuffix(g, "expected-edges.txt") {
			t.Errorf("fetched %s, which nothing reads", g)
		}
	}
	t.Logf("%d rounds; fetched beyond CI configs: %v", rounds, got)
}

// configPath is the project's CI configuration file as GitLab defaults it.
func configPath(p *inventory.Project) string {
	if p.CIConfigPath != "" {
		return p.CIConfigPath
	}
	return ".gitlab-ci.yml"
}
