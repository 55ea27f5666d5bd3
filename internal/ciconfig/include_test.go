package ciconfig

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/diag"
)

// The forms of include:local (docs includes.md, gitlab-ci-local
// include-local): string, list, mapping, leading slash optional.
func TestIncludeLocalForms(t *testing.T) {
	files := memFiles{app: {
		"ci/a.yml": "a:\n  script: [echo a]\n",
		"ci/b.yml": "b:\n  script: [echo b]\n",
		"ci/c.yml": "c:\n  script: [echo c]\n",
		"ci/d.yml": "d:\n  script: [echo d]\n",
	}}
	for _, inc := range []string{
		"include:\n  - ci/a.yml\n  - local: /ci/b.yml\n  - local: ./ci/c.yml\n  - '/ci/d.yml'\n",
		"include: [ci/a.yml, {local: ci/b.yml}, /ci/c.yml, {local: '/ci/d.yml'}]\n",
	} {
		cfg := loadApp(t, inc, files)
		requireClean(t, cfg)
		equalStrings(t, "jobs", jobNames(cfg), []string{"a", "b", "c", "d"})
		if p := jobNamed(t, cfg, "b").Script[0].Pos; p.File != "ci/b.yml" || p.Line != 2 || p.Project != app {
			t.Errorf("job b script at %+v, want g/app ci/b.yml:2", p)
		}
	}
	cfg := loadApp(t, "include: ci/only.yml\n", memFiles{app: {"ci/only.yml": "only:\n  script: [echo]\n"}})
	equalStrings(t, "string form", jobNames(cfg), []string{"only"})
}

// Merge order (§5.2): included content lies below the including file, later
// includes win, the same job in two files is one deep-merged job, arrays
// are replaced.
func TestIncludeMergeOrder(t *testing.T) {
	files := memFiles{app: {
		"ci/defaults.yml": `
variables: {X: defaults, ONLY_DEFAULTS: "1"}
build:
  image: golang:1.22
  variables: {FROM: defaults, KEEP: kept}
  script: [make defaults]
  tags: [defaults]
`,
		"ci/override.yml": `
variables: {X: override}
build:
  variables: {FROM: override}
  tags: [override]
`,
	}}
	cfg := loadApp(t, `
include:
  - local: ci/defaults.yml
  - local: ci/override.yml
build:
  script: [make root]
variables:
  ROOT: "1"
`, files)
	requireClean(t, cfg)
	j := jobNamed(t, cfg, "build")
	equalStrings(t, "script (root wins, arrays replace)", texts(j.Script), []string{"make root"})
	if j.Image == nil || j.Image.Name != "golang:1.22" || j.Image.Pos.File != "ci/defaults.yml" {
		t.Errorf("image %+v, want golang:1.22 from ci/defaults.yml", j.Image)
	}
	equalMap(t, "variables", varMap(j.Variables), map[string]string{
		"X": "override", "ONLY_DEFAULTS": "1", "ROOT": "1", "FROM": "override", "KEEP": "kept",
	})
	if j.Pos.File != ".gitlab-ci.yml" {
		t.Errorf("job position %+v, want the root file that last defines it", j.Pos)
	}

	// The same file included again after an override decides (docs
	// example with defaults.gitlab-ci.yml).
	cfg = loadApp(t, "include: [ci/defaults.yml, ci/override.yml, ci/defaults.yml]\n", files)
	requireClean(t, cfg)
	equalMap(t, "re-included", varMap(jobNamed(t, cfg, "build").Variables), map[string]string{
		"X": "defaults", "ONLY_DEFAULTS": "1", "FROM": "defaults", "KEEP": "kept",
	})
}

// gitlab-ci-local include-nested: nested includes are merged below the file
// that includes them.
func TestIncludeNested(t *testing.T) {
	cfg := loadApp(t, "include: ci/one.yml\nvariables: {LEVEL: root}\n", memFiles{app: {
		"ci/one.yml":   "include: [ci/two.yml]\nvariables: {LEVEL: one, ONE: '1'}\none:\n  script: [echo one]\n",
		"ci/two.yml":   "include: {local: ci/three.yml}\nvariables: {LEVEL: two, TWO: '2'}\ntwo:\n  script: [echo two]\n",
		"ci/three.yml": "variables: {LEVEL: three, THREE: '3'}\nthree:\n  script: [echo three]\n",
	}})
	requireClean(t, cfg)
	equalStrings(t, "jobs", jobNames(cfg), []string{"one", "three", "two"})
	equalMap(t, "vars", varMap(jobNamed(t, cfg, "three").Variables), map[string]string{"LEVEL": "root", "ONE": "1", "TWO": "2", "THREE": "3"})
}

