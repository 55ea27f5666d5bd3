package ciconfig

import (
	"testing"

	"github.com/tokenscope/tokenscope/internal/diag"
)

// The template of gitlab-ci-local's include-inputs fixtures and GitLab's
// inputs.md examples.
const inputsTemplate = `spec:
  inputs:
    message:
    options_input:
      options: [website, db, server]
      default: website
    count:
      type: number
      default: 1
    verbose:
      type: boolean
      default: true
    tags:
      type: array
      default: [small]
    version:
      regex: ^v\d+\.\d+$
      default: v1.0
---
scan-$[[ inputs.options_input ]]:
  tags: $[[ inputs.tags ]]
  variables:
    COUNT: $[[ inputs.count ]]
    VERBOSE: $[[ inputs.verbose ]]
    MIXED: "n=$[[ inputs.count ]] v=$[[ inputs.verbose ]] t=$[[ inputs.tags ]]"
  script:
    - echo $[[ inputs.message]]
    - echo $[[inputs.message ]] $[[     inputs.version ]]
`

func TestIncludeInputs(t *testing.T) {
	files := memFiles{app: {"tpl.yml": inputsTemplate}}
	cfg := loadApp(t, `
include:
  - local: tpl.yml
    inputs:
      message: hello world
  - local: tpl.yml
    inputs:
      message: hi db
      options_input: db
      count: 3
      verbose: false
      tags: [big, gpu]
      version: v2.5
`, files)
	requireClean(t, cfg)
	equalStrings(t, "jobs (same file, two input sets)", jobNames(cfg), []string{"scan-db", "scan-website"})
	web := jobNamed(t, cfg, "scan-website")
	equalStrings(t, "script", texts(web.Script), []string{"echo hello world", "echo hello world v1.0"})
	equalMap(t, "defaults", varMap(web.Variables), map[string]string{"COUNT": "1", "VERBOSE": "true", "MIXED": `n=1 v=true t=["small"]`})
	db := jobNamed(t, cfg, "scan-db")
	equalStrings(t, "script", texts(db.Script), []string{"echo hi db", "echo hi db v2.5"})
	equalMap(t, "given", varMap(db.Variables), map[string]string{"COUNT": "3", "VERBOSE": "false", "MIXED": `n=3 v=false t=["big","gpu"]`})
	if p := db.Script[0].Pos; p.File != "tpl.yml" || p.Line != 27 {
		t.Errorf("interpolated script keeps the template line: %+v", p)
	}
}

func TestInputErrors(t *testing.T) {
	tests := []struct {
		name   string
		inputs string
		want   string
	}{
		{"required", "{}", "`message` input: required value has not been provided"},
		{"options", "{message: m, options_input: fizz}", "`options_input` input: `fizz` cannot be used because it is not in the list of allowed options"},
		{"number", "{message: m, count: many}", "`count` input: provided value is not a number"},
		{"boolean", "{message: m, verbose: 'yes'}", "`verbose` input: provided value is not a boolean"},
		{"array", "{message: m, tags: one}", "`tags` input: provided value is not an array"},
		{"string", "{message: 12}", "`message` input: provided value is not a string"},
		{"regex", "{message: m, version: '2.0'}", "`version` input: provided value does not match required RegEx pattern"},
		{"unknown", "{message: m, colour: red}", "unknown input arguments: colour"},
	}
	files := memFiles{app: {"tpl.yml": inputsTemplate}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := loadApp(t, "job: {script: [echo]}\ninclude:\n  - local: tpl.yml\n    inputs: "+tt.inputs+"\n", files)
			d := requireDiag(t, cfg, diag.Error, "tpl.yml: ", tt.want)
			if d.File != ".gitlab-ci.yml" || d.Line != 3 || d.Project != app {
				t.Errorf("diagnostic at %s %s:%d, want the include entry .gitlab-ci.yml:3", d.Project, d.File, d.Line)
			}
			jobNamed(t, cfg, "job")
			if len(cfg.Jobs) != 1 {
				t.Errorf("the invalid include added jobs: %v", jobNames(cfg))
			}
		})
	}
}

func TestInputsWithoutHeader(t *testing.T) {
	cfg := loadApp(t, "include:\n  - local: plain.yml\n    inputs: {a: b}\n", memFiles{app: {"plain.yml": "x: {script: [echo]}\n"}})
	requireDiag(t, cfg, diag.Error, "Given inputs not defined in the `spec` section of the included configuration file")
	// A file without a header is not interpolated at all.
	cfg = loadApp(t, "include: plain.yml\n", memFiles{app: {"plain.yml": "x:\n  script:\n    - echo $[[ inputs.a ]]\n"}})
	requireClean(t, cfg)
	equalStrings(t, "script", texts(jobNamed(t, cfg, "x").Script), []string{"echo $[[ inputs.a ]]"})
}

