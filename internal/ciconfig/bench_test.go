package ciconfig

import (
	"fmt"
	"strings"
	"testing"
)

// benchRoot is a typical project configuration: about 100 lines, two local
// includes, one project include shared with every other project, extends,
// anchors, !reference, rules and a matrix.
const benchRoot = `include:
  - local: ci/build.yml
  - local: ci/deploy.yml
  - project: platform/ci-templates
    ref: v3
    file: templates/security.yml

stages: [build, test, package, deploy]

variables:
  GIT_DEPTH: "20"
  DOCKER_DRIVER: overlay2
  APP_NAME: web
  REGISTRY_IMAGE: $CI_REGISTRY_IMAGE/app
  PIP_INDEX_URL: https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/api/v4/projects/42/packages/pypi/simple

default:
  image: python:3.12
  before_script:
    - pip install -r requirements.txt
  tags: [docker]

.cache: &cache
  cache:
    key: $CI_COMMIT_REF_SLUG
    paths: [.cache/pip]

.test-template:
  <<: *cache
  stage: test
  variables:
    PYTHONPATH: src
  script:
    - pytest -q
  artifacts:
    reports:
      junit: report.xml

unit:
  extends: .test-template
  script:
    - pytest -q tests/unit
    - coverage report

integration:
  extends: .test-template
  services:
    - name: postgres:16
      alias: db
  variables:
    DATABASE_URL: postgres://postgres@db/test
  script:
    - !reference [.test-template, script]
    - pytest -q tests/integration
  parallel:
    matrix:
      - PYTHON: ["3.11", "3.12"]
        DB: [postgres]

lint:
  stage: test
  script:
    - ruff check .
    - mypy src
  rules:
    - if: $CI_MERGE_REQUEST_ID
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
      variables:
        STRICT: "true"

fetch-assets:
  stage: build
  script:
    - git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/design/assets.git assets
    - |
      curl --header "JOB-TOKEN: $CI_JOB_TOKEN" \
        --output tool.tgz \
        "${CI_API_V4_URL}/projects/platform%2Ftools/packages/generic/tool/1.2.0/tool.tgz"
  needs:
    - project: design/assets
      job: export
      ref: main
      artifacts: true

pages:
  stage: deploy
  script:
    - mkdocs build -d public
  artifacts:
    paths: [public]
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
`

const benchBuild = `.docker: &docker
  image: docker:27
  services: [docker:27-dind]
  variables:
    DOCKER_TLS_CERTDIR: "/certs"

build-image:
  <<: *docker
  stage: package
  script:
    - docker login -u $CI_REGISTRY_USER -p $CI_REGISTRY_PASSWORD $CI_REGISTRY
    - docker build -t $REGISTRY_IMAGE:$CI_COMMIT_SHA .
    - docker push $REGISTRY_IMAGE:$CI_COMMIT_SHA

build-wheel:
  stage: build
  script:
    - python -m build
    - TWINE_PASSWORD=${CI_JOB_TOKEN} TWINE_USERNAME=gitlab-ci-token python -m twine upload --repository-url ${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/pypi dist/*
`

const benchDeploy = `.deploy:
  stage: deploy
  image: registry.example.com/platform/deployer:2
  script:
    - ./deploy.sh $ENVIRONMENT
  environment:
    name: $ENVIRONMENT

deploy-staging:
  extends: .deploy
  variables: {ENVIRONMENT: staging}

deploy-production:
  extends: .deploy
  variables: {ENVIRONMENT: production}
  when: manual

trigger-e2e:
  stage: deploy
  trigger:
    project: qa/e2e
    branch: main
`

const benchShared = `spec:
  inputs:
    stage:
      default: test
---
.security-base:
  stage: $[[ inputs.stage ]]
  image: registry.example.com/security/scanner:4
  allow_failure: true

secret-detection:
  extends: .security-base
  script:
    - scanner secrets --report gl-secret-detection-report.json

dependency-scan:
  extends: .security-base
  script:
    - scanner deps --token "$CI_JOB_TOKEN" --api "$CI_API_V4_URL"
`

func benchFiles(projects int) memFiles {
	files := memFiles{"platform/ci-templates": {"templates/security.yml": benchShared}}
	for i := range projects {
		files[fmt.Sprintf("apps/p%d", i)] = map[string]string{
			".gitlab-ci.yml": benchRoot,
			"ci/build.yml":   benchBuild,
			"ci/deploy.yml":  benchDeploy,
		}
	}
	return files
}