// gitlab-ci-local include-local-wildcard; docs: * stays in one folder, **
// matches every level, **/ only subfolders.
func TestIncludeLocalWildcard(t *testing.T) {
	files := memFiles{app: {
		"configs/a.yml":       "a:\n  script: [echo a]\n",
		"configs/b.yaml":      "b:\n  script: [echo b]\n",
		"configs/sub/c.yml":   "c:\n  script: [echo c]\n",
		"configs/sub/x/d.yml": "d:\n  script: [echo d]\n",
		"other/e.yml":         "e:\n  script: [echo e]\n",
	}}
	tests := []struct {
		pattern string
		jobs    []string
	}{
		{"configs/*.yml", []string{"a"}},
		{"configs/*.y*ml", []string{"a", "b"}},
		{"configs/**.yml", []string{"a", "c", "d"}},
		{"configs/**/*.yml", []string{"c", "d"}},
	}
	for _, tt := range tests {
		cfg := loadApp(t, "include: '"+tt.pattern+"'\n", files)
		requireClean(t, cfg)
		equalStrings(t, tt.pattern, jobNames(cfg), tt.jobs)
	}
	cfg := loadApp(t, "include: 'nothing/*.yml'\njob: {script: [echo]}\n", files)
	requireDiag(t, cfg, diag.Warning, "matches no file")
}

// gitlab-ci-local include-project-file and
// include-project-file-ref-with-inner-local: the file comes from the other
// project, and include:local inside it means that project.
func TestIncludeProject(t *testing.T) {
	files := memFiles{
		"g/templates": {
			"ci/build.yml":  "include: {local: ci/inner.yml}\nbuild:\n  extends: .inner\n  script: [make]\n",
			"ci/inner.yml":  ".inner:\n  image: inner-image\n",
			"ci/deploy.yml": "deploy:\n  script: [./deploy.sh]\n",
		},
		app: {"ci/inner.yml": ".inner:\n  image: WRONG-PROJECT\n"},
	}
	cfg := loadApp(t, `
include:
  - project: g/templates
    ref: v1.2
    file:
      - /ci/build.yml
      - ci/deploy.yml
`, files)
	requireClean(t, cfg)
	equalStrings(t, "jobs", jobNames(cfg), []string{"build", "deploy"})
	b := jobNamed(t, cfg, "build")
	if b.Image == nil || b.Image.Name != "inner-image" || b.Image.Pos.Project != "g/templates" {
		t.Errorf("inner local include read the wrong project: %+v", b.Image)
	}
	if p := b.Script[0].Pos; p.Project != "g/templates" || p.File != "ci/build.yml" || p.Line != 4 {
		t.Errorf("script position %+v", p)
	}
	n := requireNote(t, cfg, PipelineUser, "include:project g/templates is resolved with the pipeline user's permissions, not the job token")
	if n.Project != app || n.File != ".gitlab-ci.yml" || n.Line != 3 {
		t.Errorf("note placed at %s %s:%d", n.Project, n.File, n.Line)
	}
}

func TestIncludeProjectNotInSnapshot(t *testing.T) {
	cfg := loadApp(t, "include:\n  - project: other/shared\n    file: ci.yml\njob:\n  script: [echo]\n", nil)
	requireClean(t, cfg)
	n := requireNote(t, cfg, NotFetched, "other/shared", "ci.yml", "snapshot")
	if n.Line != 2 {
		t.Errorf("note line %d, want 2", n.Line)
	}
	requireNote(t, cfg, PipelineUser, "include:project other/shared")
	jobNamed(t, cfg, "job")
}

// gitlab-ci-local include-project-file-with-variable: include values expand
// project and predefined variables; others cannot be known offline.
func TestIncludeVariables(t *testing.T) {
	files := memFiles{"g/templates": {"main/ci.yml": "tpl:\n  script: [echo tpl]\n"}}
	cfg := loadApp(t, "include:\n  - project: $CI_PROJECT_NAMESPACE/templates\n    ref: ${CI_DEFAULT_BRANCH}\n    file: '%CI_DEFAULT_BRANCH%/ci.yml'\n", files)
	requireClean(t, cfg)
	jobNamed(t, cfg, "tpl")

	cfg = loadApp(t, "include:\n  - local: ci/$ENVIRONMENT.yml\njob: {script: [echo]}\n", nil)
	requireNote(t, cfg, NotFetched, "ENVIRONMENT", "variables tokenscope cannot see")
	requireClean(t, cfg)
}

