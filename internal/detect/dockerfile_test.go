package detect_test

import "testing"

const login = `echo "$CI_REGISTRY_PASSWORD" | docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"` + "\n"

// dfBase is a golden-image Dockerfile (P13): the registry host comes from
// a build-arg with a local default.
const dfBase = `# syntax=docker/dockerfile:1
ARG CI_REGISTRY=localhost
ARG BASE_TAG=22
FROM ${CI_REGISTRY}/platform/base-images/node:${BASE_TAG} AS build
WORKDIR /app
COPY . .
RUN npm ci && npm run build

FROM build AS runtime
CMD ["node", "dist/server.js"]
`

var dockerfileCases = []jobCase{
	{name: "P13 FROM ${CI_REGISTRY}/... passed as build-arg, after docker login",
		script: login + `docker build --build-arg CI_REGISTRY=$CI_REGISTRY -t $CI_REGISTRY_IMAGE .`,
		files:  map[string]string{"Dockerfile": dfBase},
		uses:   []string{"container-read image=platform/base-images/node Dockerfile:4 ~ (docker build at .gitlab-ci.yml:11; docker login at .gitlab-ci.yml:10)"}},
	{name: "P13 trap: ARG CI_REGISTRY=localhost default without the build-arg",
		script: login + `docker build -t $CI_REGISTRY_IMAGE .`,
		files:  map[string]string{"Dockerfile": dfBase}},
	{name: "P13 literal FROM without a visible login: a note, not an edge",
		script: `docker build -t app .`,
		files:  map[string]string{"Dockerfile": "FROM registry.example.org/rubin-dev/api/base:abc123\nRUN true\n"},
		notes:  []string{"not-a-job-token-edge Dockerfile:1 ~ without a visible job-token login"}},
	{name: "P13 -f is relative to the working directory; build-arg overrides the ARG default",
		caller: "apps/api",
		script: `echo "$CI_JOB_TOKEN" | docker login -u gitlab-ci-token --password-stdin $CI_REGISTRY
docker build --build-arg BASE_TAG=21-jre -f docker/Dockerfile -t $CI_REGISTRY_IMAGE .`,
		files: map[string]string{"docker/Dockerfile": "ARG BASE_TAG=latest\nFROM registry.example.org/platform/base-images/jre:${BASE_TAG} AS runtime\nCOPY target/api.jar /app/api.jar\n"},
		uses:  []string{"container-read image=platform/base-images/jre docker/Dockerfile:2"}},
	{name: "P13 cd into the context directory",
		script: login + `cd node && docker build -t "$CI_REGISTRY_IMAGE/node:22" .`,
		files:  map[string]string{"node/Dockerfile": "FROM registry.example.org/platform/base-images/node:22-alpine\n"},
		uses:   []string{"container-read image=platform/base-images/node node/Dockerfile:1"}},
	{name: "P13 BuildKit skips unused stages; COPY --from an image counts",
		script: login + `docker buildx build --target runtime -t x .`,
		files: map[string]string{"Dockerfile": "FROM registry.example.org/tools/linter:1 AS lint\n" +
			"FROM registry.example.org/platform/base-images/node:22 AS build\n" +
			"FROM build AS runtime\nCOPY --from=registry.example.org/platform/assets:2 /a /b\n"},
		uses: []string{"container-read image=platform/base-images/node Dockerfile:2", "container-read image=platform/assets Dockerfile:4"}},
	{name: "P15 kaniko with config.json: every stage, and the own destination",
		script: `echo "{\"auths\":{\"${CI_REGISTRY}\":{\"auth\":\"$(printf "%s:%s" "${CI_REGISTRY_USER}" "${CI_REGISTRY_PASSWORD}" | base64 | tr -d '\n')\"}}}" > /kaniko/.docker/config.json
/kaniko/executor --context "${CI_PROJECT_DIR}" --dockerfile "${CI_PROJECT_DIR}/Dockerfile" --destination "${CI_REGISTRY_IMAGE}:${CI_COMMIT_TAG}"`,
		files: map[string]string{"Dockerfile": "FROM registry.example.org/tools/linter:1 AS lint\nFROM registry.example.org/platform/base-images/node:22\n"},
		uses: []string{"container-read image=tools/linter Dockerfile:1", "container-read image=platform/base-images/node Dockerfile:2",
			"container-write image=apps/web .gitlab-ci.yml:11"}},
	{name: "P15 kaniko pushing to another project: never allowed",
		script: `echo "{\"auths\":{\"$CI_REGISTRY\":{\"username\":\"$CI_REGISTRY_USER\",\"password\":\"$CI_REGISTRY_PASSWORD\"}}}" > /kaniko/.docker/config.json
/kaniko/executor --context $CI_PROJECT_DIR --destination $CI_REGISTRY/platform/shared-images/web:1`,
		files: map[string]string{"Dockerfile": "FROM alpine:3.20\n"},
		uses:  []string{"container-write image=platform/shared-images/web .gitlab-ci.yml:11"},
		notes: []string{"will-not-work .gitlab-ci.yml:11 ~ never"}},
	{name: "P13 Dockerfile of a project the job cloned: evidence in that project's file",
		script: login + "git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/platform/images.git images\n" +
			"docker build -t x images/node",
		files: map[string]string{"platform/images:node/Dockerfile": "# base\nFROM registry.example.org/platform/base-images/node:22\n"},
		uses:  []string{"container-read image=platform/base-images/node platform/images/node/Dockerfile:2"}},
	{name: "buildah bud reads the Containerfile",
		script: `buildah login -u gitlab-ci-token -p $CI_JOB_TOKEN $CI_REGISTRY
buildah bud -t app .`,
		files: map[string]string{"Containerfile": "FROM registry.example.org/platform/ubi:9\n"},
		uses:  []string{"container-read image=platform/ubi Containerfile:1"}},
	{name: "P16 FROM another group's dependency proxy after a proxy login",
		script: `docker login -u $CI_DEPENDENCY_PROXY_USER -p $CI_DEPENDENCY_PROXY_PASSWORD $CI_DEPENDENCY_PROXY_SERVER
docker build .`,
		files: map[string]string{"Dockerfile": "FROM git.example.org:443/infra/dependency_proxy/containers/debian:stable\n"},
		uses:  []string{"container-read group=infra Dockerfile:1 (unresolved)"}},
	{name: "--cache-from another project's image",
		script: login + `docker build --cache-from $CI_REGISTRY/platform/cache-images/web:latest -t x .`,
		files:  map[string]string{"Dockerfile": "FROM node:22\n"},
		uses:   []string{"container-read image=platform/cache-images/web .gitlab-ci.yml:11"}},
	{name: "unknown FROM after a job-token login is unresolved",
		script: login + `docker build --build-arg BASE_IMAGE=$BASE_IMAGE .`,
		files:  map[string]string{"Dockerfile": "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"},
		uses:   []string{"container-read image=${BASE_IMAGE} Dockerfile:2 (unresolved)"}},
	{name: "git URL as the build context",
		script: `docker build https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/platform/images.git#main:node`,
		uses:   []string{"repository-read path=platform/images .gitlab-ci.yml:10"}},
	{name: "missing Dockerfile: a note",
		script: `docker build -f build/Dockerfile .`,
		notes:  []string{"not-fetched .gitlab-ci.yml:10 ~ build/Dockerfile"}},
	{name: "P39 token forwarded as build-arg: note, and RUN lines analysed",
		script: `docker build --build-arg CI_JOB_TOKEN=$CI_JOB_TOKEN -t app .`,
		files: map[string]string{"Dockerfile": "FROM python:3.12\nARG CI_JOB_TOKEN\n" +
			"RUN pip install git+https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/data/parser.git\n" +
			"RUN git config --global url.\"https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/\".insteadOf \"https://git.example.org/\"\n" +
			"RUN git clone https://git.example.org/platform/models.git\n"},
		uses:  []string{"repository-read path=data/parser Dockerfile:3", "repository-read path=platform/models Dockerfile:5"},
		notes: []string{"config-warning .gitlab-ci.yml:10 ~ build-arg CI_JOB_TOKEN"}},
	{name: "P39 token forwarded but the ARG is not declared in the stage: nothing inside",
		script: `docker build --build-arg CI_JOB_TOKEN -t app .`,
		files: map[string]string{"Dockerfile": "FROM python:3.12\n" +
			"RUN pip install git+https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/data/parser.git\n"},
		notes: []string{"config-warning .gitlab-ci.yml:10"}},
	{name: "odd input: malformed Dockerfile and bare build commands",
		script: login + `docker build
docker buildx
/kaniko/executor
buildah bud -f
docker build -f - .
docker build .`,
		files: map[string]string{"Dockerfile": "FROM\nFROM \\\nARG =\nCOPY --from= /a /b\nFROM ${\nFROM $\nRUN <<EOF\n"}},
}

func TestDockerfileDetector(t *testing.T) { runTable(t, "dockerfile", dockerfileCases) }
