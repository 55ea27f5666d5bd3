package cli_test

import (
	"bytes"
	"context"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/cli"
	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
)

const liveToken = "glpat-Cl1T0kenNeverPrinted-42"

func acmeDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", "acme")
}

func serveAcme(t *testing.T, o sim.Options) string {
	t.Helper()
	s, err := sim.Load(acmeDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL
}

func run(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	io := &cli.IO{Out: &out, Err: &errb, In: strings.NewReader(""), Now: time.Now,
		Getenv: func(k string) string {
			if k == "GITLAB_TOKEN" {
				return liveToken
			}
			return ""
		}}
	code = cli.Main(ctx, args, io)
	return code, out.String(), errb.String()
}

var acmeGroupArgs = []string{"--group", "platform", "--group", "libs", "--group", "apps", "--group", "infra", "--group", "data", "--group", "sandbox"}

// Ctrl-C in the middle of a snapshot: no output folder, no temporary
// folder, and an earlier snapshot at -o is left as it was.
func TestSnapshotInterruptedLeavesNothing(t *testing.T) {
	url := serveAcme(t, sim.Options{Latency: 40 * time.Millisecond})
	parent := t.TempDir()
	out := filepath.Join(parent, "snap")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(150*time.Millisecond, cancel)
	code, _, stderr := run(ctx, append([]string{"snapshot", "--gitlab", url, "-o", out}, acmeGroupArgs...)...)
	if code == 0 {
		t.Fatal("interrupted snapshot succeeded; the interruption came too late to test anything")
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("left behind: %v (stderr %s)", entries, stderr)
	}
	// Now with an earlier snapshot in place.
	code, _, stderr = run(context.Background(), append([]string{"snapshot", "--gitlab", url, "-o", out}, acmeGroupArgs...)...)
	if code != 0 {
		t.Fatalf("snapshot: %d %s", code, stderr)
	}
	before, _ := os.ReadFile(filepath.Join(out, "inventory.yaml"))
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(150*time.Millisecond, cancel)
	run(ctx, append([]string{"snapshot", "--gitlab", url, "-o", out}, acmeGroupArgs...)...)
	after, err := os.ReadFile(filepath.Join(out, "inventory.yaml"))
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("earlier snapshot changed by an interrupted run: %v", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

// The token never reaches stdout, stderr or any file written, whatever
// goes wrong: permission gaps, faults, a refused token.
func TestTokenNeverInOutput(t *testing.T) {
	out := t.TempDir()
	var all strings.Builder
	check := func(code int, stdout, stderr string) {
		all.WriteString(stdout)
		all.WriteString(stderr)
	}
	gaps := serveAcme(t, sim.Options{Tokens: []sim.Token{{Value: liveToken, Role: sim.RoleDeveloper}}, FailRate: 0.1, Seed: 3,
		// Server errors and dropped connections: their messages travel up
		// through retries. (429s are covered, slower, in package gitlab.)
		Faults: []sim.Fault{sim.Fault500, sim.Fault502, sim.FaultDrop}})
	check(run(context.Background(), append([]string{"snapshot", "--gitlab", gaps, "-o", filepath.Join(out, "s1")}, acmeGroupArgs...)...))
	check(run(context.Background(), append([]string{"scan", "--gitlab", gaps, "--format", "json"}, acmeGroupArgs...)...))
	refused := serveAcme(t, sim.Options{Tokens: []sim.Token{{Value: "some-other-token", Role: sim.RoleOwner}}})
	code, stdout, stderr := run(context.Background(), append([]string{"snapshot", "--gitlab", refused, "-o", filepath.Join(out, "s2")}, acmeGroupArgs...)...)
	check(code, stdout, stderr)
	if code == 0 || !strings.Contains(stderr, "401") {
		t.Errorf("refused token: exit %d, stderr %s", code, stderr)
	}
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			all.Write(data)
		}
		return nil
	})
	if strings.Contains(all.String(), liveToken) {
		t.Error("the token appears in the output")
	}
	if !strings.Contains(all.String(), "Maintainer") {
		t.Error("no permission gap reported; the test did not exercise gaps")
	}
}
