// Package orggen writes synthetic snapshot directories for benchmarks and
// load tests: an org of N projects with a realistic mix of CI
// configurations (shared includes, extends, anchors, token clones, package
// registries, images, needs:project, submodules, API calls, look-alikes
// that are not edges, plain projects with no cross-project access). Output
// is deterministic for a given seed.
package orggen

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

// Options describe the org to generate.
type Options struct {
	Projects int    // total projects (at least 10)
	Seed     uint64 // same seed, same org
	// ServerURL and Registry default to https://gitlab.bench.example and
	// registry.bench.example.
	ServerURL string
	Registry  string
}

// Stats describe what was generated.
type Stats struct {
	Projects int
	Files    int
	Bytes    int64
}

// shared projects every generated app may reach.
var shared = []string{
	"platform/ci-templates", "platform/build-scripts", "platform/base-images",
	"libs/jslib", "libs/pylib", "libs/java-commons", "libs/protos", "infra/tfstate", "infra/charts",
}

// Write generates the org into dir (which must exist and be empty).
func Write(dir string, o Options) (Stats, error) {
	if o.Projects < len(shared)+1 {
		o.Projects = len(shared) + 1
	}
	if o.ServerURL == "" {
		o.ServerURL = "https://gitlab.bench.example"
	}
	if o.Registry == "" {
		o.Registry = "registry.bench.example"
	}
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	inv := &inventory.Inventory{Version: inventory.Version, ServerURL: o.ServerURL, Registry: o.Registry, GitLabVersion: "18.5"}
	var st Stats
	write := func(project, name, content string) error {
		p := filepath.Join(dir, filepath.FromSlash(project), filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		st.Files++
		st.Bytes += int64(len(content))
		return os.WriteFile(p, []byte(content), 0o644)
	}
	id := 1000
	for _, p := range shared {
		id++
		inv.Projects = append(inv.Projects, &inventory.Project{Path: p, ID: id, Visibility: "private", DefaultBranch: "main"})
		if err := write(p, ".gitlab-ci.yml", "lint:\n  image: alpine:3.20\n  script:\n    - echo ok\n"); err != nil {
			return st, err
		}
	}
	if err := write("platform/ci-templates", "templates/build.yml", templateBuild); err != nil {
		return st, err
	}
	for i := 0; len(inv.Projects) < o.Projects; i++ {
		group := fmt.Sprintf("team%03d", i/40)
		path := fmt.Sprintf("%s/svc%05d", group, i)
		id++
		inv.Projects = append(inv.Projects, &inventory.Project{Path: path, ID: id, Visibility: "private", DefaultBranch: "main"})
		files := appFiles(r, path, i)
		for _, name := range slices.Sorted(maps.Keys(files)) {
			if err := write(path, name, files[name]); err != nil {
				return st, err
			}
		}
	}
	st.Projects = len(inv.Projects)
	data, err := inv.Marshal()
	if err != nil {
		return st, err
	}
	st.Files++
	st.Bytes += int64(len(data))
	return st, os.WriteFile(filepath.Join(dir, inventory.FileName), data, 0o644)
}

const templateBuild = `.fetch-build-scripts:
  before_script:
    - git clone --depth 1 "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/platform/build-scripts.git" /tmp/bs

.docker-login:
  before_script:
    - echo "$CI_REGISTRY_PASSWORD" | docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"
`

// appFiles returns the repository files of one generated application
// project. The mix: about a third plain (no cross-project access), the rest
// combine a few patterns each.
func appFiles(r *rand.Rand, path string, i int) map[string]string {
	var b strings.Builder
	files := map[string]string{}
	plain := r.IntN(3) == 0
	if !plain && r.IntN(2) == 0 {
		b.WriteString("include:\n  - project: platform/ci-templates\n    file: templates/build.yml\n\n")
	}
	b.WriteString("variables:\n  APP_NAME: " + path[strings.LastIndexByte(path, '/')+1:] + "\n  GIT_DEPTH: \"10\"\n\n")
	b.WriteString(".defaults: &defaults\n  image: alpine:3.20\n  retry: 1\n  tags: [docker]\n\n")
	b.WriteString("stages: [build, test, deploy]\n\n")
	b.WriteString("lint:\n  <<: *defaults\n  stage: test\n  script:\n    - echo \"linting $APP_NAME\"\n    - ./scripts/lint.sh\n\n")
	files["scripts/lint.sh"] = "#!/bin/sh\nset -eu\nfor f in $(find . -name '*.sh'); do sh -n \"$f\"; done\necho done\n"
	if plain {
		b.WriteString("unit:\n  <<: *defaults\n  stage: test\n  script:\n    - make test\n    - make coverage\n")
		files[".gitlab-ci.yml"] = b.String()
		return files
	}
	for _, k := range r.Perm(9)[:2+r.IntN(3)] {
		switch k {
		case 0:
			b.WriteString("build:\n  stage: build\n  extends: .fetch-build-scripts\n  image: alpine:3.20\n  script:\n    - /tmp/bs/build.sh $APP_NAME\n\n")
			if !strings.Contains(b.String(), "project: platform/ci-templates") {
				b.WriteString(".fetch-build-scripts:\n  before_script:\n    - git clone \"https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/platform/build-scripts.git\" /tmp/bs\n\n")
			}
		case 1:
			files[".npmrc"] = "@acme:registry=https://gitlab.bench.example/api/v4/projects/1004/packages/npm/\n//gitlab.bench.example/api/v4/projects/1004/packages/npm/:_authToken=${CI_JOB_TOKEN}\n"
			b.WriteString("web:\n  image: node:20\n  script:\n    - npm ci\n    - npm run build\n  needs:\n    - project: libs/jslib\n      job: build\n      ref: main\n      artifacts: true\n\n")
		case 2:
			b.WriteString("etl:\n  image: python:3.12\n  variables:\n    PIP_INDEX_URL: https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.bench.example/api/v4/projects/1005/packages/pypi/simple\n  script:\n    - pip install -r requirements.txt\n    - python -m app\n\n")
			files["requirements.txt"] = "acme-pylib==2.3.0\nrequests==2.32.3\n"
		case 3:
			b.WriteString("image-build:\n  image: docker:27\n  services: [docker:27-dind]\n  script:\n    - echo \"$CI_JOB_TOKEN\" | docker login -u gitlab-ci-token --password-stdin $CI_REGISTRY\n    - docker build -t $CI_REGISTRY_IMAGE .\n    - docker push $CI_REGISTRY_IMAGE\n\n")
			files["Dockerfile"] = "ARG TAG=22\nFROM registry.bench.example/platform/base-images/node:${TAG}\nCOPY . /app\n"
		case 4:
			b.WriteString("test:\n  image: registry.bench.example/platform/base-images/ci:1.4\n  variables:\n    GIT_SUBMODULE_STRATEGY: recursive\n  script:\n    - make test\n\n")
			files[".gitmodules"] = "[submodule \"protos\"]\n\tpath = protos\n\turl = ../../libs/protos.git\n"
		case 5:
			b.WriteString("codegen:\n  image: curlimages/curl:8.8.0\n  script:\n    - |\n      curl --fail --header \"JOB-TOKEN: $CI_JOB_TOKEN\" \\\n        --output tool.tgz \\\n        \"${CI_API_V4_URL}/projects/platform%2Fbuild-scripts/packages/generic/tool/1.0/tool.tgz\"\n\n")
		case 6:
			b.WriteString("deploy:\n  stage: deploy\n  image: hashicorp/terraform:1.9\n  variables:\n    TF_HTTP_ADDRESS: ${CI_API_V4_URL}/projects/1008/terraform/state/" + fmt.Sprint(i) + "\n    TF_HTTP_USERNAME: gitlab-ci-token\n    TF_HTTP_PASSWORD: ${CI_JOB_TOKEN}\n  script:\n    - terraform init\n    - terraform plan\n\n")
		case 7:
			b.WriteString("release:\n  stage: deploy\n  image: alpine/helm:3.15\n  script:\n    - helm repo add --username gitlab-ci-token --password ${CI_JOB_TOKEN} charts ${CI_API_V4_URL}/projects/infra%2Fcharts/packages/helm/stable\n    - helm upgrade --install $APP_NAME charts/$APP_NAME\n\n")
		case 8:
			b.WriteString("report:\n  image: alpine:3.20\n  script:\n    # - git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/infra/tfstate.git\n    - curl -H \"PRIVATE-TOKEN: $REPORT_PAT\" \"$CI_API_V4_URL/projects/1008/issues\"\n    - for svc in a b c; do echo \"$svc\"; done\n\n")
		}
	}
	files[".gitlab-ci.yml"] = b.String()
	return files
}
