package ciconfig

import (
	"testing"

	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/loc"
)

// gitlab-ci-local before-script-default and GitLab's default: docs: default
// keys are copied whole into jobs that do not set them; a job's own
// before_script replaces the default; null means "not set".
func TestDefaults(t *testing.T) {
	cfg := loadApp(t, `
default:
  image: ruby:3.0
  services: [postgres:15, {name: "redis:7", alias: cache}]
  before_script:
    - echo default-before
  after_script: [echo default-after]
  hooks:
    pre_get_sources_script: [echo pre]
plain:
  script: [echo plain]
own:
  image: {name: alpine}
  before_script: [echo own-before]
  script: [echo own]
nulled:
  before_script: null
  script: [echo nulled]
`, nil)
	requireClean(t, cfg)
	p := jobNamed(t, cfg, "plain")
	if p.Image == nil || p.Image.Name != "ruby:3.0" || p.Image.Pos.Line != 3 {
		t.Errorf("default image %+v", p.Image)
	}
	if len(p.Services) != 2 || p.Services[0].Name != "postgres:15" || p.Services[1].Name != "redis:7" {
		t.Errorf("services %+v", p.Services)
	}
	equalStrings(t, "before", texts(p.BeforeScript), []string{"echo default-before"})
	equalStrings(t, "after", texts(p.AfterScript), []string{"echo default-after"})
	equalStrings(t, "pre_get_sources", texts(p.PreGetSources), []string{"echo pre"})
	o := jobNamed(t, cfg, "own")
	if o.Image.Name != "alpine" {
		t.Errorf("own image %+v", o.Image)
	}
	equalStrings(t, "own before", texts(o.BeforeScript), []string{"echo own-before"})
	equalStrings(t, "nulled before", texts(jobNamed(t, cfg, "nulled").BeforeScript), []string{"echo default-before"})
}

// Deprecated top-level keywords feed default:, and both at once is
// GitLab's error.
func TestDeprecatedGlobals(t *testing.T) {
	cfg := loadApp(t, "image: top-image\nbefore_script: [echo top]\njob:\n  script: [echo]\n", nil)
	requireClean(t, cfg)
	j := jobNamed(t, cfg, "job")
	if j.Image == nil || j.Image.Name != "top-image" {
		t.Errorf("image %+v", j.Image)
	}
	equalStrings(t, "before", texts(j.BeforeScript), []string{"echo top"})

	cfg = loadApp(t, "image: top-image\ndefault:\n  image: default-image\njob:\n  script: [echo]\n", nil)
	d := requireDiag(t, cfg, diag.Error, "image is defined in top-level and `default:` entry")
	if d.Line != 1 {
		t.Errorf("line %d, want 1", d.Line)
	}
	if j := jobNamed(t, cfg, "job"); j.Image == nil || j.Image.Name != "default-image" {
		t.Errorf("image %+v", j.Image)
	}
}

// gitlab-ci-local inherit fixture and the docs for inherit:default and
// inherit:variables (false or a list).
func TestInherit(t *testing.T) {
	cfg := loadApp(t, `
default:
  image: default-image
  before_script: [echo default-before]
variables:
  A: a
  B: b
none:
  inherit:
    default: false
    variables: false
  script: [echo]
some:
  inherit:
    default: [before_script]
    variables: [B]
  script: [echo]
all:
  inherit:
    default: true
  script: [echo]
`, nil)
	requireClean(t, cfg)
	n := jobNamed(t, cfg, "none")
	if n.Image != nil || len(n.BeforeScript) != 0 || len(n.Variables) != 0 {
		t.Errorf("inherit false: %+v", n)
	}
	s := jobNamed(t, cfg, "some")
	if s.Image != nil {
		t.Errorf("image not in the inherit list: %+v", s.Image)
	}
	equalStrings(t, "before", texts(s.BeforeScript), []string{"echo default-before"})
	equalMap(t, "vars", varMap(s.Variables), map[string]string{"B": "b"})
	a := jobNamed(t, cfg, "all")
	equalMap(t, "all vars", varMap(a.Variables), map[string]string{"A": "a", "B": "b"})
	if a.Image == nil {
		t.Error("inherit default true: no image")
	}
}

