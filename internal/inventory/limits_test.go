package inventory

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/limits"
)

// The exported defaults are the ones internal/limits lists.
func TestDefaultsAreTheList(t *testing.T) {
	for n, v := range map[limits.Name]int64{
		limits.FileSize: MaxFileSize, limits.InventorySize: MaxInventorySize,
		limits.AuthLogBytes: MaxAuthLogCSVBytes, limits.AuthLogRows: MaxAuthLogCSVRows,
	} {
		if limits.Default(n) != v {
			t.Errorf("%s: list says %d, the package %d", n, limits.Default(n), v)
		}
	}
}

// Load, WriteWith and ReadAuthLogCSVWith take the --limit values; each
// refusal names the limit, the file and how to raise it, and snapshot's
// write refuses what Load under the same limit would.
func TestLimitsFromOptions(t *testing.T) {
	ctx := context.Background()
	inv := &Inventory{Version: Version, Projects: []*Project{{Path: "g/p"}}}
	files := map[string]map[string][]byte{"g/p": {".gitlab-ci.yml": []byte("job:\n  script: [" + strings.Repeat("x", 3000) + "]\n")}}
	dir := filepath.Join(t.TempDir(), "snap")
	if err := Write(ctx, dir, inv, files); err != nil {
		t.Fatal(err)
	}
	snap, _, err := Load(dir, LoadOptions{MaxFileSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	_, err = snap.ReadFile("g/p", ".gitlab-ci.yml")
	snap.Close()
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "g/p/.gitlab-ci.yml: 3018 bytes: file too large (limit file-size 1KiB; raise with --limit file-size=6KiB)") {
		t.Errorf("file-size: %v", err)
	}
	snap, _, err = Load(dir, LoadOptions{MaxFileSize: 6 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = snap.ReadFile("g/p", ".gitlab-ci.yml"); err != nil {
		t.Errorf("raised file-size: %v", err)
	}
	snap.Close()

	st, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	small := st.Size() - 1
	if _, _, err := Load(dir, LoadOptions{MaxInventorySize: small}); err == nil || !strings.Contains(err.Error(), "raise with --limit inventory-size=") {
		t.Errorf("inventory-size on read: %v", err)
	}
	other := filepath.Join(t.TempDir(), "snap")
	err = WriteWith(ctx, other, inv, files, WriteOptions{MaxInventorySize: small})
	if err == nil || !strings.Contains(err.Error(), "(limit inventory-size)") || !strings.Contains(err.Error(), "raise with --limit inventory-size=") {
		t.Errorf("inventory-size on write: %v", err)
	}
	if _, err := os.Stat(other); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused snapshot left %s behind: %v", other, err)
	}
	if err := WriteWith(ctx, other, inv, files, WriteOptions{MaxInventorySize: st.Size()}); err != nil {
		t.Errorf("inventory of exactly the limit: %v", err)
	}

	csv := "Origin Project Path,Last Authorized At (UTC)\n" + strings.Repeat("apps/web,2026-11-20T08:15:00Z\n", 10)
	_, err = ReadAuthLogCSVWith(strings.NewReader(csv), "log.csv", AuthLogOptions{MaxRows: 5})
	if err == nil || !strings.Contains(err.Error(), "log.csv:7: more than 5 rows (limit auth-log-rows)") || !strings.Contains(err.Error(), "raise with --limit auth-log-rows=10") {
		t.Errorf("rows: %v", err)
	}
	_, err = ReadAuthLogCSVWith(strings.NewReader(csv), "log.csv", AuthLogOptions{MaxBytes: 100})
	if err == nil || !strings.Contains(err.Error(), "log.csv: larger than 100 (limit auth-log-bytes)") {
		t.Errorf("bytes: %v", err)
	}
	if rows, err := ReadAuthLogCSVWith(strings.NewReader(csv), "log.csv", AuthLogOptions{MaxRows: 10, MaxBytes: 1000}); err != nil || len(rows) != 1 {
		t.Errorf("raised: %v %v", rows, err)
	}
}
