package inventory

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// NotSnapshotError is Write refusing to replace Dir: it exists, is not
// empty and holds no FileName, so it is not a snapshot, and replacing it
// could delete someone's work.
type NotSnapshotError struct{ Dir string }

func (e *NotSnapshotError) Error() string {
	return fmt.Sprintf("write snapshot %s: the folder exists and holds no %s; refusing to replace it", e.Dir, FileName)
}

// Write writes the snapshot directory dir, the format Load reads: FileName
// with inv, and the files (project full path -> repository file path ->
// content) in one folder per project. It is built in a temporary folder
// beside dir, then renamed over it, so that readers see the old snapshot
// or the complete new one; on failure or cancellation nothing is left
// behind. A folder that is neither empty nor a snapshot is never replaced
// (NotSnapshotError). Contents are written as given: masking secrets is
// the caller's.
func Write(ctx context.Context, dir string, inv *Inventory, files map[string]map[string][]byte) (err error) {
	dir = filepath.Clean(dir)
	if err := replaceable(dir); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write snapshot %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := fill(ctx, tmp, inv, files); err != nil {
		return fmt.Errorf("write snapshot %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write snapshot %s: %w", dir, err)
	}
	return swapDir(tmp, dir)
}

// replaceable refuses to replace a folder that holds something other than
// a snapshot: a wrong output path must not delete work.
func replaceable(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("write snapshot %s: %w", dir, err)
	case len(entries) == 0:
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		return &NotSnapshotError{Dir: dir}
	}
	return nil
}

// swapDir renames tmp to dir, moving an existing dir aside first and
// removing it after.
func swapDir(tmp, dir string) error {
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("write snapshot %s: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("write snapshot %s: %w", dir, err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

// fill writes the snapshot into the folder tmp, through an os.Root so that
// no path can land outside it.
func fill(ctx context.Context, tmp string, inv *Inventory, files map[string]map[string][]byte) error {
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return err
	}
	defer root.Close()
	data, err := inv.Marshal()
	if err != nil {
		return err
	}
	if err := root.WriteFile(FileName, data, 0o644); err != nil {
		return err
	}
	projects := slices.Sorted(func(y func(string) bool) {
		for p := range files {
			if !y(p) {
				return
			}
		}
	})
	for _, p := range projects {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !safeRel(p) {
			return fmt.Errorf("project path %q cannot be a folder of the snapshot", p)
		}
		for name, content := range files[p] {
			if !safeRel(name) {
				return fmt.Errorf("%s: file path %q leaves the project folder", p, name)
			}
			full := path.Join(p, name)
			if err := root.MkdirAll(path.Dir(full), 0o755); err != nil {
				return err
			}
			if err := root.WriteFile(full, content, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// safeRel reports whether p is a clean relative slash path inside its base.
func safeRel(p string) bool {
	return p != "" && !path.IsAbs(p) && path.Clean(p) == p && p != "." && !strings.HasPrefix(p, "../") && p != ".." && !strings.Contains(p, "\\")
}
