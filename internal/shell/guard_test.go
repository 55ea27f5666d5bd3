package shell

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/limits"
)

// TestParseLimits feeds texts that overflowed the parser's stack (a fatal
// error no recover catches) or would take it long; each must be refused
// at once with a diagnostic naming the limit and the script's place.
func TestParseLimits(t *testing.T) {
	tests := []struct {
		name, src, diag string
	}{
		// 3.6 MB inline item of 600k nested "$(" (the reported crash).
		{"huge nested substitutions", "echo " + strings.Repeat("$(", 1_800_000), "more than the limit of 1048576 bytes"},
		// Under the size limit, still deep enough to exhaust the stack.
		{"deep substitutions", "echo " + strings.Repeat("$(", 500_000), "more than 1000 levels deep"},
		{"deep quoted substitutions", "echo " + strings.Repeat(`"$(`, 300_000), "more than 1000 levels deep"},
		{"deep subshells", strings.Repeat("(", 100_000), "more than 1000 levels deep"},
		{"deep braces", strings.Repeat("{ ", 100_000), "more than 1000 levels deep"},
		{"deep parameters", "echo " + strings.Repeat("${a:-", 100_000), "more than 1000 levels deep"},
		{"deep if", strings.Repeat("if a; then ", 50_000), "more than 1000 levels deep"},
		{"deep arithmetic", "echo $((" + strings.Repeat("(", 100_000), "more than 1000 levels deep"},
		{"deep process substitution", "cat " + strings.Repeat("<(", 100_000), "more than 1000 levels deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r := Analyze(script(tt.src), jobEnv(), Options{})
			if d := time.Since(start); d > 2*time.Second { // typical: milliseconds
				t.Errorf("took %v", d)
			}
			found := false
			for _, d := range r.Diags {
				if strings.Contains(d.Summary, tt.diag) && d.File == ".gitlab-ci.yml" && d.Line == 10 {
					found = true
				}
			}
			if !found {
				t.Errorf("diags %v; want one at .gitlab-ci.yml:10 containing %q", r.Diags, tt.diag)
			}
		})
	}
}

// TestNestingDepthNoFalseAlarm checks that brackets in comments, quotes
// and case patterns do not count, so real scripts are never refused.
func TestNestingDepthNoFalseAlarm(t *testing.T) {
	for _, src := range []string{
		strings.Repeat("# (((( [[[ {{{ if for while\n", 2000) + "echo ok",
		strings.Repeat("echo '((((' \"{{ [[\" \\(\n", 2000),
		strings.Repeat("case $x in a) echo a;; b) echo b;; esac\n", 2000),
		strings.Repeat("if [ -n \"$(git rev-parse ${REF:-HEAD})\" ]; then for i in 1 2; do echo $((i+1)); done; fi\n", 2000),
	} {
		if d := nestingDepth(src); d > 10 {
			t.Errorf("nestingDepth = %d for %.60q", d, src)
		}
	}
	if d := nestingDepth("echo $(a $(b ${c:-$(d)}))"); d != 4 {
		t.Errorf("nestingDepth = %d; want 4", d)
	}
}

// TestParseLimitsMemory measures the worst case: the largest text let
// through to the parser, nested as deep as allowed. Run with -v to see
// the figure.
func TestParseLimitsMemory(t *testing.T) {
	maxInline := int(limits.Default(limits.ScriptSize))
	src := strings.Repeat("$(", maxParseNesting) + strings.Repeat("x ", maxInline/2)
	src = src[:maxInline]
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	Analyze(script(src), jobEnv(), Options{})
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	t.Logf("worst parse: %d bytes, %d levels: %v, %d MiB allocated, stack in use %d MiB, heap peak (sys) %d MiB",
		len(src), maxParseNesting, elapsed, (after.TotalAlloc-before.TotalAlloc)>>20, after.StackInuse>>20, after.Sys>>20)
	if after.Sys > 1<<30 {
		t.Errorf("memory from the OS %d MiB; want under 1 GiB", after.Sys>>20)
	}
}

func TestExpandVarsBounded(t *testing.T) {
	env := MapEnv{"A": strings.Repeat("a", maxValueLen/2+1)}
	w := ExpandVars("$A/$A/${A}", env)
	if len(w.Value) > maxValueLen+len("/$A/${A}") {
		t.Errorf("value %d bytes; want at most about %d", len(w.Value), maxValueLen)
	}
	if w.Known() || w.Unknown[0] != "A" {
		t.Errorf("Unknown = %v; want A (its value did not fit)", w.Unknown)
	}
	if w := ExpandVars("x$A", env); !w.Known() || len(w.Value) != maxValueLen/2+2 {
		t.Errorf("a value that fits: %d bytes, unknown %v", len(w.Value), w.Unknown)
	}
}

// TestInterpreterBounds: scripts whose arrays or words double without end
// (a 42-line array doubling passed 4 GiB) stay within bounded memory and
// time; an array over the bound becomes unknown with a warning.
func TestInterpreterBounds(t *testing.T) {
	double := func(stmt string) string { return strings.Repeat(stmt+"\n", 40) }
	long := strings.Repeat("x", 65000)
	tests := []struct{ name, src, diag string }{
		{"array doubling", "a=(x y)\n" + double(`a=("${a[@]}" "${a[@]}")`) + "echo ${#a[@]}", "array a would hold more than 4096 elements"},
		{"array append doubling", "a=(x y)\n" + double(`a+=("${a[@]}")`), "array a would hold more than 4096 elements"},
		{"declare doubling", "declare -a a=(x y)\n" + double(`declare -a a=("${a[@]}" "${a[@]}")`), "array a would hold more than"},
		{"array of joined strings", "a=(xxxxxxxxxxxxxxxx)\n" + double(`a=("${a[*]}${a[*]}" "${a[@]}")`), "array a would hold more than"},
		{"sparse index doubling", "a[0]=x\na[1000]=y\n" + strings.Repeat("b=(\"${a[@]}\" \"${a[@]}\")\na=(\"${b[@]}\" \"${b[@]}\")\n", 20), "would hold more than"},
		{"loop doubling", "a=(x)\nfor i in " + strings.Repeat("1 ", 30) + "; do a=(\"${a[@]}\" \"${a[@]}\"); done", ""},
		{"one word naming a long value 200k times", "X=" + long + "\necho " + strings.Repeat("$X", 200_000), ""},
		{"array literal of long words", "X=" + long + "\na=(" + strings.Repeat("$X$X$X ", 10_000) + ")", "array a would hold more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			r := Analyze(script(tt.src), jobEnv(), Options{})
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			t.Logf("%v, %d MiB allocated, %d MiB from the OS", elapsed, (after.TotalAlloc-before.TotalAlloc)>>20, after.Sys>>20)
			if elapsed > 2*time.Second { // typical: tens of milliseconds
				t.Errorf("took %v", elapsed)
			}
			if after.TotalAlloc-before.TotalAlloc > 1<<30 {
				t.Errorf("allocated %d MiB; want under 1 GiB", (after.TotalAlloc-before.TotalAlloc)>>20)
			}
			for _, c := range r.Commands {
				for _, a := range c.Args {
					if len(a.Value) > maxExpansion+16 {
						t.Errorf("argument of %d bytes", len(a.Value))
					}
				}
			}
			if tt.diag == "" {
				return
			}
			for _, d := range r.Diags {
				if strings.Contains(d.Summary, tt.diag) && d.File == ".gitlab-ci.yml" && d.Line >= 10 {
					return
				}
			}
			t.Errorf("diags %v; want one containing %q at a line of .gitlab-ci.yml", r.Diags, tt.diag)
		})
	}
}
