package detect_test

import (
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
)

const (
	npmProj     = "https://git.example.org/api/v4/projects/31337/packages/npm/"
	npmProjAuth = "//git.example.org/api/v4/projects/31337/packages/npm/:_authToken="
)

func TestNPMDetectorCommittedFiles(t *testing.T) {
	rows := []row{
		{name: "P20 committed project-level .npmrc with a ${CI_JOB_TOKEN} placeholder",
			files: map[string]string{".npmrc": "@acme:registry=" + npmProj + "\n" + npmProjAuth + "${CI_JOB_TOKEN}\n"},
			uses:  []string{".npmrc:2 packages-read id:31337"}},
		{name: "P20 instance-level endpoint names only the scope",
			files: map[string]string{".npmrc": "# registry for our scope\n@acme:registry=https://git.example.org/api/v4/packages/npm/\n//git.example.org/api/v4/packages/npm/:_authToken=${CI_JOB_TOKEN}\n"},
			uses:  []string{".npmrc:3 packages-read instance:npm packages of scope @acme"}},
		{name: "P20 group-level endpoint",
			files: map[string]string{".npmrc": "@acme:registry=https://git.example.org/api/v4/groups/77/-/packages/npm/\n//git.example.org/api/v4/groups/77/-/packages/npm/:_authToken=${CI_JOB_TOKEN}\n"},
			uses:  []string{".npmrc:2 packages-read group:77"}},
		{name: "P20 host-wide credential: the registry line names the project",
			files: map[string]string{".npmrc": "//git.example.org/:_authToken=${CI_JOB_TOKEN}\n@acme:registry=https://git.example.org/api/v4/projects/202/packages/npm/\n@other:registry=https://registry.npmjs.org/\n"},
			uses:  []string{".npmrc:2 packages-read id:202"}},
		{name: "P20 $CI_JOB_TOKEN without braces is not expanded by npm",
			files:   map[string]string{".npmrc": npmProjAuth + "$CI_JOB_TOKEN\n"},
			notes:   []string{".npmrc:1 will-not-work"},
			noteHas: "expands only ${VAR}"},
		{name: "P20 token from a variable the YAML does not set: no use at repository level",
			files: map[string]string{".npmrc": npmProjAuth + "${NPM_TOKEN}\n"}},
		{name: "§3.3 wrong host: job token configured for another registry host",
			files:   map[string]string{".npmrc": "//npm.pkg.github.com/:_authToken=${CI_JOB_TOKEN}\n"},
			notes:   []string{".npmrc:1 other-host"},
			noteHas: "npm.pkg.github.com"},
		{name: "P20 yarn berry npmScopes with npmAuthToken",
			files: map[string]string{".yarnrc.yml": "nodeLinker: node-modules\nnpmScopes:\n  acme:\n    npmRegistryServer: \"" + npmProj + "\"\n    npmAuthToken: \"${CI_JOB_TOKEN}\"\n"},
			uses:  []string{".yarnrc.yml:5 packages-read id:31337"}},
		{name: "hostile input: malformed .yarnrc.yml is ignored without panic",
			files: map[string]string{".yarnrc.yml": "npmScopes: [\n  :::\n", ".npmrc": "=\n==\n//\n"}},
	}
	for i := range rows {
		rows[i].repo = true
	}
	runRows(t, "npm", rows)
}

