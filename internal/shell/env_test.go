package shell

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestEnvSnapshots checks that every command keeps the environment of
// its own moment while later assignments go on, and that the layers
// stay shallow (no command copies the whole environment).
func TestEnvSnapshots(t *testing.T) {
	var sb strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&sb, "V%d=%d; COUNTER=%d; echo $COUNTER\n", i%50, i, i)
	}
	r := Analyze(script(sb.String()), jobEnv(), Options{})
	if len(r.Commands) != 1000 {
		t.Fatalf("%d commands", len(r.Commands))
	}
	for i, c := range r.Commands {
		if v, _ := c.Env.Get("COUNTER"); v != fmt.Sprint(i) {
			t.Fatalf("command %d sees COUNTER=%q", i, v)
		}
		if v, _ := c.Env.Get(fmt.Sprintf("V%d", i%50)); v != fmt.Sprint(i) {
			t.Fatalf("command %d sees V%d=%q", i, i%50, v)
		}
		if i >= 1 {
			// The variable set by the previous line is still there.
			if v, _ := c.Env.Get(fmt.Sprintf("V%d", (i-1)%50)); v != fmt.Sprint(i-1) {
				t.Fatalf("command %d sees V%d=%q", i, (i-1)%50, v)
			}
		}
		if v, _ := c.Env.Get("CI_PROJECT_PATH"); v != "acme/app-core" {
			t.Fatalf("command %d lost the job variables: %q", i, v)
		}
		depth := 0
		for l := c.Env.(*layer); l != nil; l = l.parent {
			depth++
		}
		if depth > maxLayers+2 {
			t.Fatalf("command %d: %d layers", i, depth)
		}
	}
}

func TestEnvExportedAndRange(t *testing.T) {
	r := Analyze(script("A=1\nexport B=2\nexport CI_PROJECT_NAME\nC=3 env\nunset CI_DEFAULT_BRANCH\nenv"), MapEnv{"CI_PROJECT_NAME": "app", "CI_DEFAULT_BRANCH": "main"}, Options{})
	if len(r.Commands) != 5 {
		t.Fatalf("commands %q", renderAll(r.Commands))
	}
	first := r.Commands[2].Env.(*layer)  // C=3 env
	second := r.Commands[4].Env.(*layer) // env
	for _, tt := range []struct {
		l        *layer
		name     string
		exported bool
	}{{first, "A", false}, {first, "B", true}, {first, "C", true}, {first, "CI_PROJECT_NAME", true}, {second, "C", false}, {second, "CI_DEFAULT_BRANCH", false}} {
		if got := tt.l.Exported(tt.name); got != tt.exported {
			t.Errorf("Exported(%s) = %v", tt.name, got)
		}
	}
	var names []string
	second.Range(func(name, value string) bool {
		names = append(names, name+"="+value)
		return true
	})
	if got, want := strings.Join(names, " "), "A=1 B=2 CI_PROJECT_NAME=app"; got != want {
		t.Errorf("Range: %q, want %q", got, want)
	}
}

// TestEnvNotCopiedPerCommand measures the memory a command costs with a
// large job environment: copying 300 variables per command would cost
// several KiB each.
func TestEnvNotCopiedPerCommand(t *testing.T) {
	env := jobEnv()
	for i := range 300 {
		env[fmt.Sprintf("PROJECT_VAR_%d", i)] = strings.Repeat("v", 40)
	}
	var sb strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&sb, "V%d=x; echo $V%d\n", i%7, i%7)
	}
	src := script(sb.String())
	Analyze(src, env, Options{}) // warm the parse cache
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := Analyze(src, env, Options{})
	runtime.ReadMemStats(&after)
	perCmd := (after.TotalAlloc - before.TotalAlloc) / uint64(len(r.Commands))
	t.Logf("%d bytes per command", perCmd)
	if perCmd > 1500 {
		t.Errorf("%d bytes allocated per command", perCmd)
	}
	if v, _ := r.Commands[999].Env.Get("PROJECT_VAR_299"); len(v) != 40 {
		t.Errorf("job variable lost: %q", v)
	}
}
