package inventoryreport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/tokenscope/tokenscope/internal/atomicfile"
)

// MarkerName is the file Write leaves in every report directory. Write
// replaces only a directory holding it (or an empty one): -o pointing at
// the wrong folder must not delete someone's work, as for snapshots
// (inventory.MarkerName).
const MarkerName = ".tokenscope-report"

var markerContent = fmt.Sprintf("tokenscope report format %d\n", FormatVersion)

// Files renders every file of the report directory: index.html,
// inventory.md (and its per-group files for a big org), edges.csv,
// inventory.json.
func Files(doc *Document) (map[string][]byte, error) {
	pics := draw(doc)
	out := markdown(doc, pics)
	var b bytes.Buffer
	if err := html(&b, doc, pics); err != nil {
		return nil, fmt.Errorf("index.html: %w", err)
	}
	out["index.html"] = b.Bytes()
	var c bytes.Buffer
	if err := CSV(&c, doc); err != nil {
		return nil, fmt.Errorf("edges.csv: %w", err)
	}
	out["edges.csv"] = c.Bytes()
	var j bytes.Buffer
	enc := json.NewEncoder(&j)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("inventory.json: %w", err)
	}
	out["inventory.json"] = j.Bytes()
	return out, nil
}

// NotReportError is Write refusing to replace Dir: it exists and is not a
// report directory Write wrote.
type NotReportError struct {
	Dir    string
	Reason string
}

func (e *NotReportError) Error() string {
	return fmt.Sprintf("write report %s: %s; refusing to replace it", e.Dir, e.Reason)
}

// Write writes files (flat names) as the directory dir: built in a
// temporary directory beside it and renamed over it, so readers see the
// old report or the complete new one, and nothing is left on failure.
// Only a missing path, an empty directory or a report Write wrote (one
// holding MarkerName) is replaced.
func Write(ctx context.Context, dir string, files map[string][]byte) (err error) {
	dir = filepath.Clean(dir)
	if err := replaceable(dir); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write report %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return fmt.Errorf("write report %s: %w", dir, err)
	}
	defer root.Close()
	names := sortedKeys(files)
	for _, name := range slices.Concat(names, []string{MarkerName}) {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, ok := files[name]
		if name == MarkerName {
			data, ok = []byte(markerContent), true
		}
		if !ok || filepath.Base(name) != name || name == "." || name == ".." {
			return fmt.Errorf("write report %s: bad file name %q", dir, name)
		}
		if err := root.WriteFile(name, data, 0o644); err != nil {
			return fmt.Errorf("write report %s: %w", dir, err)
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write report %s: %w", dir, err)
	}
	if err := atomicfile.SwapDir(tmp, dir); err != nil {
		return fmt.Errorf("write report %s: %w", dir, err)
	}
	return nil
}

func replaceable(dir string) error {
	state, err := atomicfile.DirStateOf(dir, MarkerName)
	switch {
	case err != nil:
		return fmt.Errorf("write report %s: %w", dir, err)
	case state == atomicfile.DirFree || state == atomicfile.DirMarked:
		return nil
	case state == atomicfile.DirSymlink:
		return &NotReportError{Dir: dir, Reason: "it is a symbolic link, not a report directory"}
	case state == atomicfile.DirNotDir:
		return &NotReportError{Dir: dir, Reason: "it exists and is not a directory"}
	}
	return &NotReportError{Dir: dir, Reason: fmt.Sprintf("the directory is not empty and holds no %s marker, so tokenscope did not write it", MarkerName)}
}