// inherit: can itself come through extends; default inheritance happens
// after extends, so a before_script from a parent wins over default:.
func TestInheritAfterExtends(t *testing.T) {
	cfg := loadApp(t, `
default:
  before_script: [echo default]
.no-defaults:
  inherit: {default: false}
.parent:
  before_script: [echo parent]
a:
  extends: .no-defaults
  script: [echo]
b:
  extends: .parent
  script: [echo]
`, nil)
	requireClean(t, cfg)
	if got := jobNamed(t, cfg, "a").BeforeScript; len(got) != 0 {
		t.Errorf("a: %q", texts(got))
	}
	equalStrings(t, "b", texts(jobNamed(t, cfg, "b").BeforeScript), []string{"echo parent"})
}

// Job type detection (Entry::Jobs): hidden never returned, script or run
// makes a job, trigger a bridge, anything else is GitLab's error.
func TestJobTypes(t *testing.T) {
	cfg := loadApp(t, `
stages: [build]
workflow:
  rules:
    - when: always
.hidden:
  script: [echo hidden]
job:
  script: [echo]
steps:
  run:
    - name: hello
      script: echo hello from run
    - name: remote
      step: gitlab.com/components/step@v1
bridge:
  trigger: g/downstream
child:
  trigger:
    include: child.yml
no-script:
  stage: build
text-job: just text
"spaced job: 1":
  script: [echo]
`, nil)
	equalStrings(t, "jobs", jobNames(cfg), []string{"bridge", "child", "job", "spaced job: 1", "steps"})
	d := requireDiag(t, cfg, diag.Error, "jobs no-script config should implement the script:, run:, or trigger: keyword")
	if d.Line != 21 {
		t.Errorf("line %d, want 21", d.Line)
	}
	requireDiag(t, cfg, diag.Error, "jobs text-job config should implement")
	equalStrings(t, "run steps", texts(jobNamed(t, cfg, "steps").Script), []string{"echo hello from run"})
	b := jobNamed(t, cfg, "bridge")
	if b.Trigger == nil || b.Trigger.Project != "g/downstream" || b.Trigger.Pos.Line != 17 || len(b.Script) != 0 {
		t.Errorf("bridge %+v", b)
	}
	c := jobNamed(t, cfg, "child")
	if c.Trigger == nil || c.Trigger.Project != "" {
		t.Errorf("child pipeline trigger %+v", c.Trigger)
	}
	n := requireNote(t, cfg, PipelineUser, "trigger: g/downstream creates the downstream pipeline as the pipeline user, not with the job token")
	if n.Job != "bridge" || n.Line != 17 || n.Project != app {
		t.Errorf("note %+v", n)
	}
	for _, n := range cfg.Notes {
		if n.Job == "child" && n.Kind == PipelineUser {
			t.Errorf("a child pipeline is not a cross-project trigger: %+v", n)
		}
	}
	// The child pipeline's file is read (child_test.go): here it is missing.
	if c.Trigger.Child != "child.yml" {
		t.Errorf("child files %q", c.Trigger.Child)
	}
	if d := requireDiag(t, cfg, diag.Error, "Local file `child.yml` does not exist!"); d.Line != 20 {
		t.Errorf("missing child file at line %d, want 20", d.Line)
	}
}

func TestTriggerMapping(t *testing.T) {
	cfg := loadApp(t, "deploy:\n  variables: {ENV: prod}\n  trigger:\n    project: g/deployer\n    branch: stable\n    strategy: depend\n", nil)
	requireClean(t, cfg)
	j := jobNamed(t, cfg, "deploy")
	if j.Trigger.Project != "g/deployer" || j.Trigger.Branch != "stable" || j.Trigger.Pos.Line != 4 {
		t.Errorf("trigger %+v", j.Trigger)
	}
	equalMap(t, "bridge variables", varMap(j.Variables), map[string]string{"ENV": "prod"})
}

