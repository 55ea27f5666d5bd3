package ciconfig

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/diag"
)

// Deep flow and block nesting: 10k "[" (a 20 KB file) must be refused by
// the depth bound with the file and line, not recursed into.
func TestDeepNestingRefused(t *testing.T) {
	for name, src := range map[string]string{
		"flow sequences": "job: " + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + "\nok:\n  script: [echo]\n",
		"flow mappings":  "job: " + strings.Repeat("{a: ", 10_000) + "1" + strings.Repeat("}", 10_000) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			var cfg *Config
			fast(t, 200*time.Millisecond, func() {
				cfg = loadApp(t, "include: ci/deep.yml\n", memFiles{app: {"ci/deep.yml": src}})
			})
			d := requireDiag(t, cfg, diag.Error, "nested more than 100 levels deep")
			if d.File != "ci/deep.yml" || d.Line == 0 {
				t.Errorf("the error is at %s:%d; want ci/deep.yml and a line", d.File, d.Line)
			}
		})
	}
}

// spec:inputs interpolation repeating a long default: 9,000 blocks of a
// 100 KB string would write 900 MB. It must stop at maxInterpolatedBytes
// with an error naming the file, and the rest of the pipeline still load.
func TestInterpolationBounded(t *testing.T) {
	inc := "spec:\n  inputs:\n    x:\n      default: '" + strings.Repeat("a", 100_000) + "'\n---\n" +
		"job:\n  script:\n" + strings.Repeat("    - echo $[[ inputs.x ]]\n", 9000)
	var cfg *Config
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fast(t, 500*time.Millisecond, func() {
		cfg = loadApp(t, "include: ci/inputs.yml\nok:\n  script: [echo]\n", memFiles{app: {"ci/inputs.yml": inc}})
	})
	runtime.ReadMemStats(&after)
	t.Logf("interpolation bomb: %d MiB allocated, %d MiB from the OS", (after.TotalAlloc-before.TotalAlloc)>>20, after.Sys>>20)
	d := requireDiag(t, cfg, diag.Error, "interpolation makes the file larger than 8388608 bytes")
	if !strings.Contains(d.Summary, "ci/inputs.yml") || d.Line == 0 {
		t.Errorf("diagnostic %v; want it to name ci/inputs.yml at the include's line", d)
	}
	jobNamed(t, cfg, "ok")

	// The same input used a few times is fine.
	small := strings.Replace(inc, strings.Repeat("    - echo $[[ inputs.x ]]\n", 9000), strings.Repeat("    - echo $[[ inputs.x ]]\n", 10), 1)
	cfg = loadApp(t, "include: ci/inputs.yml\n", memFiles{app: {"ci/inputs.yml": small}})
	requireClean(t, cfg)
	if n := len(jobNamed(t, cfg, "job").Script); n != 10 {
		t.Errorf("%d script items, want 10", n)
	}
}

// A chain of variables each naming the previous one ten times: the job's
// variables would expand to 10^31 bytes. One warning names the first
// variable over the bound, and the check itself stays linear.
func TestVariableChainWarned(t *testing.T) {
	var b strings.Builder
	b.WriteString("variables:\n  V0: xxxxxxxxxx\n")
	for i := 1; i < 30; i++ {
		b.WriteString("  V" + itoa(i) + ": '" + strings.Repeat("$V"+itoa(i-1), 10) + "'\n")
	}
	b.WriteString("a:\n  script: [echo $V29]\nb:\n  script: [echo $V29]\n")
	var cfg *Config
	fast(t, 100*time.Millisecond, func() {
		cfg = loadApp(t, b.String(), nil)
	})
	d := requireDiag(t, cfg, diag.Warning, "variable V4 expands to more than 65536 bytes (and 25 other variables)")
	if d.File != ".gitlab-ci.yml" || d.Line != 6 {
		t.Errorf("warning at %s:%d; want .gitlab-ci.yml:6", d.File, d.Line)
	}
	n := 0
	for _, d := range cfg.Diags {
		if strings.Contains(d.Summary, "expands to more than") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d warnings; want one for the chain, whatever the number of jobs", n)
	}
	jobNamed(t, cfg, "a")
}

func itoa(i int) string { return strconv.Itoa(i) }
