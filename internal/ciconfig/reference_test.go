package ciconfig

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/diag"
)

// gitlab-ci-local fixture reference (.gitlab-ci.yml + .gitlab-ci-base.yml):
// nested references across an include, a single variable by path.
func TestReferenceFixture(t *testing.T) {
	cfg := loadApp(t, `---
include:
  - local: .gitlab-ci-base.yml

test-job:
  variables:
    MYVAR: !reference [.setup, variables, MYVAR]
  script:
    - !reference [.setup, script]
    - echo ${MYVAR}
`, memFiles{app: {".gitlab-ci-base.yml": `---
.ancient:
  script:
    - echo "Ancient"

.base:
  script:
    - !reference [.ancient, script]
    - echo "Base"

.setup:
  variables:
    MYVAR: Yoyo
  script:
    - !reference [.base, script]
    - echo "Setting something general up"
`}})
	requireClean(t, cfg)
	j := jobNamed(t, cfg, "test-job")
	equalStrings(t, "script", texts(j.Script), []string{`echo "Ancient"`, `echo "Base"`, `echo "Setting something general up"`, "echo ${MYVAR}"})
	if p := j.Script[0].Pos; p.File != ".gitlab-ci-base.yml" || p.Line != 4 {
		t.Errorf("referenced item keeps its definition's place: %+v", p)
	}
	equalMap(t, "variables", varMap(j.Variables), map[string]string{"MYVAR": "Yoyo"})
}

// .gitlab-ci-complex.yml (issue 644): a reference whose target came
// through extends and is itself a reference; and inherited-reference.
func TestReferenceAfterExtends(t *testing.T) {
	cfg := loadApp(t, `---
.default-variables:
  variables:
    FOO: foo
.variables-wrapper:
  variables:
    !reference [.default-variables, variables]
.variables:
  extends: .variables-wrapper
job:
  variables: !reference [.variables, variables]
  script:
    - echo $FOO
.src:
  cache:
    key: src
.setup:
  image: setup
holder:
  extends: .setup
  script: [echo Heya]
  image: !reference [.src, cache, key]
inherits:
  extends: holder
overrides:
  extends: holder
  image: own
`, nil)
	requireClean(t, cfg)
	equalMap(t, "job variables", varMap(jobNamed(t, cfg, "job").Variables), map[string]string{"FOO": "foo"})
	for job, image := range map[string]string{"holder": "src", "inherits": "src", "overrides": "own"} {
		if img := jobNamed(t, cfg, job).Image; img == nil || img.Name != image {
			t.Errorf("%s image %+v, want %s", job, img, image)
		}
	}
}

// References resolve after extends: they see the extended target.
func TestReferenceSeesExtendedTarget(t *testing.T) {
	cfg := loadApp(t, `
.base:
  before_script: [echo from-base]
.child:
  extends: .base
job:
  before_script: !reference [.child, before_script]
  script: [make]
`, nil)
	requireClean(t, cfg)
	equalStrings(t, "before_script", texts(jobNamed(t, cfg, "job").BeforeScript), []string{"echo from-base"})
}

func refChain(n int) string {
	var b strings.Builder
	b.WriteString(".script1:\n  - echo test\n")
	for i := 2; i <= n; i++ {
		fmt.Fprintf(&b, ".script%d:\n  - !reference [.script%d]\n", i, i-1)
	}
	fmt.Fprintf(&b, "test:\n  image: alpine\n  script:\n    - !reference [.script%d]\n", n)
	return b.String()
}

// gitlab-ci-local reference/.gitlab-ci-{10,11}-level-deep.yml: each
// reference nests the list one level; 11 levels is GitLab's script error.
func TestReferenceNestingLevels(t *testing.T) {
	cfg := loadApp(t, refChain(9), nil)
	requireClean(t, cfg)
	equalStrings(t, "script", texts(jobNamed(t, cfg, "test").Script), []string{"echo test"})
	cfg = loadApp(t, refChain(10), nil)
	requireDiag(t, cfg, diag.Error, "test script", "up to 10 levels deep")
}

// MaxReferenceDepth bounds chains of references outside scripts too.
func TestReferenceDepthLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString(".v0:\n  X: deep\n")
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&b, ".v%d:\n  X: !reference [.v%d, X]\n", i, i-1)
	}
	b.WriteString("job:\n  variables:\n    X: !reference [.v5, X]\n  script: [echo]\n")
	cfg := loadApp(t, b.String(), nil)
	requireClean(t, cfg)
	equalMap(t, "vars", varMap(jobNamed(t, cfg, "job").Variables), map[string]string{"X": "deep"})
	cfg = loadApp(t, b.String(), nil, withLimits(Limits{MaxReferenceDepth: 4}))
	requireDiag(t, cfg, diag.Error, "nested more than 4 levels deep")
}

// gitlab-ci-local reference-circular-chain and GitLab's messages.
func TestReferenceErrors(t *testing.T) {
	tests := []struct {
		name, ci string
		want     string
		line     int
	}{
		{"circular", ".a:\n  script:\n    - !reference [.b, script]\n.b:\n  script:\n    - !reference [.a, script]\njob:\n  script: !reference [.a, script]\n",
			"is part of a circular chain", 0},
		{"missing", "job:\n  script:\n    - !reference [.nope, script]\n", `!reference [".nope", "script"] could not be found`, 3},
		{"through a list", ".a:\n  script: [x]\njob:\n  script:\n    - !reference [.a, script, \"0\"]\n", "could not be found", 5},
		{"null target", ".a:\n  script:\njob:\n  script:\n    - !reference [.a, script]\n", "could not be found", 5},
		{"empty", "job:\n  script:\n    - !reference []\n", "!reference [] is not valid", 3},
		{"not strings", "job:\n  script:\n    - !reference [.a, 1]\n", "is not valid", 3},
		{"scalar", "job:\n  script:\n    - !reference .a\n", `!reference ".a" is not valid`, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := loadApp(t, tt.ci, nil)
			d := requireDiag(t, cfg, diag.Error, tt.want)
			if tt.line != 0 && d.Line != tt.line {
				t.Errorf("line %d, want %d", d.Line, tt.line)
			}
			if d.File != ".gitlab-ci.yml" || d.Line == 0 {
				t.Errorf("diagnostic place %s:%d", d.File, d.Line)
			}
		})
	}
}

// References used many times are resolved once: a reference fan-out that
// would expand exponentially stays cheap, and the expanded output is capped.
func TestReferenceFanOut(t *testing.T) {
	var b strings.Builder
	b.WriteString(".r0:\n  - echo leaf\n")
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&b, ".r%d:\n", i)
		for range 8 {
			fmt.Fprintf(&b, "  - !reference [.r%d]\n", i-1)
		}
	}
	b.WriteString("job:\n  script:\n    - !reference [.r8]\n")
	cfg := loadApp(t, b.String(), nil, withLimits(Limits{MaxNodes: 100_000}))
	requireDiag(t, cfg, diag.Error, "expands to more than 100000 script lines and variables")
}
