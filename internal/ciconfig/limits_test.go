package ciconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/inventory"
)

// fast runs f and fails when it takes longer than d: hostile input must be
// refused quickly, not after it has been expanded.
func fast(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	start := time.Now()
	f()
	// The bounds catch hangs and exponential blow-ups (a real bomb takes
	// minutes or all memory), not slowness: a shared 2-core CI machine can
	// be ten times slower than a developer's, so allow that.
	d *= raceSlowdown * 10
	if el := time.Since(start); el > d {
		t.Errorf("took %v, want under %v", el, d)
	}
}

func billionLaughs(levels int) string {
	var b strings.Builder
	b.WriteString(`.a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	for i := 1; i < levels; i++ {
		fmt.Fprintf(&b, ".a%d: &a%d [", i, i)
		for j := range 9 {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	fmt.Fprintf(&b, "job:\n  script: *a%d\n", levels-1)
	return b.String()
}

// The billion laughs: aliases of aliases expand to 9^9 values. GitLab's
// DeepSize check rejects it; so must we, without expanding it.
func TestYAMLBomb(t *testing.T) {
	var cfg *Config
	fast(t, 500*time.Millisecond, func() {
		cfg = loadApp(t, "include: ci/bomb.yml\nok:\n  script: [echo]\n", memFiles{app: {"ci/bomb.yml": billionLaughs(9)}})
	})
	d := requireDiag(t, cfg, diag.Error, "the parsed YAML is too big")
	if d.File != "ci/bomb.yml" || d.Project != app {
		t.Errorf("the error names %s/%s", d.Project, d.File)
	}
	jobNamed(t, cfg, "ok")

	// A small expansion is fine: 9^4 values.
	cfg = loadApp(t, billionLaughs(4), nil, withLimits(Limits{MaxNodes: 100_000}))
	requireClean(t, cfg)
	if n := len(jobNamed(t, cfg, "job").Script); n != 6561 {
		t.Errorf("%d script items, want 9^4", n)
	}
}

// Merge keys copy keys; a chain of merges of a wide mapping is bounded by
// the same budget.
func TestMergeKeyBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("m0: &m0 {")
	for i := range 200 {
		fmt.Fprintf(&b, "k%d: v, ", i)
	}
	b.WriteString("end: v}\n")
	for i := 1; i < 5000; i++ {
		fmt.Fprintf(&b, "m%d: &m%d {<<: *m%d, x%d: v}\n", i, i, i-1, i)
	}
	var cfg *Config
	fast(t, time.Second, func() {
		cfg = loadApp(t, b.String(), nil)
	})
	requireDiag(t, cfg, diag.Error, "the parsed YAML is too big")
}

func TestYAMLDepth(t *testing.T) {
	var cfg *Config
	fast(t, 500*time.Millisecond, func() {
		cfg = loadApp(t, "deep: "+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+"\njob: {script: [echo]}\n", nil)
	})
	d := requireDiag(t, cfg, diag.Error, "nested more than 100 levels deep")
	if d.Line != 1 {
		t.Errorf("line %d", d.Line)
	}
	// Depth through aliases counts too.
	var b strings.Builder
	b.WriteString("d0: &d0 [x]\n")
	for i := 1; i <= 120; i++ {
		fmt.Fprintf(&b, "d%d: &d%d [*d%d]\n", i, i, i-1)
	}
	cfg = loadApp(t, b.String(), nil)
	requireDiag(t, cfg, diag.Error, "nested more than 100 levels deep")
}

func TestMaxNodesLimit(t *testing.T) {
	ci := "job:\n  script:\n" + strings.Repeat("    - echo x\n", 200)
	cfg := loadApp(t, ci, nil, withLimits(Limits{MaxNodes: 100}))
	requireDiag(t, cfg, diag.Error, "too big")
	cfg = loadApp(t, ci, nil, withLimits(Limits{MaxNodes: 1000}))
	requireClean(t, cfg)
}

// A file larger than the snapshot reader allows is refused by name.
func TestHugeFile(t *testing.T) {
	dir := t.TempDir()
	proj := filepath.Join(dir, "g", "app")
	if err := os.MkdirAll(filepath.Join(proj, "ci"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(proj, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".gitlab-ci.yml", "include: ci/huge.yml\njob:\n  script: [echo]\n")
	line := "    - echo " + strings.Repeat("x", 100) + "\n"
	write("ci/huge.yml", "huge:\n  script:\n"+strings.Repeat(line, inventory.MaxFileSize/len(line)+10))
	snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var cfg *Config
	fast(t, time.Second, func() {
		cfg = Load(app, ".gitlab-ci.yml", Options{Files: snap})
	})
	d := requireDiag(t, cfg, diag.Error, "ci/huge.yml is too large")
	if d.File != ".gitlab-ci.yml" || d.Line != 1 {
		t.Errorf("reported at %s:%d, want the include line", d.File, d.Line)
	}
	equalStrings(t, "jobs", jobNames(cfg), []string{"job"})

	// Under a small total-size limit, a big file is refused before parsing.
	cfg = loadApp(t, "include: ci/big.yml\n", memFiles{app: {"ci/big.yml": strings.Repeat("# pad\n", 100_000)}}, withLimits(Limits{MaxTotalBytes: 100_000}))
	requireDiag(t, cfg, diag.Error, "Total size of combined CI/CD configuration is too big")
}

func TestNilFiles(t *testing.T) {
	cfg := Load(app, ".gitlab-ci.yml", Options{})
	requireDiag(t, cfg, diag.Error, "no repository files")
}

func TestMissingRoot(t *testing.T) {
	// A project without CI configuration is normal: no diagnostic, and the
	// caller learns it from Missing.
	cfg := Load(app, ".gitlab-ci.yml", Options{Files: memFiles{app: {}}})
	if !cfg.Missing || len(cfg.Diags) != 0 || len(cfg.Jobs) != 0 {
		t.Errorf("Missing = %v, diags %v, jobs %d", cfg.Missing, cfg.Diags, len(cfg.Jobs))
	}
	if cfg := Load(app, ".gitlab-ci.yml", Options{Files: memFiles{app: {".gitlab-ci.yml": "a:\n  script: [x]\n"}}}); cfg.Missing {
		t.Error("Missing set for a project with configuration")
	}
}
