package detect_test

import (
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
)

// Cases that need the shell layer's control flow: loops, defaults,
// branches, script files, quoted here-documents, bash -c.
func TestDetectorsThroughShellControlFlow(t *testing.T) {
	runRows(t, "", []row{
		{name: "P32 fan-out for loop over downstream project IDs",
			det:    "api",
			script: "for id in 11 12; do\n  curl -sS -X POST -F token=$CI_JOB_TOKEN -F ref=main \"$CI_API_V4_URL/projects/$id/trigger/pipeline\"\ndone",
			uses:   []string{".gitlab-ci.yml:2 pipeline-trigger id:11 @job", ".gitlab-ci.yml:2 pipeline-trigger id:12 @job"}},
		{name: "P27 fallback chain: token and header name from variables, project ID defaulting to the own project",
			det: "api",
			script: "[[ -n \"$AUTH_TOKEN\" ]] || AUTH_TOKEN=${CI_JOB_TOKEN}\nAUTH_TYPE=JOB-TOKEN\nPROJECT_ID=${PROJECT_ID:-$CI_PROJECT_ID}\n" +
				"curl --fail --header \"${AUTH_TYPE}: ${AUTH_TOKEN}\" -o r.tgz \"${CI_API_V4_URL}/projects/${PROJECT_ID}/packages/generic/release/1.0/r.tgz\"",
			uses: []string{".gitlab-ci.yml:4 packages-read id:100 @job"}},
		{name: "P27 the same chain with PROJECT_ID overridden is cross-project",
			det:  "api",
			vars: []ciconfig.Variable{v("PROJECT_ID", "55", 9)},
			script: "[[ -n \"$AUTH_TOKEN\" ]] || AUTH_TOKEN=${CI_JOB_TOKEN}\nPROJECT_ID=${PROJECT_ID:-$CI_PROJECT_ID}\n" +
				"curl --fail --header \"JOB-TOKEN: ${AUTH_TOKEN}\" -o r.tgz \"${CI_API_V4_URL}/projects/${PROJECT_ID}/packages/generic/release/1.0/r.tgz\"",
			uses: []string{".gitlab-ci.yml:3 packages-read id:55 @job"}},
		{name: "§2.6 if job token else PAT: the job-token branch is a use, the PAT branch a note",
			det:    "api",
			script: "if [ -n \"$CI_JOB_TOKEN\" ]; then\n  curl -H \"JOB-TOKEN: $CI_JOB_TOKEN\" -O \"$CI_API_V4_URL/projects/55/jobs/artifacts/main/download?job=b\"\nelse\n  curl -H \"PRIVATE-TOKEN: $PAT\" -O \"$CI_API_V4_URL/projects/55/jobs/artifacts/main/download?job=b\"\nfi",
			uses:   []string{".gitlab-ci.yml:2 artifacts-read id:55 @job"}},
		{name: "§2.6 the PAT branch is noted by the tokens detector",
			det:     "tokens",
			script:  "if [ -n \"$CI_JOB_TOKEN\" ]; then\n  curl -H \"JOB-TOKEN: $CI_JOB_TOKEN\" -O \"$CI_API_V4_URL/projects/55/jobs/artifacts/main/download?job=b\"\nelse\n  curl -H \"PRIVATE-TOKEN: $PAT\" -O \"$CI_API_V4_URL/projects/55/jobs/artifacts/main/download?job=b\"\nfi",
			notes:   []string{".gitlab-ci.yml:4 not-a-job-token-edge"},
			noteHas: "PRIVATE-TOKEN"},
		{name: "§2.7 script file run by the job: evidence in the script file (Cosmian download_wasm.sh)",
			det:    "api",
			script: "./download_wasm.sh",
			files: map[string]string{"download_wasm.sh": "#!/bin/sh\nset -e\ndownload() {\n  curl -L -o \"$2.zip\" -H \"JOB-TOKEN: $CI_JOB_TOKEN\" \"${CI_API_V4_URL}/projects/$1/jobs/artifacts/v1.0/download?job=build_wasm\"\n}\n" +
				"download core%2Ffindex findex\ndownload core%2Fcover_crypt cc\n"},
			uses: []string{"download_wasm.sh:4 artifacts-read path:core/findex @job", "download_wasm.sh:4 artifacts-read path:core/cover_crypt @job"}},
		{name: "§2.4 bash -c with the command in a string",
			det:    "api",
			script: `bash -c "curl -H 'JOB-TOKEN: $CI_JOB_TOKEN' $CI_API_V4_URL/projects/55/packages/generic/a/1/a"`,
			uses:   []string{".gitlab-ci.yml:1 packages-read id:55 @job"}},
		{name: "P20 quoted here-document keeps ${CI_JOB_TOKEN} literal; npm expands it",
			det:    "npm",
			script: "cat <<'EOF' > .npmrc\n//git.example.org/api/v4/projects/31337/packages/npm/:_authToken=${CI_JOB_TOKEN}\nEOF\nnpm ci",
			uses:   []string{".gitlab-ci.yml:1 packages-read id:31337 @job"}},
		{name: "P20 quoted here-document with $CI_JOB_TOKEN (no braces) is sent literally",
			det:     "npm",
			script:  "cat <<'EOF' > .npmrc\n//git.example.org/api/v4/projects/31337/packages/npm/:_authToken=$CI_JOB_TOKEN\nEOF\nnpm ci",
			notes:   []string{".gitlab-ci.yml:1 will-not-work"},
			noteHas: "expands only"},
		{name: "P17 default-if-unset registry project",
			det:    "pip",
			script: "[ -z \"$REGISTRY_PROJECT_ID\" ] && REGISTRY_PROJECT_ID=20511699\npip install --index-url \"https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/api/v4/projects/${REGISTRY_PROJECT_ID}/packages/pypi/simple\" lib",
			uses:   []string{".gitlab-ci.yml:2 packages-read id:20511699 @job"}},
		{name: "P33 gitlab-terraform inside a function called twice",
			det:    "terraform",
			vars:   []ciconfig.Variable{v("TF_ADDRESS", "${CI_API_V4_URL}/projects/42/terraform/state/prod", 9)},
			script: "tf() { gitlab-terraform \"$@\"; }\ntf init\ntf apply",
			uses:   []string{".gitlab-ci.yml:1 terraform-state-write id:42 @job"}},
	})
}
