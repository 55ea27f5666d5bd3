package detect_test

import "testing"

// Lines: image: is at .gitlab-ci.yml:2, services: at 3, 4, ...; the script
// starts at 10.
var registryCases = []jobCase{
	{name: "P12 image: from another project's registry path",
		image: "$CI_REGISTRY/platform/ci-images/builder:1.4",
		uses:  []string{"container-read image=platform/ci-images/builder .gitlab-ci.yml:2"}},
	{name: "P12 image through a job variable, services with a literal host and port",
		vars:    map[string]string{"BASE_IMAGE": "${CI_REGISTRY}/platform/base-images/node:22"},
		image:   "$BASE_IMAGE",
		service: []string{"docker:27-dind", "registry.example.org:443/lib/test-utils/runner:latest"},
		uses:    []string{"container-read image=platform/base-images/node .gitlab-ci.yml:2", "container-read image=lib/test-utils/runner .gitlab-ci.yml:4"}},
	{name: "P12 own registry image (the graph makes it a note)",
		image: "$CI_REGISTRY_IMAGE/ci:latest",
		uses:  []string{"container-read image=apps/web/ci .gitlab-ci.yml:2"}},
	{name: "P12 Docker Hub and other registries are not GitLab pulls",
		image:   "python:3.12",
		service: []string{"ghcr.io/acme/db:1", "quay.io/x/y"}},
	{name: "P12 CI_REGISTRY unknown to the inventory: unresolved with the reason",
		noRegistry: true,
		image:      "$CI_REGISTRY/platform/ci-images/builder:1.4",
		uses:       []string{"container-read image=platform/ci-images/builder .gitlab-ci.yml:2 (unresolved)"}},
	{name: "P12 image from a project variable: unresolved, the runner would pull it with the job token",
		image: "$BUILD_IMAGE",
		uses:  []string{"container-read image=${BUILD_IMAGE} .gitlab-ci.yml:2 (unresolved)"}},
	{name: "P14 buildah from pulls; buildah run and commit work on the container it made (freedesktop ci-templates)",
		script: `buildah login -u gitlab-ci-token -p $CI_JOB_TOKEN $CI_REGISTRY
ctr=$(buildah from $CI_REGISTRY/platform/ci-images/fedora:40)
buildah run $ctr -- dnf install -y git
buildah run --isolation chroot "$ctr" sh -c 'make install'
buildah commit $ctr $CI_REGISTRY_IMAGE/fedora:latest
buildah push $CI_REGISTRY_IMAGE/fedora:latest`,
		uses: []string{"container-read image=platform/ci-images/fedora .gitlab-ci.yml:11", "container-write image=apps/web/fedora .gitlab-ci.yml:15"}},
	{name: "P14 commands on a container (exec, start, commit, cp, containerd's ctr run of a local image) pull nothing",
		script: `docker login -u gitlab-ci-token -p $CI_JOB_TOKEN $CI_REGISTRY
ctr_id=$(docker create $CI_REGISTRY/platform/tools/db:2)
docker start $ctr_id
docker exec $ctr_id pg_isready
podman container exec -it $ctr_id sh
docker commit $ctr_id local/db-snapshot
docker cp $ctr_id:/dump.sql .
ctr run --rm docker.io/library/alpine:3 t1 true`,
		uses: []string{"container-read image=platform/tools/db .gitlab-ci.yml:11"}},
	{name: "P14 podman run and docker run still pull their image",
		script: `docker login -u gitlab-ci-token -p $CI_JOB_TOKEN $CI_REGISTRY
podman run --rm $CI_REGISTRY/platform/tools/lint:1 lint
docker run -d --name db $CI_REGISTRY/platform/tools/db:2`,
		uses: []string{"container-read image=platform/tools/lint .gitlab-ci.yml:11", "container-read image=platform/tools/db .gitlab-ci.yml:12"}},
	{name: "P14 unknown image pulled after a job-token login is unresolved; without a login nothing",
		script: `docker pull $TOOLS_IMAGE
docker login -u gitlab-ci-token -p $CI_JOB_TOKEN $CI_REGISTRY
docker pull $TOOLS_IMAGE`,
		uses: []string{"container-read image=${TOOLS_IMAGE} .gitlab-ci.yml:12 (unresolved)"}},
	{name: "P15 trap: DOCKER_AUTH_CONFIG with a deploy token overrides the job payload",
		vars:  map[string]string{"DOCKER_AUTH_CONFIG": `{"auths":{"registry.example.org":{"auth":"ZGVwbG95ZXI6Z2xkdC1zZWNyZXQ="}}}`},
		image: "registry.example.org/platform/ci-images/builder:1.4",
		notes: []string{"not-a-job-token-edge .gitlab-ci.yml:2 ~ DOCKER_AUTH_CONFIG"}},
	{name: "P15 DOCKER_AUTH_CONFIG with the job token is still a job-token pull",
		vars:  map[string]string{"DOCKER_AUTH_CONFIG": `{"auths":{"$CI_REGISTRY":{"username":"$CI_REGISTRY_USER","password":"$CI_JOB_TOKEN"}}}`},
		image: "registry.example.org/platform/ci-images/builder:1.4",
		uses:  []string{"container-read image=platform/ci-images/builder .gitlab-ci.yml:2"}},
	{name: "P16 dependency proxy of the job's own group",
		image: "${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/python:3.12",
		notes: []string{"own-project .gitlab-ci.yml:2 ~ apps"}},
	{name: "P16 dependency proxy of another group: group-scoped",
		image: "git.example.org:443/infra/dependency_proxy/containers/debian:stable",
		uses:  []string{"container-read group=infra .gitlab-ci.yml:2 (unresolved)"}},
	{name: "P14 login with --password-stdin, then pull another project's image",
		script: `echo "$CI_REGISTRY_PASSWORD" | docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"
docker pull $CI_REGISTRY/platform/cache-images/node:20
docker pull node:20`,
		uses: []string{"container-read image=platform/cache-images/node .gitlab-ci.yml:11"}},
	{name: "P14 login -u gitlab-ci-token -p $CI_JOB_TOKEN, then docker run",
		script: `docker login -u gitlab-ci-token -p $CI_JOB_TOKEN registry.example.org
docker run --rm -e FOO=1 registry.example.org/qa/e2e-runner:3 run-tests`,
		uses: []string{"container-read image=qa/e2e-runner .gitlab-ci.yml:11"}},
	{name: "P14 docker run with a stuck -p value and a -dit cluster keeps the image as the operand",
		script: `docker login -u gitlab-ci-token -p $CI_JOB_TOKEN $CI_REGISTRY
docker run -dit -e=MODE=ci -p8080:80 registry.example.org/qa/e2e-runner:3 run-tests`,
		uses: []string{"container-read image=qa/e2e-runner .gitlab-ci.yml:11"}},
	{name: "P14 here-string to podman login, podman pull",
		script: `podman login -u gitlab-ci-token --password-stdin registry.example.org <<< "$CI_JOB_TOKEN"
podman pull registry.example.org/platform/tools:1`,
		uses: []string{"container-read image=platform/tools .gitlab-ci.yml:11"}},
	{name: "P14 trap: single-quoted registry password",
		script: `docker login -u "$CI_REGISTRY_USER" -p '$CI_REGISTRY_PASSWORD' "$CI_REGISTRY"
docker pull $CI_REGISTRY/platform/cache-images/node:20`,
		notes: []string{"will-not-work .gitlab-ci.yml:10 ~ literally"}},
	{name: "P14 trap: pull without any login sends no token",
		script: `docker pull $CI_REGISTRY/platform/cache-images/node:20`},
	{name: "P14 trap: login without a server goes to Docker Hub",
		script: `echo "$CI_JOB_TOKEN" | docker login -u gitlab-ci-token --password-stdin`,
		notes:  []string{"other-host .gitlab-ci.yml:10 ~ Docker Hub"}},
	{name: "P14 trap: deploy-token login, then a pull of another project",
		script: `docker login -u "$REGISTRY_DEPLOY_USER" -p "$REGISTRY_DEPLOY_TOKEN" $CI_REGISTRY
docker pull $CI_REGISTRY/platform/cache-images/node:20`,
		notes: []string{"not-a-job-token-edge .gitlab-ci.yml:11"}},
	{name: "push to another project is never allowed; push to the own image is fine",
		script: `docker login -u $CI_REGISTRY_USER -p $CI_REGISTRY_PASSWORD $CI_REGISTRY
docker push $CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA
docker push $CI_REGISTRY/platform/shared-images/web:latest`,
		uses:  []string{"container-write image=apps/web .gitlab-ci.yml:11", "container-write image=platform/shared-images/web .gitlab-ci.yml:12"},
		notes: []string{"will-not-work .gitlab-ci.yml:12 ~ never"}},
	{name: "logout drops the credentials",
		script: `docker login -u $CI_REGISTRY_USER -p $CI_REGISTRY_PASSWORD $CI_REGISTRY
docker logout $CI_REGISTRY
docker pull $CI_REGISTRY/platform/cache-images/node:20`},
	{name: "skopeo copy with inline --src-creds",
		script: `skopeo copy --src-creds "gitlab-ci-token:${CI_JOB_TOKEN}" docker://registry.example.org/platform/base:1 docker://ghcr.io/acme/base:1`,
		uses:   []string{"container-read image=platform/base .gitlab-ci.yml:10"}},
	{name: "crane auth login, then copy between projects",
		script: `crane auth login registry.example.org -u gitlab-ci-token -p "$CI_JOB_TOKEN"
crane copy registry.example.org/platform/base:1 registry.example.org/platform/mirror/base:1`,
		uses:  []string{"container-read image=platform/base .gitlab-ci.yml:11", "container-write image=platform/mirror/base .gitlab-ci.yml:11"},
		notes: []string{"will-not-work .gitlab-ci.yml:11"}},
	{name: "P15 config.json written with a computed auth, then crane pull",
		script: `mkdir -p ~/.docker
echo "{\"auths\":{\"${CI_REGISTRY}\":{\"auth\":\"$(printf "%s:%s" "${CI_REGISTRY_USER}" "${CI_REGISTRY_PASSWORD}" | base64 | tr -d '\n')\"}}}" > ~/.docker/config.json
crane pull registry.example.org/platform/base:1 base.tar`,
		uses: []string{"container-read image=platform/base .gitlab-ci.yml:12"}},
	{name: "P15 trap: unescaped quotes break the JSON",
		script: `echo "{"auths":{"$CI_REGISTRY":{"username":"$CI_REGISTRY_USER","password":"$CI_JOB_TOKEN"}}}" > ~/.docker/config.json
crane pull registry.example.org/platform/base:1 base.tar`,
		notes: []string{"will-not-work .gitlab-ci.yml:10 ~ not valid JSON"}},
	{name: "P15 trap: quoted here-document keeps the variable names",
		script: "cat > ~/.docker/config.json <<'JSON'\n{\"auths\":{\"registry.example.org\":{\"username\":\"gitlab-ci-token\",\"password\":\"${CI_JOB_TOKEN}\"}}}\nJSON\n" +
			"crane pull registry.example.org/platform/base:1 base.tar",
		notes: []string{"will-not-work .gitlab-ci.yml:10 ~ literally"}},
	{name: "P16 dependency proxy login, then a pull from another group's proxy",
		script: `docker login -u $CI_DEPENDENCY_PROXY_USER -p $CI_DEPENDENCY_PROXY_PASSWORD $CI_DEPENDENCY_PROXY_SERVER
docker pull git.example.org/infra/dependency_proxy/containers/alpine:3.20
docker pull ${CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX}/alpine:3.20`,
		uses:  []string{"container-read group=infra .gitlab-ci.yml:11 (unresolved)"},
		notes: []string{"own-project .gitlab-ci.yml:12"}},
	{name: "P39 job token passed into a container",
		script: `docker run -e CI_JOB_TOKEN=$CI_JOB_TOKEN alpine/git sh -c 'git clone ...'`,
		notes:  []string{"not-fetched .gitlab-ci.yml:10 ~ CI_JOB_TOKEN"}},
	{name: "odd input: bare registry commands do not panic",
		script: `docker login
docker pull
docker run
skopeo copy
crane auth
crane pull x
oras
podman push
docker manifest
docker buildx imagetools create`},
}

func TestRegistryDetector(t *testing.T) { runTable(t, "registry", registryCases) }
