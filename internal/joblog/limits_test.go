package joblog

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/limits"
)

// The log-line and log-failures limits (--limit) replace the defaults, and
// the notes name them and how to raise them.
func TestReadRaisedLimits(t *testing.T) {
	msg := "remote: Authentication by CI/CD job token not allowed from c to b."
	line := strings.Repeat("x", 2*MaxMatchLine) + msg + strings.Repeat("y", 2*MaxMatchLine)
	res, err := Read("l", strings.NewReader(line), ReadOptions{})
	if err != nil || len(res.Failures) != 0 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "(limit log-line; raise with --limit log-line=128KiB)") {
		t.Fatalf("default: %v %+v %q", err, res.Failures, res.Notes)
	}
	res, err = Read("l", strings.NewReader(line), ReadOptions{MaxMatchLine: 8 * MaxMatchLine})
	if err != nil || len(res.Failures) != 1 || len(res.Notes) != 0 {
		t.Fatalf("raised: %v %+v %q", err, res.Failures, res.Notes)
	}

	var b strings.Builder
	for i := range 20 {
		fmt.Fprintf(&b, "remote: Authentication by CI/CD job token not allowed from c to p%d.\n", i)
	}
	res, err = Read("l", strings.NewReader(b.String()), ReadOptions{MaxFailures: 5})
	if err != nil || len(res.Failures) != 5 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "raise with --limit log-failures=10") {
		t.Fatalf("failures: %v %d %q", err, len(res.Failures), res.Notes)
	}
}

// The exported defaults are the ones internal/limits lists.
func TestDefaultsAreTheList(t *testing.T) {
	if limits.Default(limits.LogLine) != MaxMatchLine || limits.Default(limits.LogFailures) != MaxFailures {
		t.Errorf("list %d, %d; package %d, %d", limits.Default(limits.LogLine), limits.Default(limits.LogFailures), MaxMatchLine, MaxFailures)
	}
}
