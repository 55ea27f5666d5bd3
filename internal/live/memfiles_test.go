package live

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

// The in-memory files answer globs exactly as a snapshot on disk does, so
// that discovery reads the same files live and offline.
func TestMemFilesGlobMatchesSnapshot(t *testing.T) {
	files := []string{".gitlab-ci.yml", "configs/a.yml", "configs/b.yaml", "configs/sub/c.yml", "configs/sub/deep/d.yml",
		".hidden/x.yml", ".gitlab/ci/y.yml", "Dockerfile", "docker/Dockerfile.prod", "ci/build.sh"}
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, "g", "p", filepath.FromSlash(f))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("x"), 0o644)
	}
	snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	m := newMemFiles([]*inventory.Project{{Path: "g/p"}})
	m.SetTree("g/p", files)
	for _, pat := range []string{"configs/*.yml", "configs/**.yml", "configs/**/*.yml", "/configs/*.yaml", "**.yml", "**/Dockerfile*", "*", "ci/*.sh", ".gitlab/**.yml"} {
		want, err1 := snap.Glob("g/p", pat)
		got, err2 := m.Glob("g/p", pat)
		if err1 != nil || err2 != nil || !slices.Equal(got, want) {
			t.Errorf("Glob(%q) = %v, %v; snapshot gives %v, %v", pat, got, err2, want, err1)
		}
	}
}

func TestMemFilesRecordsReads(t *testing.T) {
	m := newMemFiles([]*inventory.Project{{Path: "g/p"}, {Path: "g/q"}})
	m.SetTree("g/p", []string{".gitlab-ci.yml", "ci/build.sh", "ci/deploy.sh"})
	m.Put("g/p", ".gitlab-ci.yml", []byte("job: {}"))
	if data, err := m.ReadFile("g/p", "./.gitlab-ci.yml"); err != nil || string(data) != "job: {}" {
		t.Fatalf("fetched file: %q, %v", data, err)
	}
	// Listed, not fetched: not found for now, and recorded.
	if _, err := m.ReadFile("g/p", "ci/build.sh"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unfetched file: %v", err)
	}
	// Not in the tree: not found, not recorded (no request can find it).
	m.ReadFile("g/p", "ci/missing.sh")
	// Escapes are refused, not recorded.
	if _, err := m.ReadFile("g/p", "../q/.gitlab-ci.yml"); err == nil {
		t.Error("read outside the project folder")
	}
	// A project outside the snapshot is remembered for a diagnostic.
	if _, err := m.ReadFile("other/templates", "t.yml"); !errors.Is(err, inventory.ErrNoProject) {
		t.Errorf("outside project: %v", err)
	}
	want := m.takeWanted()
	if fmt.Sprint(want) != "map[g/p:[ci/build.sh]]" {
		t.Errorf("wanted = %v", want)
	}
	if len(m.takeWanted()) != 0 {
		t.Error("wanted not cleared")
	}
	m.Put("g/p", "ci/build.sh", nil) // fetched: absent after all
	m.ReadFile("g/p", "ci/build.sh")
	if len(m.takeWanted()) != 0 {
		t.Error("known-absent file wanted again")
	}
	if fmt.Sprint(m.outsideReads()) != "map[other/templates:[t.yml]]" {
		t.Errorf("outside = %v", m.outsideReads())
	}
	if !m.HasFiles("g/p") || m.HasFiles("g/q") || m.HasFiles("other/templates") {
		t.Error("HasFiles: only projects with a listed tree have files")
	}
}

func TestCandidates(t *testing.T) {
	yes := []string{".gitmodules", "Dockerfile", "docker/Dockerfile", "node/Dockerfile.alpine", "build/app.dockerfile", "Containerfile",
		".npmrc", "web/.npmrc", ".yarnrc.yml", "requirements.txt", "requirements-dev.txt", "pip.conf", "ci_settings.xml", "settings.xml",
		"pom.xml", "libs/java-commons/pom.xml", "charts/web/Chart.yaml", ".pypirc"}
	no := []string{".gitlab-ci.yml", "README.md", "src/main.go", "node_modules/x/.npmrc", "vendor/y/Dockerfile", "docs/requirements.md", ".netrc"}
	for _, p := range yes {
		if !candidate(p) {
			t.Errorf("%s not a candidate", p)
		}
	}
	for _, p := range no {
		if candidate(p) {
			t.Errorf("%s is a candidate", p)
		}
	}
}
