package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	errRender := errors.New("render failed")
	for _, tc := range []struct {
		name string
		// setup prepares dir and returns the path to write.
		setup func(t *testing.T, dir string) string
		fill  func(io.Writer) error
		want  error // nil: success
		// check inspects dir after a successful write.
		check func(t *testing.T, dir string)
	}{
		{
			name:  "new regular file",
			setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "out.txt") },
			check: func(t *testing.T, dir string) {
				wantFile(t, filepath.Join(dir, "out.txt"), "new", 0o644)
			},
		},
		{
			name: "existing file keeps its mode",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "out.txt")
				writeMode(t, p, "old", 0o600)
				return p
			},
			check: func(t *testing.T, dir string) {
				wantFile(t, filepath.Join(dir, "out.txt"), "new", 0o600)
			},
		},
		{
			name: "directory refused",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "somedir")
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatal(err)
				}
				return p
			},
			want: ErrNotRegular,
		},
		{
			name: "FIFO refused",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "fifo")
				mkfifo(t, p)
				return p
			},
			want: ErrNotRegular,
		},
		{
			name: "device refused",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "null")
				mknodNull(t, p)
				return p
			},
			want: ErrNotRegular,
		},
		{
			name: "socket refused",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "sock")
				l, err := net.Listen("unix", p)
				if err != nil {
					t.Skipf("unix socket: %v", err)
				}
				t.Cleanup(func() { l.Close() })
				return p
			},
			want: ErrNotRegular,
		},
		{
			name: "read-only file refused",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "out.txt")
				writeMode(t, p, "old", 0o444)
				return p
			},
			want: ErrReadOnly,
		},
		{
			name: "symlink: target replaced, link kept",
			setup: func(t *testing.T, dir string) string {
				writeMode(t, filepath.Join(dir, "real.txt"), "old", 0o640)
				return symlink(t, "real.txt", filepath.Join(dir, "link.txt"))
			},
			check: func(t *testing.T, dir string) {
				link := filepath.Join(dir, "link.txt")
				if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
					t.Errorf("link.txt is no longer a symlink: %v, %v", fi, err)
				}
				wantFile(t, filepath.Join(dir, "real.txt"), "new", 0o640)
			},
		},
		{
			name: "symlink to a directory refused",
			setup: func(t *testing.T, dir string) string {
				if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
					t.Fatal(err)
				}
				return symlink(t, "d", filepath.Join(dir, "link"))
			},
			want: ErrNotRegular,
		},
		{
			name: "symlink to a read-only file refused",
			setup: func(t *testing.T, dir string) string {
				writeMode(t, filepath.Join(dir, "real.txt"), "old", 0o444)
				return symlink(t, "real.txt", filepath.Join(dir, "link.txt"))
			},
			want: ErrReadOnly,
		},
		{
			name: "dangling symlink refused",
			setup: func(t *testing.T, dir string) string {
				return symlink(t, "missing.txt", filepath.Join(dir, "link.txt"))
			},
			want: fs.ErrNotExist,
		},
		{
			name: "render error leaves the original intact",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "out.txt")
				writeMode(t, p, "old", 0o644)
				return p
			},
			fill: func(w io.Writer) error {
				io.WriteString(w, "half")
				return errRender
			},
			want: errRender,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tc.setup(t, dir)
			before := listDir(t, dir)
			fill := tc.fill
			if fill == nil {
				fill = func(w io.Writer) error {
					_, err := io.WriteString(w, "new")
					return err
				}
			}
			err := Write(path, 0o644, fill)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				tc.check(t, dir)
				for _, name := range listDir(t, dir) {
					if strings.Contains(name, ".tmp-") {
						t.Errorf("temporary file %s left behind", name)
					}
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Write = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			// No temporary file left, nothing replaced or added.
			if got := listDir(t, dir); !slices.Equal(got, before) {
				t.Errorf("folder holds %v after the failed write, want %v", got, before)
			}
			if tc.want == errRender {
				wantFile(t, path, "old", 0o644)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	if err := WriteFile(p, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantFile(t, p, "data", 0o600)
}

func writeMode(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) string {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlink: %v", err)
	}
	return link
}

func wantFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != content {
		t.Errorf("%s holds %q, want %q", path, data, content)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// Windows has no Unix permission bits to keep.
	if runtime.GOOS != "windows" && fi.Mode().Perm() != mode {
		t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), mode)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
