package ciconfig

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/diag"
)

// Child pipelines shaped like GitLab's own (gitlab-org/gitlab's
// .gitlab-ci.yml starts child pipelines from .gitlab/ci/*.yml with
// strategy: depend): their jobs are the project's, named
// child:<trigger job> > <job>, with the trigger job's variables passed down.
func TestChildPipelineLocal(t *testing.T) {
	cfg := loadApp(t, `
variables:
  GLOBAL: parent
  SHARED: from-parent
default:
  before_script: [echo parent-default]
build:
  script: [make]
docs-child:
  stage: test
  variables:
    TARGET: g/docs
  trigger:
    include: .gitlab/ci/docs.gitlab-ci.yml
    strategy: depend
`, memFiles{app: {
		".gitlab/ci/docs.gitlab-ci.yml": `include:
  - local: .gitlab/ci/docs-base.yml
variables:
  SHARED: from-child
  OWN: child
workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "parent_pipeline"
publish:
  extends: .docs-base
  script:
    - 'curl -H "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/$TARGET"'
`,
		".gitlab/ci/docs-base.yml": ".docs-base:\n  image: ruby:3\n",
	}})
	requireClean(t, cfg)
	equalStrings(t, "jobs", jobNames(cfg), []string{"build", "child:docs-child > publish", "docs-child"})
	j := jobNamed(t, cfg, "child:docs-child > publish")
	if j.Pos.File != ".gitlab/ci/docs.gitlab-ci.yml" || j.Pos.Line != 9 || j.Pos.Project != app {
		t.Errorf("job position %+v: evidence must point at the child's file", j.Pos)
	}
	if len(j.Script) != 1 || j.Script[0].Pos.File != ".gitlab/ci/docs.gitlab-ci.yml" || j.Script[0].Pos.Line != 12 {
		t.Errorf("script %+v", j.Script)
	}
	if j.Image == nil || j.Image.Name != "ruby:3" {
		t.Errorf("the child's own includes and extends apply: image %+v", j.Image)
	}
	if len(j.BeforeScript) != 0 {
		t.Errorf("the parent's default: is not passed to a child pipeline: %q", texts(j.BeforeScript))
	}
	// Trigger variables (the trigger job's own and the globals it
	// inherits) outrank the child's YAML variables.
	equalMap(t, "child variables", varMap(j.Variables), map[string]string{
		"GLOBAL": "parent", "OWN": "child", "SHARED": "from-parent", "TARGET": "g/docs"})
	if b := jobNamed(t, cfg, "docs-child"); b.Trigger == nil || b.Trigger.Child != ".gitlab/ci/docs.gitlab-ci.yml" {
		t.Errorf("bridge %+v", b.Trigger)
	}
	for _, n := range cfg.Notes {
		if strings.Contains(n.Detail, "not analysed") {
			t.Errorf("a static child pipeline is analysed: %+v", n)
		}
	}
}

