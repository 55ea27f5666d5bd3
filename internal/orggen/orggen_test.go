package orggen

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

func TestWriteIsDeterministicAndLoadable(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	sa, err := Write(a, Options{Projects: 60, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := Write(b, Options{Projects: 60, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if sa != sb || sa.Projects != 60 {
		t.Fatalf("stats differ or wrong: %+v %+v", sa, sb)
	}
	err = filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || string(x) != string(y) {
			t.Errorf("%s differs between two runs with the same seed", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	snap, diags, err := inventory.Load(a, inventory.LoadOptions{})
	if err != nil || len(diags) != 0 {
		t.Fatalf("generated org does not load cleanly: %v %v", err, diags)
	}
	defer snap.Close()
	if len(snap.Inventory.Projects) != 60 {
		t.Errorf("%d projects in the inventory", len(snap.Inventory.Projects))
	}
}
