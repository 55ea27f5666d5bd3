package ciconfig

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/loc"
)

// Both forms, expand: false, precedence (job over global), positions, and
// gitlab-ci-local variables-null.
func TestVariables(t *testing.T) {
	cfg := loadApp(t, `---
variables:
  EMPTY_GLOBAL_VAR:
  SHARED: global
  DEPLOY_ENVIRONMENT:
    value: "staging"
    options: ["production", "staging"]
    description: "The deployment target."
  RAW:
    value: "$NOT_EXPANDED"
    expand: false
test-job:
  variables:
    EMPTY_JOB_VAR:
    SHARED: job
  script:
    - echo "EMPTY_GLOBAL_VAR:${EMPTY_GLOBAL_VAR}"
`, nil)
	requireClean(t, cfg)
	j := jobNamed(t, cfg, "test-job")
	want := []Variable{
		{Name: "DEPLOY_ENVIRONMENT", Value: "staging", Pos: loc.Pos{Project: app, File: ".gitlab-ci.yml", Line: 5}},
		{Name: "EMPTY_GLOBAL_VAR", Value: "", Pos: loc.Pos{Project: app, File: ".gitlab-ci.yml", Line: 3}},
		{Name: "EMPTY_JOB_VAR", Value: "", Pos: loc.Pos{Project: app, File: ".gitlab-ci.yml", Line: 14}},
		{Name: "RAW", Value: "$NOT_EXPANDED", Raw: true, Pos: loc.Pos{Project: app, File: ".gitlab-ci.yml", Line: 9}},
		{Name: "SHARED", Value: "job", Pos: loc.Pos{Project: app, File: ".gitlab-ci.yml", Line: 15}},
	}
	if fmt.Sprint(j.Variables) != fmt.Sprint(want) {
		t.Errorf("variables\n got %+v\nwant %+v", j.Variables, want)
	}
}

func TestVariableErrors(t *testing.T) {
	cfg := loadApp(t, "variables:\n  LIST: [a, b]\n  OK: fine\njob:\n  variables: [A]\n  script: [echo]\n", nil)
	d := requireDiag(t, cfg, diag.Error, "variable LIST: variable definition must be either a string or a hash")
	if d.Line != 2 {
		t.Errorf("line %d", d.Line)
	}
	requireDiag(t, cfg, diag.Error, "job variables config should be a hash of key value pairs")
	equalMap(t, "kept", varMap(jobNamed(t, cfg, "job").Variables), map[string]string{"OK": "fine"})
}

// gitlab-ci-local workflow-rules-variables (and -job-override): workflow
// rule variables override globals as a variant; the job's own win.
func TestWorkflowRulesVariables(t *testing.T) {
	cfg := loadApp(t, `---
variables:
  WORKFLOW_VAR: default
  OTHER: global
workflow:
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
      variables:
        WORKFLOW_VAR: from-workflow-rules
        DEPLOY: "true"
    - when: always
test-job:
  script: [echo]
override-job:
  variables:
    WORKFLOW_VAR: from-job
  script: [echo]
no-globals:
  inherit:
    variables: false
  script: [echo]
`, nil)
	requireClean(t, cfg)
	tj := jobNamed(t, cfg, "test-job")
	equalMap(t, "default set", varMap(tj.Variables), map[string]string{"WORKFLOW_VAR": "default", "OTHER": "global"})
	if len(tj.Variants) != 1 || tj.Variants[0].Name != "workflow:rules[0]" {
		t.Fatalf("variants %+v", tj.Variants)
	}
	equalMap(t, "variant", varMap(tj.Variants[0].Variables), map[string]string{"WORKFLOW_VAR": "from-workflow-rules", "DEPLOY": "true"})
	oj := jobNamed(t, cfg, "override-job")
	equalMap(t, "job wins over workflow", varMap(oj.Variants[0].Variables), map[string]string{"DEPLOY": "true"})
	if v := jobNamed(t, cfg, "no-globals").Variants; len(v) != 0 {
		t.Errorf("inherit:variables false drops workflow variables too: %+v", v)
	}
}