func TestChildPipelineSources(t *testing.T) {
	child := "deploy:\n  script:\n    - echo $ENV\n"
	cases := []struct {
		name    string
		trigger string
		files   memFiles
		jobs    []string
		note    string // a note detail fragment that must be there
		diag    string // an error summary fragment that must be there
	}{
		{
			name:    "list of local files merged",
			trigger: "include:\n      - local: a.yml\n      - b.yml",
			files:   memFiles{app: {"a.yml": "a-job: {script: [a]}\n", "b.yml": "b-job: {script: [b]}\n"}},
			jobs:    []string{"child:trigger > a-job", "child:trigger > b-job", "trigger"},
		},
		{
			name:    "project in the snapshot",
			trigger: "include:\n      - project: g/pipelines\n        ref: main\n        file: deploy.yml",
			files:   memFiles{"g/pipelines": {"deploy.yml": child}},
			jobs:    []string{"child:trigger > deploy", "trigger"},
			note:    "include:project g/pipelines is resolved with the pipeline user's permissions",
		},
		{
			name:    "project outside the snapshot",
			trigger: "include:\n      - project: g/elsewhere\n        file: deploy.yml",
			jobs:    []string{"trigger"},
			note:    "include:project g/elsewhere (deploy.yml) is not in the snapshot",
		},
		{
			name:    "component",
			trigger: "include:\n      - component: $CI_SERVER_FQDN/g/components/deploy@1.0\n        inputs: {stage: test}",
			files:   memFiles{"g/components": {"templates/deploy.yml": "spec:\n  inputs:\n    stage:\n---\ndeploy:\n  stage: $[[ inputs.stage ]]\n  script: [echo]\n"}},
			jobs:    []string{"child:trigger > deploy", "trigger"},
		},
		{
			name:    "dynamic child pipeline",
			trigger: "include:\n      - artifact: generated.yml\n        job: generate",
			jobs:    []string{"trigger"},
			note:    "dynamic child pipeline: its configuration is the artifact generated.yml of job generate",
		},
		{
			name:    "missing local file",
			trigger: "include: nope.yml",
			jobs:    []string{"trigger"},
			diag:    "Local file `nope.yml` does not exist!",
		},
		{
			name:    "multi-project trigger is not a child",
			trigger: "project: g/pipelines",
			files:   memFiles{"g/pipelines": {".gitlab-ci.yml": child}},
			jobs:    []string{"trigger"},
			note:    "trigger: g/pipelines creates the downstream pipeline as the pipeline user",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := loadApp(t, "trigger:\n  variables: {ENV: prod}\n  trigger:\n    "+c.trigger+"\n    strategy: depend\n", c.files)
			equalStrings(t, "jobs", jobNames(cfg), c.jobs)
			if c.diag != "" {
				requireDiag(t, cfg, diag.Error, c.diag)
			} else {
				requireClean(t, cfg)
			}
			if c.note != "" {
				found := false
				for _, n := range cfg.Notes {
					found = found || strings.Contains(n.Detail, c.note)
				}
				if !found {
					t.Errorf("no note containing %q; got:\n%s", c.note, noteText(cfg.Notes))
				}
			}
			for _, j := range cfg.Jobs {
				if strings.HasPrefix(j.Name, ChildPrefix) && varMap(j.Variables)["ENV"] != "prod" {
					t.Errorf("%s: trigger variables not passed: %v", j.Name, varMap(j.Variables))
				}
			}
		})
	}
}

// What the trigger job passes down follows inherit:variables and
// trigger:forward:yaml_variables; the child's rules:variables and
// workflow:rules:variables do not override a trigger variable.
func TestChildPipelineVariables(t *testing.T) {
	files := memFiles{app: {"child.yml": `variables:
  MODE: child
workflow:
  rules:
    - if: $X
      variables: {MODE: workflow, OTHER: w}
job:
  script: [echo $MODE]
`}}
	cfg := loadApp(t, `
variables:
  G: global
  MODE: parent
passing:
  trigger: {include: child.yml}
no-globals:
  inherit:
    variables: false
  variables: {OWN: own}
  trigger: {include: child.yml}
no-forward:
  trigger:
    include: child.yml
    forward: {yaml_variables: false}
`, files)
	requireClean(t, cfg)
	p := jobNamed(t, cfg, "child:passing > job")
	equalMap(t, "passing", varMap(p.Variables), map[string]string{"G": "global", "MODE": "parent"})
	if len(p.Variants) != 1 {
		t.Fatalf("variants %+v", p.Variants)
	}
	equalMap(t, "passing workflow variant", varMap(p.Variants[0].Variables), map[string]string{"OTHER": "w"})
	ng := jobNamed(t, cfg, "child:no-globals > job")
	equalMap(t, "no-globals", varMap(ng.Variables), map[string]string{"MODE": "child", "OWN": "own"})
	nf := jobNamed(t, cfg, "child:no-forward > job")
	equalMap(t, "no-forward", varMap(nf.Variables), map[string]string{"MODE": "child"})
	equalMap(t, "no-forward workflow variant", varMap(nf.Variants[0].Variables), map[string]string{"MODE": "workflow", "OTHER": "w"})
}

