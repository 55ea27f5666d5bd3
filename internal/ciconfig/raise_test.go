package ciconfig

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/diag"
)

// The limits --limit raises (internal/limits) are read from Options.Limits,
// and the message of each names the limit and how to raise it.
func TestRaisedLimits(t *testing.T) {
	var vals []string
	for i := range 10 {
		vals = append(vals, fmt.Sprint(i))
	}
	list := "[" + strings.Join(vals, ", ") + "]"
	matrix := "job:\n  script: [echo]\n  parallel:\n    matrix:\n      - A: " + list + "\n        B: " + list + "\n"
	cfg := loadApp(t, matrix, nil)
	d := requireDiag(t, cfg, diag.Warning, "parallel:matrix has 100 combinations")
	if !strings.Contains(d.Detail, "raise with --limit matrix-variants=128") {
		t.Errorf("detail %q", d.Detail)
	}
	cfg = loadApp(t, matrix, nil, withLimits(Limits{MaxMatrixVariants: 100}))
	requireClean(t, cfg)
	if n := len(jobNamed(t, cfg, "job").Variants); n != 100 {
		t.Errorf("%d variants with the limit raised, want 100", n)
	}

	nested := memFiles{app: {"ci/a.yml": "include: [ci/b.yml, ci/b.yml]\n", "ci/b.yml": "b:\n  script: [echo]\n"}}
	cfg = loadApp(t, "include: [ci/a.yml, ci/a.yml]\n", nested, withLimits(Limits{MaxIncludes: 5}))
	d = requireDiag(t, cfg, diag.Error, "Maximum of 5 nested includes")
	if !strings.Contains(d.Detail, "raise with --limit includes=10") {
		t.Errorf("detail %q", d.Detail)
	}

	inc := "spec:\n  inputs:\n    x:\n      default: '" + strings.Repeat("a", 1000) + "'\n---\n" +
		"job:\n  script:\n" + strings.Repeat("    - echo $[[ inputs.x ]]\n", 20)
	files := memFiles{app: {"ci/inputs.yml": inc}}
	cfg = loadApp(t, "include: ci/inputs.yml\n", files, withLimits(Limits{MaxInterpolatedBytes: 10_000}))
	requireDiag(t, cfg, diag.Error, "interpolation makes the file larger than 10000 bytes", "raise with --limit interpolated-bytes=20KiB")
	cfg = loadApp(t, "include: ci/inputs.yml\n", files, withLimits(Limits{MaxInterpolatedBytes: 100_000}))
	requireClean(t, cfg)
}

// A fixed limit's message says it is fixed, and why.
func TestFixedLimitSaysSo(t *testing.T) {
	cfg := loadApp(t, strings.Repeat("[", 150)+strings.Repeat("]", 150)+"\n", nil)
	requireDiag(t, cfg, diag.Error, "nested more than 100 levels deep", "a fixed limit (yaml-depth)")
}