func TestInterpolationFunctions(t *testing.T) {
	tpl := `spec:
  inputs:
    path:
      default: "$CI_PROJECT_PATH/sub dir"
    name:
      default: "0123456789abcdef"
    unknown:
      default: $SECRET_THING
---
job:
  script:
    - echo $[[ inputs.path | expand_vars ]]
    - echo $[[ inputs.name | truncate(4,6) ]]
    - echo $[[ inputs.path | expand_vars | posix_escape ]]
    - echo $[[ inputs.unknown | expand_vars ]]
    - echo $[[ inputs.name | truncate(20,3) ]]end
`
	cfg := loadApp(t, "include: tpl.yml\n", memFiles{app: {"tpl.yml": tpl}})
	requireClean(t, cfg)
	equalStrings(t, "script", texts(jobNamed(t, cfg, "job").Script), []string{
		"echo g/app/sub dir",
		"echo 456789",
		`echo g/app/sub\ dir`,
		"echo $SECRET_THING",
		"echo end",
	})
}

func TestInterpolationErrors(t *testing.T) {
	tests := []struct{ body, want string }{
		{"echo $[[ inputs.nope ]]", "unknown interpolation key: `nope`"},
		{"echo $[[ inputs.a | truncate(1,2) | truncate(1,2) | truncate(1,2) | truncate(1,2) ]]", "too many functions in interpolation block"},
		{"echo $[[ inputs.a | upcase ]]", "no function matching `upcase`"},
		{"echo $[[ inputs ]]", "invalid interpolation access pattern"},
		{"echo $[[ component.name ]]", "unknown interpolation key: `component`"},
	}
	for _, tt := range tests {
		cfg := loadApp(t, "include: tpl.yml\n", memFiles{app: {"tpl.yml": "spec:\n  inputs:\n    a:\n      default: x\n---\njob:\n  script:\n    - " + tt.body + "\n"}})
		requireDiag(t, cfg, diag.Error, tt.want)
	}
	// posix_escape on a number is a type error.
	cfg := loadApp(t, "include: tpl.yml\n", memFiles{app: {"tpl.yml": "spec:\n  inputs:\n    n:\n      type: number\n      default: 1\n---\njob:\n  script:\n    - echo $[[ inputs.n | posix_escape ]]\n"}})
	requireDiag(t, cfg, diag.Error, "error in `posix_escape` function: invalid input type")
	// An unknown type in the spec.
	cfg = loadApp(t, "include: tpl.yml\n", memFiles{app: {"tpl.yml": "spec:\n  inputs:\n    x:\n      type: foo\n---\njob: {script: [echo]}\n"}})
	requireDiag(t, cfg, diag.Error, "header:spec:inputs:x input type unknown value: foo")
}

// A root .gitlab-ci.yml with a spec header uses its defaults; a mandatory
// input without a default is an error that names the file.
func TestRootFileInputs(t *testing.T) {
	cfg := loadApp(t, "spec:\n  inputs:\n    env:\n      default: prod\n---\ndeploy-$[[ inputs.env ]]:\n  script:\n    - deploy $[[ inputs.env ]]\n", nil)
	requireClean(t, cfg)
	equalStrings(t, "script", texts(jobNamed(t, cfg, "deploy-prod").Script), []string{"deploy prod"})
	cfg = loadApp(t, "spec:\n  inputs:\n    env:\n---\njob:\n  script: [echo]\n", nil)
	d := requireDiag(t, cfg, diag.Error, ".gitlab-ci.yml: `env` input: required value has not been provided")
	if d.File != ".gitlab-ci.yml" {
		t.Errorf("diagnostic names %q", d.File)
	}
}

// Whole-value interpolation keeps the type: an array input becomes a list
// that scripts flatten, as in GitLab's inputs docs.
func TestArrayInputInScript(t *testing.T) {
	tpl := "spec:\n  inputs:\n    steps:\n      type: array\n---\njob:\n  script:\n    - echo start\n    - $[[ inputs.steps ]]\n"
	cfg := loadApp(t, "include:\n  - local: tpl.yml\n    inputs:\n      steps: [make build, make test]\n", memFiles{app: {"tpl.yml": tpl}})
	requireClean(t, cfg)
	j := jobNamed(t, cfg, "job")
	equalStrings(t, "script", texts(j.Script), []string{"echo start", "make build", "make test"})
	if p := j.Script[1].Pos; p.File != ".gitlab-ci.yml" || p.Line != 4 {
		t.Errorf("array items keep the position where they are written: %+v", p)
	}
}
