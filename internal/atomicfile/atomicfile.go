// Package atomicfile writes files so that readers see the old content or
// the complete new one, never a half-written file: content goes to a
// temporary file in the same folder, which is synced and renamed over the
// target.
//
// Outputs never destroy: Write replaces only regular files. A directory, a
// device, a FIFO, a socket or any other special file is refused before
// anything is written, so a mistyped -o /dev/sda or -o somedir cannot
// replace it (as root, a rename over /dev/sda would succeed).
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

var (
	// ErrNotRegular means the target exists and is not a regular file
	// (a directory, device, FIFO, socket...). It is wrapped in an
	// *fs.PathError naming the path.
	ErrNotRegular = errors.New("not a regular file")
	// ErrReadOnly means the target is a regular file without its owner's
	// write bit: the user marked it so it would not be changed, and a
	// rename would replace it all the same (renaming needs write access to
	// the folder, not the file). Wrapped in an *fs.PathError.
	ErrReadOnly = errors.New("read-only file")
)

// Write creates or replaces path with what fill writes. If fill or any
// step fails, path is untouched and the temporary file is removed.
//
// A new file gets perm. An existing file keeps its permission bits (not
// reset to perm), so a report the user made private stays private; its
// owner and group are those of whoever runs tokenscope, as with any
// replace-by-rename, and hard links to the old file keep the old content.
//
// A symlink is followed: the file it points to (through any chain of
// links) is replaced and the link is kept. Replacing the link itself
// would silently turn a link the user set up, e.g. report.md pointing into
// a shared folder, into a plain file and leave the real target stale. A
// link whose target does not exist is refused rather than guessed at.
// The target must pass the same checks as a plain path.
//
// The checks run before the temporary file is made; a file swapped for
// something else between the check and the rename is not guarded against
// (tokenscope is not meant to run against an adversary sharing the folder).
func Write(path string, perm os.FileMode, fill func(io.Writer) error) (err error) {
	target, mode, err := resolve(path, perm)
	if err != nil {
		return err
	}
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = fill(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// resolve returns the file to replace (path, or what the symlink at path
// points to) and the permission bits the new content gets.
func resolve(path string, perm os.FileMode) (string, os.FileMode, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, perm, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("write %s: %w", path, err)
	}
	target := path
	if fi.Mode()&fs.ModeSymlink != 0 {
		// EvalSymlinks resolves the whole chain and fails on a dangling
		// link (https://pkg.go.dev/path/filepath#EvalSymlinks).
		if target, err = filepath.EvalSymlinks(path); err != nil {
			return "", 0, fmt.Errorf("write %s: follow symlink: %w", path, err)
		}
		if fi, err = os.Stat(target); err != nil {
			return "", 0, fmt.Errorf("write %s: %w", path, err)
		}
	}
	if !fi.Mode().IsRegular() {
		return "", 0, &fs.PathError{Op: "write", Path: path, Err: ErrNotRegular}
	}
	if fi.Mode().Perm()&0o200 == 0 {
		return "", 0, &fs.PathError{Op: "write", Path: path, Err: ErrReadOnly}
	}
	return target, fi.Mode().Perm(), nil
}

// WriteFile is Write with a byte slice.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// SwapDir renames the folder tmp to dir, so that readers see the old dir
// or the complete new one: an existing dir is moved aside first (and put
// back if the rename fails), then removed. tmp must be beside dir (same
// file system). Deciding whether dir may be replaced is the caller's.
func SwapDir(tmp, dir string) error {
	old := ""
	if _, err := os.Lstat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir)
		}
		return err
	}
	if old != "" {
		_ = os.RemoveAll(old)
	}
	return nil
}

// DirState is what stands at the path of a folder a command is about to
// write whole (SwapDir), as DirStateOf finds it.
type DirState int

const (
	DirFree    DirState = iota // missing, or an empty folder: may be written
	DirMarked                  // a folder holding the writer's marker file: may be replaced
	DirSymlink                 // a symbolic link (never followed nor replaced)
	DirNotDir                  // a file, a device, anything but a folder
	DirForeign                 // a folder with content and no marker: someone's work
)

// DirStateOf classifies dir for a writer whose folders hold the regular
// file marker: only DirFree and DirMarked may be replaced, so that a
// wrong output path never deletes work. dir is checked with Lstat.
func DirStateOf(dir, marker string) (DirState, error) {
	st, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return DirFree, nil
	case err != nil:
		return 0, err
	case st.Mode()&fs.ModeSymlink != 0:
		return DirSymlink, nil
	case !st.IsDir():
		return DirNotDir, nil
	}
	entries, err := os.ReadDir(dir)
	switch {
	case err != nil:
		return 0, err
	case len(entries) == 0:
		return DirFree, nil
	}
	if m, err := os.Lstat(filepath.Join(dir, marker)); err == nil && m.Mode().IsRegular() {
		return DirMarked, nil
	}
	return DirForeign, nil
}