func TestIncludeRemoteTemplateArtifact(t *testing.T) {
	cfg := loadApp(t, `
include:
  - https://example.com/ci.yml
  - remote: https://example.com/other.yml
  - template: Auto-DevOps.gitlab-ci.yml
job:
  script: [echo]
  trigger:
    include:
      - artifact: generated.yml
        job: gen
`, nil)
	requireClean(t, cfg)
	requireNote(t, cfg, NotFetched, "include:remote https://example.com/ci.yml")
	requireNote(t, cfg, NotFetched, "include:remote https://example.com/other.yml")
	requireNote(t, cfg, NotFetched, "include:template Auto-DevOps.gitlab-ci.yml")
	// Remote and template includes count towards the include limit.
	cfg = loadApp(t, "include:\n  - https://example.com/a.yml\n  - template: A.yml\n  - local: ci/x.yml\njob: {script: [echo]}\n",
		memFiles{app: {"ci/x.yml": "x: {script: [echo]}\n"}}, withLimits(Limits{MaxIncludes: 2}))
	requireDiag(t, cfg, diag.Error, "Maximum of 2 nested includes are allowed!")
}

// gitlab-ci-local include-rules: GitLab evaluates include rules when the
// pipeline is created; statically the file may be included.
func TestIncludeRules(t *testing.T) {
	cfg := loadApp(t, `
include:
  - local: ci/maybe.yml
    rules:
      - if: $CI_COMMIT_BRANCH == "main"
`, memFiles{app: {"ci/maybe.yml": "maybe:\n  script: [echo]\n"}})
	requireClean(t, cfg)
	jobNamed(t, cfg, "maybe")
}

func TestIncludeErrors(t *testing.T) {
	tests := []struct {
		name, ci string
		want     []string
		line     int
	}{
		{"missing local", "job: {script: [echo]}\ninclude: ci/missing.yml\n", []string{"Local file `ci/missing.yml` does not exist!"}, 2},
		{"missing project file", "include:\n  - project: g/templates\n    file: nope.yml\njob: {script: [echo]}\n", []string{"Project `g/templates` file `nope.yml` does not exist!"}, 2},
		{"not yaml", "include: ci/readme.md\njob: {script: [echo]}\n", []string{"Included file `ci/readme.md` does not have YAML extension!"}, 1},
		{"project without file", "include:\n  - project: g/templates\njob: {script: [echo]}\n", []string{"needs file:"}, 2},
		{"file without project", "include:\n  - file: x.yml\njob: {script: [echo]}\n", []string{"include:file needs include:project"}, 2},
		{"two accessors", "include:\n  - local: a.yml\n    remote: https://x/y.yml\njob: {script: [echo]}\n", []string{"exactly one accessor"}, 2},
		{"bad entry", "include:\n  - [a.yml]\njob: {script: [echo]}\n", []string{"include entry is not valid"}, 2},
	}
	files := memFiles{"g/templates": {"ci.yml": "x: {script: [echo]}\n"}, app: {"ci/readme.md": "x"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := loadApp(t, tt.ci, files)
			d := requireDiag(t, cfg, diag.Error, tt.want...)
			if d.Project != app || d.File != ".gitlab-ci.yml" || d.Line != tt.line {
				t.Errorf("diagnostic at %s %s:%d, want %s .gitlab-ci.yml:%d", d.Project, d.File, d.Line, app, tt.line)
			}
			if d.Detail == "" {
				t.Errorf("no advice: %s", d)
			}
			jobNamed(t, cfg, "job") // the rest is still read
		})
	}
}

func TestIncludeCycle(t *testing.T) {
	cfg := loadApp(t, "include: ci/a.yml\njob: {script: [echo]}\n", memFiles{app: {
		"ci/a.yml": "include: ci/b.yml\na: {script: [echo a]}\n",
		"ci/b.yml": "include: ci/a.yml\nb: {script: [echo b]}\n",
	}})
	d := requireDiag(t, cfg, diag.Error, "include cycle: ci/a.yml → ci/b.yml → ci/a.yml")
	if d.File != "ci/b.yml" || d.Line != 1 {
		t.Errorf("cycle reported at %s:%d, want ci/b.yml:1", d.File, d.Line)
	}
	equalStrings(t, "jobs", jobNames(cfg), []string{"a", "b", "job"})

	cfg = loadApp(t, "include: .gitlab-ci.yml\njob: {script: [echo]}\n", nil)
	requireDiag(t, cfg, diag.Error, "include cycle: .gitlab-ci.yml → .gitlab-ci.yml")

	// Across projects the chain names the projects.
	cfg = loadApp(t, "include: {project: g/t, file: a.yml}\n", memFiles{"g/t": {"a.yml": "include: {project: g/app, file: .gitlab-ci.yml}\nt: {script: [echo]}\n"}})
	requireDiag(t, cfg, diag.Error, "include cycle: .gitlab-ci.yml → g/t:a.yml → .gitlab-ci.yml")
}

