package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
)

// TestSignalStopsSnapshot builds the binary, starts a snapshot against a
// slow simulator and sends SIGTERM (then SIGINT) at several moments: the
// process ends within a second, says "interrupted" once, and leaves
// nothing beside the output (no partial snapshot, no temporary folder).
func TestSignalStopsSnapshot(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("signals")
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH")
	}
	bin := filepath.Join(t.TempDir(), "tokenscope")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	s, err := sim.Load(filepath.Join("..", "..", "examples", "acme"), sim.Options{Latency: 40 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		s.ServeHTTP(w, r)
	}))
	defer srv.Close()

	args := []string{"snapshot", "--group", "platform", "--group", "libs", "--group", "apps", "--group", "infra", "--group", "data", "--group", "sandbox", "-o"}
	env := append(os.Environ(), "GITLAB_URL="+srv.URL, "GITLAB_TOKEN=glpat-signalT3stT0ken00000")
	// A whole run first: the signals go at fractions of its length, so
	// that they land while the org is read and while the snapshot is
	// written.
	full := exec.Command(bin, append(args, filepath.Join(t.TempDir(), "snap"))...)
	full.Env = env
	start := time.Now()
	if out, err := full.CombinedOutput(); err != nil {
		t.Fatalf("snapshot: %v\n%s", err, out)
	}
	whole := time.Since(start)
	t.Logf("a whole snapshot takes %v", whole.Round(time.Millisecond))
	type signalAt struct {
		sig   syscall.Signal
		after time.Duration
	}
	var cases []signalAt
	for i, f := range []float64{0.1, 0.3, 0.5, 0.7, 0.85, 0.95} {
		sig := syscall.SIGTERM
		if i%2 == 1 {
			sig = syscall.SIGINT
		}
		cases = append(cases, signalAt{sig, time.Duration(f * float64(whole))})
	}
	for _, tc := range cases {
		out := t.TempDir()
		cmd := exec.Command(bin, append(args, filepath.Join(out, "snap"))...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		before := requests.Load()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			t.Logf("%v after %v: the snapshot ended before the signal (%v): nothing to test", tc.sig, tc.after, err)
			continue
		case <-time.After(tc.after):
		}
		if requests.Load() == before {
			t.Errorf("%v after %v: no request reached the simulator yet", tc.sig, tc.after)
		}
		sent := time.Now()
		if err := cmd.Process.Signal(tc.sig); err != nil {
			t.Fatal(err)
		}
		var werr error
		select {
		case werr = <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v after %v: still running 5 s after the signal", tc.sig, tc.after)
		}
		took := time.Since(sent)
		t.Logf("%v after %v: exit %v in %v", tc.sig, tc.after, werr, took.Round(time.Millisecond))
		if took > time.Second {
			t.Errorf("%v after %v: took %v to stop; want under 1 s", tc.sig, tc.after, took)
		}
		msg := stderr.String()
		if werr == nil && strings.Contains(msg, "wrote ") {
			// The signal came as the run ended: the snapshot it wrote is
			// whole (renamed into place at once), and nothing else is left.
			entries, _ := os.ReadDir(out)
			if _, err := os.Stat(filepath.Join(out, "snap", "inventory.yaml")); err != nil || len(entries) != 1 {
				t.Errorf("%v after %v: a run that ended left %v", tc.sig, tc.after, entries)
			}
			continue
		}
		if strings.Count(msg, "interrupted") != 1 || strings.Contains(msg, "context canceled") {
			t.Errorf("%v after %v: stderr should say interrupted once:\n%s", tc.sig, tc.after, msg)
		}
		if ee, ok := werr.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("%v after %v: exit %v; want 1", tc.sig, tc.after, werr)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("%v after %v: left behind: %v", tc.sig, tc.after, names)
		}
	}
}

// TestSignalStopsBlockedRead: diagnose reading a log from a standard
// input that never ends is blocked where no context reaches; Ctrl-C still
// ends it within a second, with one message.
func TestSignalStopsBlockedRead(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("signals")
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH")
	}
	bin := filepath.Join(t.TempDir(), "tokenscope")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "diagnose", "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdin.Write([]byte("$ curl https://gitlab.example.com/api/v4/projects/1\n"))
	time.Sleep(300 * time.Millisecond)
	sent := time.Now()
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatal("still running 5 s after Ctrl-C")
	}
	took := time.Since(sent)
	t.Logf("exit %v in %v", err, took.Round(time.Millisecond))
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || took > time.Second {
		t.Errorf("exit %v after %v; want 1 within 1 s", err, took)
	}
	if n := strings.Count(stderr.String(), "interrupted"); n != 1 {
		t.Errorf("stderr says interrupted %d times:\n%s", n, stderr.String())
	}
}
