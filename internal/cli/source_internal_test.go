package cli

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/orggen"
)

// TestLoadSnapshotStopsWhenCancelled: loading a large snapshot takes
// seconds (every project folder is listed); cancelled, it returns at once.
func TestLoadSnapshotStopsWhenCancelled(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 1,500-project org")
	}
	dir := filepath.Join(t.TempDir(), "org")
	if _, err := orggen.Write(dir, orggen.Options{Projects: 1500, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	snap, _, err := loadSnapshot(context.Background(), dir, inventory.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	snap.Close()
	whole := time.Since(start)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(whole/10, cancel)
	start = time.Now()
	snap, _, err = loadSnapshot(ctx, dir, inventory.LoadOptions{})
	took := time.Since(start)
	if snap != nil {
		snap.Close()
	}
	t.Logf("a whole load %v; cancelled after %v, returned after %v", whole, whole/10, took)
	if !errors.Is(err, context.Canceled) || took > whole/10+200*time.Millisecond {
		t.Errorf("cancelled after %v: returned after %v with %v", whole/10, took, err)
	}
}
