package ciconfig

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/diag"
)

// GitLab's yaml_optimization.md extends example, with the merge rules of
// ActiveSupport deep_merge: hashes merge, arrays and scalars replace.
func TestExtendsDocsExample(t *testing.T) {
	cfg := loadApp(t, `
.tests:
  script: rake test
  stage: test
  only:
    refs:
      - branches

rspec:
  extends: .tests
  script: rake rspec
  only:
    variables:
      - $RSPEC
`, nil)
	requireClean(t, cfg)
	j := jobNamed(t, cfg, "rspec")
	equalStrings(t, "script", texts(j.Script), []string{"rake rspec"})
	if j.Script[0].Pos.Line != 11 {
		t.Errorf("script line %d, want 11", j.Script[0].Pos.Line)
	}
	equalStrings(t, "jobs (hidden never returned)", jobNames(cfg), []string{"rspec"})
}

// Multi-level and list extends: later parents win, the job wins last,
// variables deep-merge, tags (arrays) replace, null removes.
func TestExtendsMerge(t *testing.T) {
	cfg := loadApp(t, `
.base:
  image: base-image
  variables: {A: base, B: base, C: base}
  tags: [production]
  before_script: [echo base-before]
  after_script: [echo base-after]
.middle:
  extends: .base
  variables: {B: middle}
.other:
  variables: {C: other, D: other}
  tags: [docker]
  image: {name: other-image, entrypoint: [""]}
job:
  extends: [.middle, .other]
  variables: {D: job}
  after_script: null
  script: [make]
job-empty-vars:
  extends: .base
  variables: {}
  script: [make]
`, nil)
	requireClean(t, cfg)
	j := jobNamed(t, cfg, "job")
	equalMap(t, "variables", varMap(j.Variables), map[string]string{"A": "base", "B": "middle", "C": "other", "D": "job"})
	if j.Image == nil || j.Image.Name != "other-image" {
		t.Errorf("image %+v: the later parent's hash replaces the string", j.Image)
	}
	equalStrings(t, "before_script inherited", texts(j.BeforeScript), []string{"echo base-before"})
	if len(j.AfterScript) != 0 {
		t.Errorf("after_script: null should remove the inherited value, got %q", texts(j.AfterScript))
	}
	equalMap(t, "variables: {} keeps the parent's", varMap(jobNamed(t, cfg, "job-empty-vars").Variables),
		map[string]string{"A": "base", "B": "base", "C": "base"})
}

// A job with no script of its own that gets one through extends is a job;
// extends works across included files and on visible jobs.
func TestExtendsMakesAJob(t *testing.T) {
	cfg := loadApp(t, `
include: ci/templates.yml
build:
  extends: .build-template
test:
  extends: build
  script: [make test]
`, memFiles{app: {"ci/templates.yml": ".build-template:\n  script: [make build]\n"}})
	requireClean(t, cfg)
	equalStrings(t, "jobs", jobNames(cfg), []string{"build", "test"})
	b := jobNamed(t, cfg, "build")
	if b.Script[0].Pos.File != "ci/templates.yml" {
		t.Errorf("script from the template keeps its file: %+v", b.Script[0].Pos)
	}
}

func chain(n int) string {
	// job -> .p1 -> ... -> .pn
	var b strings.Builder
	b.WriteString("job:\n  extends: .p1\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, ".p%d:\n  extends: .p%d\n", i, i+1)
	}
	fmt.Fprintf(&b, ".p%d:\n  script: [echo deep]\n", n)
	return b.String()
}

// Extendable::Entry raises "nesting too deep" when an entry that extends
// has more than 10 ancestors: a chain of 11 extends is allowed, 12 is not.
func TestExtendsDepth(t *testing.T) {
	cfg := loadApp(t, chain(11), nil)
	requireClean(t, cfg)
	equalStrings(t, "script", texts(jobNamed(t, cfg, "job").Script), []string{"echo deep"})

	cfg = loadApp(t, chain(12), nil)
	d := requireDiag(t, cfg, diag.Error, ".p11: nesting too deep in `extends`")
	if d.Line == 0 || d.File != ".gitlab-ci.yml" {
		t.Errorf("diagnostic place %s:%d", d.File, d.Line)
	}
	if len(cfg.Jobs) != 0 {
		t.Errorf("a job whose extends failed is skipped, got %v", jobNames(cfg))
	}
	// A custom limit.
	cfg = loadApp(t, chain(4), nil, withLimits(Limits{MaxExtendsDepth: 2}))
	requireDiag(t, cfg, diag.Error, "nesting too deep in `extends`")
}

func TestExtendsErrors(t *testing.T) {
	tests := []struct {
		name, ci string
		want     []string
	}{
		{"circular", ".a:\n  extends: .b\n.b:\n  extends: .a\njob:\n  extends: .a\n  script: [x]\n", []string{"circular dependency detected in `extends`", ".a → .b → .a"}},
		{"self", "job:\n  extends: job\n  script: [x]\n", []string{"job: circular dependency detected in `extends`"}},
		{"unknown", "job:\n  extends: [.missing, .other]\n  script: [x]\n", []string{"job: unknown keys in `extends` (.missing, .other)"}},
		{"invalid base", ".s: just text\njob:\n  extends: .s\n  script: [x]\n", []string{"job: invalid base hashes in `extends` (.s)"}},
		{"bad value", "job:\n  extends: {a: b}\n  script: [x]\n", []string{"extends config should be a string or an array of strings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := loadApp(t, tt.ci+"ok:\n  script: [fine]\n", nil)
			d := requireDiag(t, cfg, diag.Error, tt.want...)
			if d.Line == 0 || d.File != ".gitlab-ci.yml" {
				t.Errorf("diagnostic place %s:%d", d.File, d.Line)
			}
			equalStrings(t, "jobs", jobNames(cfg), []string{"ok"})
		})
	}
}

// Wide extends graphs are resolved once per entry, not once per path.
func TestExtendsDiamondIsFast(t *testing.T) {
	var b strings.Builder
	b.WriteString(".l0:\n  script: [echo]\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, ".l%d:\n  extends: [.l%d, .l%d, .l%d, .l%d]\n", i, i-1, i-1, i-1, i-1)
	}
	b.WriteString("job:\n  extends: .l10\n")
	cfg := loadApp(t, b.String(), nil)
	requireClean(t, cfg)
	equalStrings(t, "script", texts(jobNamed(t, cfg, "job").Script), []string{"echo"})
}
