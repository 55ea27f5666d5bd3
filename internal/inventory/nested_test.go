package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/diag"
)

// Projects g/a and g/a/b cannot both exist on GitLab (a path is a project
// or a namespace); the inner folder is refused with an error naming both,
// and its files are not read as a project of their own.
func TestNestedProjectFolderRefused(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"g/a", "g/a/b", "g/c"} {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p, ".gitlab-ci.yml"), []byte("j:\n  script: [make]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inv := "version: 1\nprojects:\n  - {path: g/a, id: 1}\n  - {path: g/a/b, id: 2}\n  - {path: g/c, id: 3}\n"
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, diags, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if snap.HasFiles("g/a/b") || !snap.HasFiles("g/a") || !snap.HasFiles("g/c") {
		t.Errorf("HasFiles: g/a %v, g/a/b %v, g/c %v", snap.HasFiles("g/a"), snap.HasFiles("g/a/b"), snap.HasFiles("g/c"))
	}
	var found bool
	for _, d := range diags {
		if d.Severity == diag.Error && strings.Contains(d.String(), "g/a/b") && strings.Contains(d.String(), "inside the folder of project g/a") {
			found = true
		}
	}
	if !found {
		t.Errorf("no error naming both folders: %v", diags)
	}
}
