package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// Every kind of path a folder writer may meet, classified.
func TestDirStateOf(t *testing.T) {
	root := t.TempDir()
	mk := func(p string) string { p = filepath.Join(root, p); os.MkdirAll(p, 0o755); return p }
	empty, marked, foreign := mk("empty"), mk("marked"), mk("foreign")
	os.WriteFile(filepath.Join(marked, ".m"), nil, 0o644)
	os.WriteFile(filepath.Join(foreign, "thesis.tex"), []byte("x"), 0o644)
	file := filepath.Join(root, "file")
	os.WriteFile(file, nil, 0o644)
	link := filepath.Join(root, "link")
	if err := os.Symlink(marked, link); err != nil {
		t.Skip(err)
	}
	for _, c := range []struct {
		path string
		want DirState
	}{
		{filepath.Join(root, "missing"), DirFree}, {empty, DirFree}, {marked, DirMarked},
		{foreign, DirForeign}, {file, DirNotDir}, {link, DirSymlink},
	} {
		if got, err := DirStateOf(c.path, ".m"); err != nil || got != c.want {
			t.Errorf("DirStateOf(%s) = %v, %v; want %v", filepath.Base(c.path), got, err, c.want)
		}
	}
}