// GitLab counts every included file, nested ones and repeats (since 15.10):
// 150 by default, "Maximum of 150 nested includes are allowed!".
func TestIncludeCountLimit(t *testing.T) {
	files := memFiles{app: {"ci/x.yml": "x:\n  script: [echo]\n"}}
	list := func(n int) string {
		return "include:\n" + strings.Repeat("  - ci/x.yml\n", n)
	}
	cfg := loadApp(t, list(150), files)
	requireClean(t, cfg)
	cfg = loadApp(t, list(151), files)
	d := requireDiag(t, cfg, diag.Error, "Maximum of 150 nested includes are allowed!")
	if d.Line != 152 {
		t.Errorf("limit reported at line %d, want 152 (the 151st include)", d.Line)
	}
	if len(cfg.Diags) != 1 {
		t.Errorf("the limit is reported once, got:\n%s", diagText(cfg.Diags))
	}
	// Nested includes count as well.
	nested := memFiles{app: {"ci/a.yml": "include: [ci/b.yml, ci/b.yml]\n", "ci/b.yml": "b:\n  script: [echo]\n"}}
	cfg = loadApp(t, "include: [ci/a.yml, ci/a.yml]\n", nested, withLimits(Limits{MaxIncludes: 5}))
	requireDiag(t, cfg, diag.Error, "Maximum of 5 nested includes")
	cfg = loadApp(t, "include: [ci/a.yml, ci/a.yml]\n", nested, withLimits(Limits{MaxIncludes: 6}))
	requireClean(t, cfg)
}

func TestIncludeDepthLimit(t *testing.T) {
	files := memFiles{app: {}}
	for i := range 6 {
		files[app][fmt.Sprintf("ci/%d.yml", i)] = fmt.Sprintf("include: ci/%d.yml\nj%d: {script: [echo]}\n", i+1, i)
	}
	files[app]["ci/6.yml"] = "j6: {script: [echo]}\n"
	cfg := loadApp(t, "include: ci/0.yml\n", files, withLimits(Limits{MaxIncludeDepth: 3}))
	d := requireDiag(t, cfg, diag.Error, "nested more than 3 levels")
	if d.File != "ci/2.yml" {
		t.Errorf("depth reported in %s, want ci/2.yml", d.File)
	}
	equalStrings(t, "jobs read before the limit", jobNames(cfg), []string{"j0", "j1", "j2"})
	cfg = loadApp(t, "include: ci/0.yml\n", files)
	requireClean(t, cfg)
	if len(cfg.Jobs) != 7 {
		t.Errorf("jobs %v", jobNames(cfg))
	}
}

