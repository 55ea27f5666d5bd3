//go:build unix

package sim_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
)

// A snapshot may hold named pipes where files or job logs belong: the
// simulator must skip them, not block on them (a FIFO opened for reading
// waits for a writer that never comes). Each step runs with a timeout, so
// a regression fails the test instead of hanging it.
func TestLoadSkipsNamedPipes(t *testing.T) {
	dir := writeOrg(t)
	for _, name := range []string{"_jobs/apps/web/99.log", "platform/build-scripts/scripts/fifo.sh"} {
		if err := syscall.Mkfifo(filepath.Join(dir, filepath.FromSlash(name)), 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
	}
	var s *sim.Server
	var err error
	within(t, 5*time.Second, func() { s, err = sim.Load(dir, sim.Options{Tokens: testTokens}) })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	var fifo, regular int
	within(t, 5*time.Second, func() {
		fifo, _ = raw(t, "GET", ts.URL+"/api/v4/projects/102/repository/files/scripts%2Ffifo.sh/raw?ref=main", tokAdmin, "")
		regular, _ = raw(t, "GET", ts.URL+"/api/v4/projects/102/repository/files/scripts%2Fbuild.sh/raw?ref=main", tokAdmin, "")
	})
	if fifo == 200 || regular != 200 {
		t.Errorf("raw fifo.sh = %d (want not 200), build.sh = %d (want 200)", fifo, regular)
	}
	if _, err := os.Lstat(filepath.Join(dir, "_jobs/apps/web/99.log")); err != nil {
		t.Error(err)
	}
}

// within fails the test when f does not return in d.
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("did not finish in %v (blocked on a named pipe?)", d)
	}
}
