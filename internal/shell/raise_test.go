package shell

import (
	"strings"
	"testing"
)

// Options carry the limits --limit raises; each message names the limit
// and how to raise it, and a raised limit lets the analysis through.
func TestRaisedLimits(t *testing.T) {
	src := strings.Repeat("curl https://example.com/a\n", 30)
	r := Analyze(script(src), jobEnv(), Options{MaxSteps: 10})
	if len(r.Diags) != 1 || !strings.Contains(r.Diags[0].Summary, "after 10 steps") || !strings.Contains(r.Diags[0].Summary, "raise with --limit shell-steps=20") {
		t.Errorf("steps: %v", r.Diags)
	}
	if r = Analyze(script(src), jobEnv(), Options{MaxSteps: 100}); len(r.Diags) != 0 || len(r.Commands) != 30 {
		t.Errorf("steps raised: %d commands, %v", len(r.Commands), r.Diags)
	}
	r = Analyze(script(src), jobEnv(), Options{MaxCommands: 5})
	if len(r.Diags) != 1 || !strings.Contains(r.Diags[0].Summary, "raise with --limit shell-commands=10") {
		t.Errorf("commands: %v", r.Diags)
	}
	r = Analyze(script(src), jobEnv(), Options{MaxScriptSize: 100})
	if len(r.Commands) != 0 || len(r.Diags) != 1 || !strings.Contains(r.Diags[0].String(), "raise with --limit script-size=") {
		t.Errorf("size: %d commands, %v", len(r.Commands), r.Diags)
	}
	if r = Analyze(script(src), jobEnv(), Options{MaxScriptSize: 1000}); len(r.Commands) != 30 {
		t.Errorf("size raised: %d commands, %v", len(r.Commands), r.Diags)
	}
}
