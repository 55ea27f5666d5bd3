//go:build unix

package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// within fails the test when f does not return in d: opening a FIFO for
// reading without O_NONBLOCK blocks until a writer comes, which would hang
// the test rather than fail it.
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("did not finish in %v (blocked on a special file?)", d)
	}
}

func TestReadFileSkipsSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"apps/web/ci/ok.sh": "echo ok\n"})
	if err := syscall.Mkfifo(filepath.Join(dir, "apps/web/.gitlab-ci.yml"), 0o644); err != nil {
		t.Skip(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "apps/web/passwd.yml")); err != nil {
		t.Skip(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "apps/web/zero.yml")); err != nil {
		t.Skip(err)
	}
	if err := os.Symlink(".gitlab-ci.yml", filepath.Join(dir, "apps/web/fifo-link.yml")); err != nil {
		t.Skip(err)
	}
	within(t, 5*time.Second, func() {
		snap, diags, err := Load(dir, LoadOptions{})
		if err != nil {
			t.Error(err)
			return
		}
		defer snap.Close()
		if len(diags) != 1 || diags[0].String() != "apps/web/.gitlab-ci.yml: warning: named pipe (FIFO): skipped, never opened: only regular files inside the snapshot are read" {
			t.Errorf("diagnostics %v; want one warning naming the FIFO", diags)
		}
		if !snap.HasFiles("apps/web") {
			t.Error("a FIFO named .gitlab-ci.yml still marks a project folder")
		}
		for name, want := range map[string]string{
			".gitlab-ci.yml": "named pipe",
			"fifo-link.yml":  "named pipe",
			"passwd.yml":     "outside the snapshot",
			"zero.yml":       "outside the snapshot",
		} {
			data, err := snap.ReadFile("apps/web", name)
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), name) {
				t.Errorf("ReadFile(%s) = %q, %v; want ErrNotRegular naming the file and %q", name, data, err, want)
			}
		}
		if data, err := snap.ReadFile("apps/web", "ci/ok.sh"); err != nil || string(data) != "echo ok\n" {
			t.Errorf("regular file next to them: %q, %v", data, err)
		}
	})
}

func TestLoadInventoryFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, FileName), 0o644); err != nil {
		t.Skip(err)
	}
	within(t, 5*time.Second, func() {
		_, _, err := Load(dir, LoadOptions{})
		if err == nil || !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), FileName) {
			t.Errorf("Load with a FIFO inventory: %v; want an error naming %s", err, FileName)
		}
	})
}

func TestLoadReportsSymlinkedFolders(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"evil/.gitlab-ci.yml": "a: 1\n"})
	writeFiles(t, dir, map[string]string{"apps/web/.gitlab-ci.yml": "a: 1\n", "notes.txt": "x"})
	for link, target := range map[string]string{
		"apps/copy":     "web", // inside: would scan apps/web twice
		"apps/outside":  filepath.Join(outside, "evil"),
		"apps/dangling": filepath.Join(outside, "missing"),
		"apps/file":     "../notes.txt", // a file: no project, no word
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Skip(err)
		}
	}
	snap, diags, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var got []string
	for _, p := range snap.Inventory.Projects {
		got = append(got, p.Path)
	}
	if strings.Join(got, " ") != "apps/web" {
		t.Errorf("projects = %v; symbolic links must not be followed", got)
	}
	var lines []string
	for _, d := range diags {
		lines = append(lines, d.String())
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{"apps/copy: warning: symbolic link to a folder", "apps/outside: warning: symbolic link that leads outside", "apps/dangling: warning: symbolic link that leads outside"} {
		if !strings.Contains(all, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "apps/file") {
		t.Errorf("a link to a file was reported:\n%s", all)
	}
}
