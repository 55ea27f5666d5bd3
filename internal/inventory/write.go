package inventory

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tokenscope/tokenscope/internal/atomicfile"
	"github.com/tokenscope/tokenscope/internal/limits"
)

// MarkerName is the file Write leaves at the top of every snapshot it
// writes. Write replaces only a folder that holds it (or an empty one):
// inventory.yaml alone proves nothing, since any repository may hold a file
// of that name, and replacing such a folder deleted someone's project
// (issue 10). The name starts with "." so that Load never takes it for a
// project folder or file.
const MarkerName = ".tokenscope-snapshot"

// markerContent is what the marker holds: a line naming the format version
// (Version, the same as inventory.yaml's), for a human who finds the file.
// Write only checks that the marker is a regular file, not what it says, so
// that a later format can still replace an earlier one.
var markerContent = fmt.Sprintf("tokenscope snapshot format %d\n", Version)

// NotSnapshotError is Write refusing to replace Dir: it exists and is not
// a snapshot Write wrote (Reason says why), and replacing it could delete
// someone's work.
type NotSnapshotError struct {
	Dir    string
	Reason string
}

func (e *NotSnapshotError) Error() string {
	return fmt.Sprintf("write snapshot %s: %s; refusing to replace it", e.Dir, e.Reason)
}

// Write writes the snapshot directory dir, the format Load reads: FileName
// with inv, and the files (project full path -> repository file path ->
// content) in one folder per project. It is built in a temporary folder
// beside dir, then renamed over it, so that readers see the old snapshot
// or the complete new one; on failure or cancellation nothing is left
// behind. The snapshot holds MarkerName; a path that is neither missing,
// an empty folder nor a folder with that marker is never replaced
// (NotSnapshotError). Contents are written as given: masking secrets is
// the caller's.
func Write(ctx context.Context, dir string, inv *Inventory, files map[string]map[string][]byte) (err error) {
	return WriteWith(ctx, dir, inv, files, WriteOptions{})
}

// WriteOptions tune WriteWith.
type WriteOptions struct {
	// MaxInventorySize is the largest FileName written (0:
	// limits.InventorySize): the one Load is given, so that snapshot never
	// writes what scan refuses under the same --limit.
	MaxInventorySize int64
}

// WriteWith is Write with options.
func WriteWith(ctx context.Context, dir string, inv *Inventory, files map[string]map[string][]byte, opts WriteOptions) (err error) {
	dir = filepath.Clean(dir)
	if err := replaceable(dir); err != nil {
		return err
	}
	removeStale(dir)
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write snapshot %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := fill(ctx, tmp, inv, files, limits.Or(opts.MaxInventorySize, limits.InventorySize)); err != nil {
		return fmt.Errorf("write snapshot %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write snapshot %s: %w", dir, err)
	}
	if err := atomicfile.SwapDir(tmp, dir); err != nil {
		return fmt.Errorf("write snapshot %s: %w", dir, err)
	}
	return nil
}

// staleAfter is how long a temporary snapshot folder must have been left
// untouched before a later Write takes it for the remains of a killed one;
// a concurrent Write's folder changes every moment.
const staleAfter = time.Hour

// removeStale removes the temporary folders that a Write killed before it
// could clean up (SIGKILL, a crash, power loss) left beside dir: named as
// Write names them, holding the marker, unchanged for staleAfter. A
// cancelled Write (Ctrl-C, SIGTERM) removes its own.
func removeStale(dir string) {
	parent, prefix := filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-"
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		p := filepath.Join(parent, e.Name())
		st, err := os.Lstat(p)
		if err != nil || !st.IsDir() || time.Since(st.ModTime()) < staleAfter {
			continue
		}
		if m, err := os.Lstat(filepath.Join(p, MarkerName)); err == nil && m.Mode().IsRegular() {
			os.RemoveAll(p)
		}
	}
}

// replaceable refuses to replace anything but a missing path, an empty
// folder or a snapshot Write wrote (one holding MarkerName): a wrong output
// path must not delete work. dir itself is checked with Lstat, so a
// symbolic link (to a folder or not) is refused rather than followed or
// replaced, and so is a regular file or a device such as /dev/null.
func replaceable(dir string) error {
	state, err := atomicfile.DirStateOf(dir, MarkerName)
	switch {
	case err != nil:
		return fmt.Errorf("write snapshot %s: %w", dir, err)
	case state == atomicfile.DirFree || state == atomicfile.DirMarked:
		return nil
	case state == atomicfile.DirSymlink:
		return &NotSnapshotError{Dir: dir, Reason: "it is a symbolic link, not a snapshot folder"}
	case state == atomicfile.DirNotDir:
		return &NotSnapshotError{Dir: dir, Reason: "it exists and is not a folder"}
	}
	// A folder with inventory.yaml but no marker may be a snapshot from a
	// tokenscope older than the marker, or a repository that happens to
	// hold such a file: the two cannot be told apart, so it is refused too
	// and the user removes it (docs/design.md §4).
	if _, err := os.Lstat(filepath.Join(dir, FileName)); err == nil {
		return &NotSnapshotError{Dir: dir, Reason: fmt.Sprintf("the folder holds %s but no %s marker (a snapshot from an older tokenscope, or not a snapshot at all)", FileName, MarkerName)}
	}
	return &NotSnapshotError{Dir: dir, Reason: fmt.Sprintf("the folder is not empty and holds no %s marker, so it is not a snapshot", MarkerName)}
}

// fill writes the snapshot into the folder tmp, through an os.Root so that
// no path can land outside it.
func fill(ctx context.Context, tmp string, inv *Inventory, files map[string]map[string][]byte, maxInventory int64) error {
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return err
	}
	defer root.Close()
	data, err := inv.Marshal()
	if err != nil {
		return err
	}
	if int64(len(data)) > maxInventory {
		return fmt.Errorf("%s would be %d bytes, over the %s that scan reads (limit %s): snapshot fewer groups at a time (--group), or %s here and in every command that reads the snapshot",
			FileName, len(data), limits.Format(limits.Bytes, maxInventory), limits.InventorySize, limits.Raise(limits.InventorySize, int64(len(data))))
	}
	if err := root.WriteFile(FileName, data, 0o644); err != nil {
		return err
	}
	if err := root.WriteFile(MarkerName, []byte(markerContent), 0o644); err != nil {
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