func TestRulesVariables(t *testing.T) {
	cfg := loadApp(t, `
job:
  variables: {TARGET: dev}
  rules:
    - if: $CI_COMMIT_TAG
      variables: {TARGET: prod, TAGGED: "yes"}
    - if: $CI_MERGE_REQUEST_ID
    - variables: {TARGET: review}
  script: [deploy $TARGET]
`, nil)
	requireClean(t, cfg)
	j := jobNamed(t, cfg, "job")
	equalMap(t, "own", varMap(j.Variables), map[string]string{"TARGET": "dev"})
	if len(j.Variants) != 2 || j.Variants[0].Name != "rules[0]" || j.Variants[1].Name != "rules[2]" {
		t.Fatalf("variants %+v", j.Variants)
	}
	equalMap(t, "rules[0]", varMap(j.Variants[0].Variables), map[string]string{"TARGET": "prod", "TAGGED": "yes"}) // quoted: stays a string
}

// gitlab-ci-local parallel-matrix and GitLab's naming ("deploystacks: [aws,
// monitoring]", MR 39985): combinations in Array#product order.
func TestParallelMatrix(t *testing.T) {
	cfg := loadApp(t, `
test-job:
  script: [echo]
  parallel:
    matrix:
      - NAME: [foo, bar]
        TIER: [dev, sta, pro]
      - NAME: beb
`, nil)
	requireClean(t, cfg)
	j := jobNamed(t, cfg, "test-job")
	var names []string
	for _, v := range j.Variants {
		names = append(names, v.Name)
	}
	equalStrings(t, "variants", names, []string{
		"test-job: [foo, dev]", "test-job: [foo, sta]", "test-job: [foo, pro]",
		"test-job: [bar, dev]", "test-job: [bar, sta]", "test-job: [bar, pro]",
		"test-job: [beb]",
	})
	equalMap(t, "bar/sta", varMap(j.Variants[4].Variables), map[string]string{"NAME": "bar", "TIER": "sta"})
	if len(j.Variables) != 0 {
		t.Errorf("matrix values are variants, not the job's own set: %+v", j.Variables)
	}
	if j.Matrix != 7 {
		t.Errorf("Matrix = %d; want 7 (the job runs only as its combinations)", j.Matrix)
	}
}

func TestParallelMatrixCap(t *testing.T) {
	var vals []string
	for i := range 10 {
		vals = append(vals, fmt.Sprint(i))
	}
	list := "[" + strings.Join(vals, ", ") + "]"
	cfg := loadApp(t, "job:\n  script: [echo]\n  parallel:\n    matrix:\n      - A: "+list+"\n        B: "+list+"\n", nil)
	requireClean(t, cfg)
	if n := len(jobNamed(t, cfg, "job").Variants); n != 64 {
		t.Errorf("%d variants, want the cap of 64", n)
	}
	d := requireDiag(t, cfg, diag.Warning, "parallel:matrix has 100 combinations; tokenscope analyses the first 64")
	if d.Line != 4 {
		t.Errorf("line %d", d.Line)
	}
}

// TestMergeVariablesSortedPath checks the one-pass merge of sorted lists
// against the general path (unsorted input): the same list, a base
// variable redefined (even twice) by over left out, duplicates kept in
// order.
func TestMergeVariablesSortedPath(t *testing.T) {
	names := []string{"A", "B", "C", "D", "E"}
	r := rand.New(rand.NewPCG(1, 2))
	gen := func(tag string) []Variable {
		var vs []Variable
		for i := range r.IntN(6) {
			vs = append(vs, Variable{Name: names[r.IntN(len(names))], Value: tag + strconv.Itoa(i)})
		}
		sortVariables(vs)
		return vs
	}
	for range 2000 {
		base, over := gen("b"), gen("o")
		got := mergeVariables(base, over)
		// The definition: base without what over redefines, then over,
		// stably sorted by name.
		var want []Variable
		for _, b := range base {
			if !slices.ContainsFunc(over, func(o Variable) bool { return o.Name == b.Name }) {
				want = append(want, b)
			}
		}
		want = append(want, over...)
		sortVariables(want)
		if !slices.Equal(got, want) {
			t.Fatalf("mergeVariables(%v, %v) = %v, want %v", base, over, got, want)
		}
	}
}
