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

// --registry takes CI_REGISTRY's form, host[:port]; a URL is a usage
// error (exit 2) that says which form is expected.
func TestValidRegistry(t *testing.T) {
	for _, ok := range []string{"registry.example.com", "gitlab.example.com:5050", "registry.gitlab.com", "10.0.0.5:443"} {
		if err := validRegistry(ok); err != nil {
			t.Errorf("validRegistry(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"https://registry.example.com", "registry.example.com/path", ":5050", "h:0", "h:99999", "h:x", "a b"} {
		err := validRegistry(bad)
		var u *UsageError
		if err == nil || !errors.As(err, &u) {
			t.Errorf("validRegistry(%q) = %v, want a usage error", bad, err)
		}
	}
}

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