func TestIncludeTotalSize(t *testing.T) {
	big := "x:\n  script:\n" + strings.Repeat("    - echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 100)
	cfg := loadApp(t, "include: [ci/big.yml, ci/big.yml, ci/big.yml]\n", memFiles{app: {"ci/big.yml": big}},
		withLimits(Limits{MaxTotalBytes: int64(2*len(big) + 200)}))
	requireDiag(t, cfg, diag.Error, "Total size of combined CI/CD configuration is too big")
}

// Components (docs components/_index.md): same instance only,
// templates/<name>.yml or templates/<name>/template.yml, inputs per entry.
func TestIncludeComponent(t *testing.T) {
	files := memFiles{"g/components": {
		"templates/scan.yml": `spec:
  inputs:
    stage:
      default: test
    target:
---
"$[[ component.name ]]-$[[ inputs.target ]]":
  stage: $[[ inputs.stage ]]
  script:
    - scan --version $[[ component.version ]] $[[ inputs.target ]]
`,
		"templates/deploy/template.yml": "deploy:\n  script: [./deploy]\n",
	}}
	cfg := loadApp(t, `
include:
  - component: $CI_SERVER_FQDN/g/components/scan@1.2.0
    inputs:
      target: web
  - component: gitlab.example.com/g/components/scan@~latest
    inputs:
      target: api
  - component: gitlab.example.com/g/components/deploy@main
  - component: gitlab.com/components/opentofu/full-pipeline@1.0.0
`, files)
	requireClean(t, cfg)
	equalStrings(t, "jobs", jobNames(cfg), []string{"deploy", "scan-api", "scan-web"})
	equalStrings(t, "script", texts(jobNamed(t, cfg, "scan-web").Script), []string{"scan --version 1.2.0 web"})
	equalStrings(t, "script", texts(jobNamed(t, cfg, "scan-api").Script), []string{"scan --version ~latest api"})
	requireNote(t, cfg, PipelineUser, "include:component gitlab.example.com/g/components/scan@1.2.0")
	requireNote(t, cfg, NotFetched, "gitlab.com/components/opentofu/full-pipeline@1.0.0", "not on this GitLab instance")

	// A component project's own pipeline tests its components at the
	// commit under test: the snapshot's files of that same project.
	own := memFiles{app: {"templates/lint/template.yml": "spec:\n  inputs:\n    level: {default: warn}\n---\nlint-$[[ inputs.level ]]:\n  script:\n    - lint $[[ component.version ]]\n"}}
	cfg = loadApp(t, "include:\n  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/lint@$CI_COMMIT_SHA\n    inputs: {level: error}\n", own)
	requireClean(t, cfg)
	equalStrings(t, "own component at $CI_COMMIT_SHA", jobNames(cfg), []string{"lint-error"})
	equalStrings(t, "script", texts(jobNamed(t, cfg, "lint-error").Script), []string{"lint $CI_COMMIT_SHA"})
	cfg = loadApp(t, "include:\n  - component: $CI_SERVER_FQDN/g/components/scan@${CI_COMMIT_SHA}\n    inputs: {target: x}\njob: {script: [echo]}\n", files)
	requireNote(t, cfg, NotFetched, "$CI_COMMIT_SHA is a commit of this project, not of g/components")
	equalStrings(t, "another project at this commit is not read", jobNames(cfg), []string{"job"})

	cfg = loadApp(t, "include:\n  - component: gitlab.example.com/g/components/nope@1\njob: {script: [echo]}\n", files)
	requireDiag(t, cfg, diag.Error, "templates/nope.yml", "templates/nope/template.yml")
	cfg = loadApp(t, "include:\n  - component: gitlab.example.com/g/missing/x@1\njob: {script: [echo]}\n", files)
	requireNote(t, cfg, NotFetched, "project g/missing is not in the snapshot")
	cfg = loadApp(t, "include:\n  - component: gitlab.example.com/g/components/scan\njob: {script: [echo]}\n", files)
	requireDiag(t, cfg, diag.Error, "not a valid component address")
}

// A component project tests its own components at the pipeline's commit
// (GNOME/citemplates' test-the-templates/*.yml do this): the snapshot holds
// that commit, so the component is read from the project itself, and jobs
// that only override the component's jobs (allow_failure) are no errors.
// Another project's component at $CI_COMMIT_SHA stays unknown.
func TestIncludeOwnComponentAtCommit(t *testing.T) {
	files := memFiles{app: {
		"templates/basic-ci.yml": `spec:
  inputs:
    job-name:
      default: build
    image-ref:
      default: quay.io/example/build:nightly
---
"$[[ inputs.job-name ]]":
  image: $[[ inputs.image-ref ]]
  script: [meson setup _build, meson test -C _build]
"$[[ inputs.job-name ]]-clang":
  image: $[[ inputs.image-ref ]]
  script: [CC=clang meson setup _build]
`,
	}, "g/other": {"templates/lint.yml": "lint:\n  script: [lint]\n"}}
	cfg := loadApp(t, `
include:
  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/basic-ci@$CI_COMMIT_SHA
    inputs:
      job-name: basic-ci-ubuntu
      image-ref: "ubuntu:latest"
  - component: ${CI_SERVER_FQDN}/g/app/basic-ci@${CI_COMMIT_SHA}
basic-ci-ubuntu:
  allow_failure: true
`, files)
	requireClean(t, cfg)
	equalStrings(t, "jobs", jobNames(cfg), []string{"basic-ci-ubuntu", "basic-ci-ubuntu-clang", "build", "build-clang"})
	if j := jobNamed(t, cfg, "basic-ci-ubuntu"); len(j.Script) != 2 || j.Image == nil || j.Image.Name != "ubuntu:latest" {
		t.Errorf("override not merged: %+v", j)
	}

	cfg = loadApp(t, "include:\n  - component: $CI_SERVER_FQDN/g/other/lint@$CI_COMMIT_SHA\njob: {script: [echo]}\n", files)
	requireNote(t, cfg, NotFetched, "CI_COMMIT_SHA")
	equalStrings(t, "jobs", jobNames(cfg), []string{"job"})
}