func TestNPMDetectorJobs(t *testing.T) {
	pkgOwn := `{"name":"@acme/widget","publishConfig":{"@acme:registry":"https://git.example.org/api/v4/projects/100/packages/npm/"}}`
	runRows(t, "npm", []row{
		{name: "P20 echo of the auth line into .npmrc, then npm ci",
			script: "echo \"//git.example.org/api/v4/projects/31337/packages/npm/:_authToken=${CI_JOB_TOKEN}\" >> .npmrc\nnpm ci",
			uses:   []string{".gitlab-ci.yml:1 packages-read id:31337 @job"}},
		{name: "P20 trap: single-quoted echo writes ${CI_JOB_TOKEN} literally and npm expands it",
			script: "echo '//${CI_SERVER_HOST}/api/v4/projects/31337/packages/npm/:_authToken=${CI_JOB_TOKEN}' >> ~/.npmrc\nnpm install",
			uses:   []string{".gitlab-ci.yml:1 packages-read id:31337 @job"}},
		{name: "P20 single-quoted $CI_JOB_TOKEN without braces is sent literally",
			script:  "echo '//git.example.org/api/v4/projects/31337/packages/npm/:_authToken=$CI_JOB_TOKEN' > .npmrc\nnpm ci",
			notes:   []string{".gitlab-ci.yml:1 will-not-work"},
			noteHas: "expands only"},
		{name: "P20 heredoc writes scope registry and auth",
			script: "cat > .npmrc <<EOF\n@acme:registry=https://${CI_SERVER_HOST}/api/v4/projects/31337/packages/npm/\n//${CI_SERVER_HOST}/api/v4/projects/31337/packages/npm/:_authToken=${CI_JOB_TOKEN}\nEOF\nnpm ci",
			uses:   []string{".gitlab-ci.yml:1 packages-read id:31337 @job"}},
		{name: "P20 npm config set",
			script: "npm config set -- //git.example.org/api/v4/projects/31337/packages/npm/:_authToken \"${CI_JOB_TOKEN}\"\nnpm ci",
			uses:   []string{".gitlab-ci.yml:1 packages-read id:31337 @job"}},
		{name: "P20 instance-level written in a job, scope bound on the previous line",
			script: "echo \"@acme:registry=https://${CI_SERVER_HOST}/api/v4/packages/npm/\" >> .npmrc\necho \"//${CI_SERVER_HOST}/api/v4/packages/npm/:_authToken=${CI_JOB_TOKEN}\" >> .npmrc\nnpm ci",
			uses:   []string{".gitlab-ci.yml:2 packages-read instance:npm packages of scope @acme @job"}},
		{name: "P20 own publish: only packages-write, at npm publish",
			script: "echo \"//${CI_SERVER_HOST}/api/v4/projects/${CI_PROJECT_ID}/packages/npm/:_authToken=${CI_JOB_TOKEN}\" > .npmrc\nnpm publish",
			files:  map[string]string{"package.json": pkgOwn},
			uses:   []string{".gitlab-ci.yml:2 packages-write id:100 @job"}},
		{name: "P20 cross-project publish with --registry",
			script: "echo \"//git.example.org/api/v4/projects/202/packages/npm/:_authToken=${CI_JOB_TOKEN}\" > .npmrc\nnpm publish --registry https://git.example.org/api/v4/projects/202/packages/npm/",
			uses:   []string{".gitlab-ci.yml:2 packages-write id:202 @job"}},
		{name: "P20 publish to the instance-level endpoint will not work",
			script:  "echo \"@acme:registry=https://git.example.org/api/v4/packages/npm/\" > .npmrc\necho \"//git.example.org/api/v4/packages/npm/:_authToken=${CI_JOB_TOKEN}\" >> .npmrc\nnpm publish",
			files:   map[string]string{"package.json": `{"name":"@acme/widget"}`},
			notes:   []string{".gitlab-ci.yml:3 will-not-work"},
			noteHas: "instance-level"},
		{name: "P20 committed .npmrc with ${NPM_TOKEN} set to the job token by the job",
			vars:   []ciconfig.Variable{v("NPM_TOKEN", "$CI_JOB_TOKEN", 3)},
			files:  map[string]string{".npmrc": "@acme:registry=" + npmProj + "\n" + npmProjAuth + "${NPM_TOKEN}\n"},
			script: "npm ci",
			uses:   []string{".npmrc:2 packages-read id:31337 @job"}},
		{name: "P20 committed .npmrc with ${CI_JOB_TOKEN}: reported once, by the repository pass",
			files:  map[string]string{".npmrc": npmProjAuth + "${CI_JOB_TOKEN}\n"},
			script: "npm ci"},
		{name: "P20 committed .gitlab/.npmrc copied to the root: evidence in the committed file",
			files:  map[string]string{".gitlab/.npmrc": "@acme:registry=" + npmProj + "\n" + npmProjAuth + "${CI_JOB_TOKEN}\n"},
			script: "cp .gitlab/.npmrc .npmrc\nnpm ci",
			uses:   []string{".gitlab/.npmrc:2 packages-read id:31337 @job"}},
		{name: "P20 yarn config set for a scope",
			script: "yarn config set npmScopes.acme.npmRegistryServer \"" + npmProj + "\"\nyarn config set npmScopes.acme.npmAuthToken \"$CI_JOB_TOKEN\"\nyarn install",
			uses:   []string{".gitlab-ci.yml:2 packages-read id:31337 @job"}},
		{name: "P20 a job without npm commands or npm config does nothing",
			files:  map[string]string{".npmrc": npmProjAuth + "${NPM_TOKEN}\n"},
			vars:   []ciconfig.Variable{v("NPM_TOKEN", "$CI_JOB_TOKEN", 3)},
			script: "make test"},
	})
}