// needs:project entries (cross-project artifacts); other needs are not
// returned.
func TestNeedsProject(t *testing.T) {
	cfg := loadApp(t, `
job:
  script: [echo]
  needs:
    - build
    - job: test
      artifacts: false
    - project: g/lib
      job: build-lib
      ref: main
    - project: $UPSTREAM_PROJECT
      job: package
      ref: v1
      artifacts: false
    - pipeline: $PARENT_PIPELINE_ID
      job: gen
`, nil)
	requireClean(t, cfg)
	needs := jobNamed(t, cfg, "job").Needs
	if len(needs) != 2 {
		t.Fatalf("needs %+v", needs)
	}
	want := []Need{
		{Project: "g/lib", Job: "build-lib", Ref: "main", Artifacts: true, Pos: loc.Pos{Project: app, File: ".gitlab-ci.yml", Line: 8}},
		{Project: "$UPSTREAM_PROJECT", Job: "package", Ref: "v1", Artifacts: false, Pos: loc.Pos{Project: app, File: ".gitlab-ci.yml", Line: 11}},
	}
	for i := range want {
		if needs[i] != want[i] {
			t.Errorf("need %d = %+v, want %+v", i, needs[i], want[i])
		}
	}
}

func TestJobsSortedAndDeterministic(t *testing.T) {
	ci := "zeta: {script: [z]}\nalpha: {script: [a]}\n\"Mid\": {script: [m]}\n"
	first := loadApp(t, ci, nil)
	equalStrings(t, "order", jobNames(first), []string{"Mid", "alpha", "zeta"})
	for range 5 {
		again := loadApp(t, ci, nil)
		equalStrings(t, "order", jobNames(again), jobNames(first))
	}
}

// Trigger notes from a template of another project say where they are.
func TestNoteFromOtherProject(t *testing.T) {
	cfg := loadApp(t, "include: {project: g/tpl, file: t.yml}\n", memFiles{"g/tpl": {"t.yml": "deploy:\n  trigger: g/down\n"}})
	n := requireNote(t, cfg, PipelineUser, "trigger: g/down", "(in t.yml of project g/tpl)")
	if n.Project != "g/tpl" || n.File != "t.yml" || n.Job != "deploy" || n.Line != 2 {
		t.Errorf("note %+v", n)
	}
}

// A project that includes GitLab's Auto-DevOps template and tunes its
// jobs (a real-shaped freedesktop/GNOME pattern) overrides jobs the
// template defines; without the template those overrides have no script,
// which is not an error (GitLab merges them with the template's jobs).
func TestTemplateOverridesAreNotErrors(t *testing.T) {
	cfg := loadApp(t, `
include:
  - template: Auto-DevOps.gitlab-ci.yml
  - template: Jobs/SAST.gitlab-ci.yml
variables:
  AUTO_DEVOPS_PLATFORM_TARGET: ECS
test:
  variables:
    POSTGRES_ENABLED: "false"
code_quality:
  rules:
    - when: never
build:
  script: [make]
`, nil)
	requireClean(t, cfg)
	equalStrings(t, "jobs", jobNames(cfg), []string{"build"})
	requireNote(t, cfg, NotFetched, "no script here: the job overrides a job of include:template Auto-DevOps.gitlab-ci.yml, include:template Jobs/SAST.gitlab-ci.yml")
	var overridden []string
	for _, n := range cfg.Notes {
		if n.Kind == NotFetched && n.Job != "" {
			overridden = append(overridden, n.Job)
		}
	}
	equalStrings(t, "overriding jobs", overridden, []string{"test", "code_quality"})
	// Without an unfetched include, it stays the error GitLab gives.
	cfg = loadApp(t, "test:\n  variables: {A: b}\nbuild:\n  script: [make]\n", nil)
	requireDiag(t, cfg, diag.Error, "jobs test config should implement the script:, run:, or trigger: keyword")
}