// BenchmarkLoad loads a realistic project with a warm shared cache (the
// org-scan case: the project include is parsed once for all projects).
func BenchmarkLoad(b *testing.B) {
	const projects = 64
	files := benchFiles(projects)
	cache := NewCache()
	opts := Options{Files: files, Vars: testVars, Cache: cache}
	cfg := Load("apps/p0", ".gitlab-ci.yml", opts)
	if cfg.Diags.HasErrors() || len(cfg.Jobs) != 12 {
		b.Fatalf("benchmark config: %d jobs %v\n%s", len(cfg.Jobs), jobNames(cfg), diagText(cfg.Diags))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Load(fmt.Sprintf("apps/p%d", i%projects), ".gitlab-ci.yml", opts)
		i++
	}
}

// BenchmarkLoadParallel is the same on all cores, as discovery runs it.
func BenchmarkLoadParallel(b *testing.B) {
	const projects = 64
	files := benchFiles(projects)
	opts := Options{Files: files, Vars: testVars, Cache: NewCache()}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			Load(fmt.Sprintf("apps/p%d", i%projects), ".gitlab-ci.yml", opts)
			i++
		}
	})
}

// benchSmall is the most common shape: one short file and a shared
// template from another project.
const benchSmall = `include:
  - project: platform/ci-templates
    file: templates/security.yml

variables:
  NODE_VERSION: "22"

default:
  image: node:$NODE_VERSION

.npm: &npm
  before_script:
    - npm ci --cache .npm

test:
  <<: *npm
  script:
    - npm test
  artifacts:
    reports:
      junit: junit.xml

build:
  <<: *npm
  script:
    - npm run build
    - 'curl --header "JOB-TOKEN: $CI_JOB_TOKEN" --upload-file dist.tgz "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/generic/web/1.0.0/dist.tgz"'
  rules:
    - if: $CI_COMMIT_TAG
`

// BenchmarkLoadSmall loads the small shape with a warm shared cache.
func BenchmarkLoadSmall(b *testing.B) {
	files := memFiles{"platform/ci-templates": {"templates/security.yml": benchShared}, "apps/small": {".gitlab-ci.yml": benchSmall}}
	opts := Options{Files: files, Vars: testVars, Cache: NewCache()}
	if cfg := Load("apps/small", ".gitlab-ci.yml", opts); cfg.Diags.HasErrors() || len(cfg.Jobs) != 4 {
		b.Fatalf("benchmark config: %v\n%s", jobNames(cfg), diagText(cfg.Diags))
	}
	b.ReportAllocs()
	for b.Loop() {
		Load("apps/small", ".gitlab-ci.yml", opts)
	}
}

// childBenchFiles is a parent with bridges trigger jobs on one child file
// of jobs jobs (GitLab's own repository starts about 20 child pipelines),
// and the same jobs written flat in one file, to compare.
func childBenchFiles(bridges, jobs int) (child, flat memFiles) {
	var c, parent, f strings.Builder
	c.WriteString("variables: {MODE: child}\n.base:\n  image: registry.example.com/platform/ci:1\n  before_script: [source ci/env.sh]\n")
	for j := range jobs {
		fmt.Fprintf(&c, "job-%d:\n  extends: .base\n  script:\n    - make test-%d TARGET=$TARGET\n", j, j)
	}
	for i := range bridges {
		fmt.Fprintf(&parent, "bridge-%d:\n  variables: {TARGET: t%d}\n  trigger:\n    include: .gitlab/ci/child.yml\n    strategy: depend\n", i, i)
		for j := range jobs {
			fmt.Fprintf(&f, "job-%d-%d:\n  image: registry.example.com/platform/ci:1\n  before_script: [source ci/env.sh]\n  variables: {TARGET: t%d}\n  script:\n    - make test-%d TARGET=$TARGET\n", i, j, i, j)
		}
	}
	child = memFiles{app: {".gitlab-ci.yml": parent.String(), ".gitlab/ci/child.yml": c.String()}}
	flat = memFiles{app: {".gitlab-ci.yml": f.String()}}
	return child, flat
}

// BenchmarkLoadChildPipelines: 20 child pipelines of 50 jobs each, against
// the same 1,000 jobs in one file (go test -run '^$' -bench LoadChild ./internal/ciconfig/).
func BenchmarkLoadChildPipelines(b *testing.B) {
	child, flat := childBenchFiles(20, 50)
	for _, c := range []struct {
		name  string
		files memFiles
		jobs  int
	}{{"children", child, 20 + 20*50}, {"flat", flat, 20 * 50}} {
		b.Run(c.name, func(b *testing.B) {
			opts := Options{Files: c.files, Vars: testVars}
			if cfg := Load(app, ".gitlab-ci.yml", opts); len(cfg.Jobs) != c.jobs || cfg.Diags.HasErrors() {
				b.Fatalf("%d jobs, want %d\n%s", len(cfg.Jobs), c.jobs, diagText(cfg.Diags))
			}
			b.ReportAllocs()
			for b.Loop() {
				Load(app, ".gitlab-ci.yml", opts)
			}
		})
	}
}
