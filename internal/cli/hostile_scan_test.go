//go:build unix

package cli_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestScanHostileSnapshot: one snapshot holding a project of each hostile
// kind next to a good one. The scan must finish quickly (a FIFO read would
// hang, the others blew the stack or took gigabytes), report each bad
// project with its file, and still analyse the good project.
func TestScanHostileSnapshot(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("apps/good/.gitlab-ci.yml", "job:\n  script:\n    - git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/platform/tools.git\n")
	write("bad/nest/.gitlab-ci.yml", "job:\n  script:\n    - 'echo "+strings.Repeat("$(", 1_800_000)+"'\n")
	write("bad/deep/.gitlab-ci.yml", "job: "+strings.Repeat("[", 10_000)+strings.Repeat("]", 10_000)+"\n")
	var vars strings.Builder
	vars.WriteString("variables:\n  V0: 'xxxxxxxxxx'\n")
	for i := 1; i < 30; i++ {
		fmt.Fprintf(&vars, "  V%d: '%s'\n", i, strings.Repeat(fmt.Sprintf("$V%d", i-1), 10))
	}
	write("bad/laughs/.gitlab-ci.yml", vars.String()+"job:\n  script:\n    - 'curl https://gitlab.example.com/$V29'\n")
	write("bad/inputs/.gitlab-ci.yml", "include:\n  - local: inc.yml\n")
	write("bad/inputs/inc.yml", "spec:\n  inputs:\n    x:\n      default: '"+strings.Repeat("a", 100_000)+"'\n---\njob:\n  script:\n"+strings.Repeat("    - echo $[[ inputs.x ]]\n", 9000))
	write("bad/array/.gitlab-ci.yml", "job:\n  script:\n    - ./ci/x.sh\n")
	write("bad/array/ci/x.sh", "a=(x y)\n"+strings.Repeat(`a=("${a[@]}" "${a[@]}")`+"\n", 40))
	if err := os.MkdirAll(filepath.Join(dir, "bad/fifo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "bad/fifo/.gitlab-ci.yml"), 0o644); err != nil {
		t.Skip(err)
	}
	if err := os.Symlink("../apps/good", filepath.Join(dir, "bad/link")); err != nil {
		t.Skip(err)
	}
	write("bad/passwd/ci.sh", "")
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "bad/passwd/.gitlab-ci.yml")); err != nil {
		t.Skip(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		code, stdout, stderr := run(ctx, "scan", dir, "--server-url", "https://gitlab.example.com")
		done <- result{code, stdout, stderr}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("scan did not finish in 30 s (blocked on a FIFO?)")
	}
	if el := time.Since(start); el > 10*time.Second { // typically 0.2 s
		t.Errorf("scan took %v", el)
	}
	for _, want := range []string{
		"bad/link: warning: symbolic link to a folder",
		"bad/fifo/.gitlab-ci.yml: error: bad/fifo/.gitlab-ci.yml: named pipe (FIFO): skipped",
		"bad/passwd/.gitlab-ci.yml: error: bad/passwd/.gitlab-ci.yml: symbolic link that leads outside the snapshot",
		"bad/nest/.gitlab-ci.yml:3: error: cannot parse the script as shell: script is 3600005 bytes, more than the limit of 1048576 bytes",
		"bad/deep/.gitlab-ci.yml:1: error: the parsed YAML is nested more than 100 levels deep",
		"bad/inputs/.gitlab-ci.yml:2: error: inc.yml: interpolation makes the file larger than 8388608 bytes",
		"bad/array/ci/x.sh:13: warning: array a would hold more than 4096 elements",
		"bad/laughs/.gitlab-ci.yml:6: warning: variable V4 expands to more than 65536 bytes",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	// The good project is still analysed.
	if !strings.Contains(r.stdout, "apps/good") || !strings.Contains(r.stdout, "platform/tools") {
		t.Errorf("the good project's reference is missing (exit %d):\n%s", r.code, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "root:x:") {
		t.Error("/etc/passwd was read")
	}
}