// GitLab nests child pipelines two levels deep: a grandchild is analysed,
// a further level is not (GitLab fails to create it), and a cycle is
// analysed once.
func TestChildPipelineDepthAndCycles(t *testing.T) {
	files := memFiles{app: {
		"child.yml":       "c: {script: [c]}\nto-grand:\n  trigger: {include: grand.yml}\n",
		"grand.yml":       "g: {script: [g]}\nto-great:\n  trigger: {include: great.yml}\n",
		"great.yml":       "x: {script: [x]}\n",
		"loop.yml":        "l: {script: [l]}\nagain:\n  trigger: {include: loop.yml}\n",
		"loop-root.yml":   "back:\n  trigger: {include: .gitlab-ci.yml}\n",
		"unused-file.yml": "",
	}}
	cfg := loadApp(t, `
to-child:
  trigger: {include: child.yml}
to-loop:
  trigger: {include: loop.yml}
to-root:
  trigger: {include: loop-root.yml}
never:
  rules: [{when: never}]
  trigger: {include: great.yml}
`, files)
	requireClean(t, cfg)
	names := jobNames(cfg)
	for _, want := range []string{
		"child:to-child > c", "child:to-child > child:to-grand > g", "child:to-child > child:to-grand > to-great",
		"child:to-loop > l", "child:to-loop > again", "child:to-root > back",
	} {
		if !containsStr(names, want) {
			t.Errorf("no job %q in %q", want, names)
		}
	}
	for _, n := range names {
		if strings.HasSuffix(n, "> x") {
			t.Errorf("%s: a third level of child pipelines is not created by GitLab", n)
		}
		if strings.Count(n, ChildPrefix) > 2 {
			t.Errorf("%s: deeper than GitLab allows", n)
		}
	}
	d := requireDiag(t, cfg, diag.Warning, "to-great: trigger:include (great.yml) would start a child pipeline more than 2 levels deep")
	if d.File != "grand.yml" || d.Line != 3 {
		t.Errorf("depth warning at %s:%d", d.File, d.Line)
	}
	requireDiag(t, cfg, diag.Warning, "again: child pipeline cycle: .gitlab-ci.yml → loop.yml → loop.yml")
	requireDiag(t, cfg, diag.Warning, "back: child pipeline cycle: .gitlab-ci.yml → loop-root.yml → .gitlab-ci.yml")
}

// Many trigger jobs on the same child file are bounded.
func TestChildPipelineBound(t *testing.T) {
	var b strings.Builder
	for i := range DefaultLimits.MaxChildPipelines + 5 {
		b.WriteString("t" + strconv.Itoa(i) + ":\n  trigger: {include: child.yml}\n")
	}
	cfg := loadApp(t, b.String(), memFiles{app: {"child.yml": "job: {script: [echo]}\n"}})
	n := 0
	for _, j := range cfg.Jobs {
		if strings.HasPrefix(j.Name, ChildPrefix) {
			n++
		}
	}
	if n != DefaultLimits.MaxChildPipelines {
		t.Errorf("%d child jobs, want %d", n, DefaultLimits.MaxChildPipelines)
	}
	requireDiag(t, cfg, diag.Warning, "more than 100 child pipelines or")
}

// The trigger job's own variable sets are trigger variables too: each is a
// variant of the child's jobs (omnibus-gitlab passes PIPELINE_TYPE from
// rules:variables of its trigger jobs this way).
func TestChildPipelineTriggerVariants(t *testing.T) {
	files := memFiles{app: {"child.yml": "variables: {PIPELINE_TYPE: default}\njob:\n  script: [echo $PIPELINE_TYPE $ARCH]\n"}}
	cfg := loadApp(t, `
by-rule:
  rules:
    - if: $CI_COMMIT_TAG
      variables: {PIPELINE_TYPE: tag}
    - when: on_success
  trigger: {include: child.yml}
by-matrix:
  parallel:
    matrix:
      - ARCH: [amd64, arm64]
  trigger: {include: child.yml}
`, files)
	requireClean(t, cfg)
	r := jobNamed(t, cfg, "child:by-rule > job")
	equalMap(t, "by-rule base", varMap(r.Variables), map[string]string{"PIPELINE_TYPE": "default"})
	if len(r.Variants) != 1 || r.Variants[0].Name != "trigger:rules[0]" {
		t.Fatalf("by-rule variants %+v", r.Variants)
	}
	equalMap(t, "by-rule variant", varMap(r.Variants[0].Variables), map[string]string{"PIPELINE_TYPE": "tag"})
	m := jobNamed(t, cfg, "child:by-matrix > job")
	var names []string
	for _, v := range m.Variants {
		names = append(names, v.Name)
	}
	equalStrings(t, "by-matrix variants", names, []string{"trigger:by-matrix: [amd64]", "trigger:by-matrix: [arm64]"})
	if m.Matrix != 0 {
		t.Errorf("the child job is not itself a matrix job: %d", m.Matrix)
	}
}

// Together the child pipelines read at most one pipeline's worth of
// configuration more than the parent.
func TestChildPipelineBytesBound(t *testing.T) {
	child := "job:\n  script:\n    - echo " + strings.Repeat("x", 120) + "\n"
	cfg := loadApp(t, "a: {trigger: {include: c.yml}}\nb: {trigger: {include: c.yml}}\nc: {trigger: {include: c.yml}}\n",
		memFiles{app: {"c.yml": child}}, withLimits(Limits{MaxTotalBytes: 200}))
	equalStrings(t, "jobs", jobNames(cfg), []string{"a", "b", "c", "child:a > job", "child:b > job"})
	requireDiag(t, cfg, diag.Warning, "or 200 bytes of child pipeline configuration")
}
