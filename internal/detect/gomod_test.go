package detect_test

import "testing"

// Go modules on this GitLab fetched with the job token (P28): go.mod read
// with golang.org/x/mod/modfile, replace directives applied.
func TestGoModManifests(t *testing.T) {
	const netrc = `echo "machine git.example.org login gitlab-ci-token password ${CI_JOB_TOKEN}" > ~/.netrc` + "\n"
	runTable(t, "git", []jobCase{
		{name: "P28 replace to a fork on this GitLab: the fork is fetched, at the replace line",
			vars:   map[string]string{"GOPRIVATE": "git.example.org"},
			script: netrc + "go build ./...",
			files: map[string]string{"go.mod": "module git.example.org/apps/web\n\ngo 1.22\n\nrequire (\n\tgit.example.org/platform/gokit v1.2.0\n\tgithub.com/pkg/errors v0.9.1\n)\n\n" +
				"replace git.example.org/platform/gokit => git.example.org/forks/gokit v1.2.1-fix\n"},
			uses: []string{"repository-read path=forks/gokit go.mod:10"}},
		{name: "P28 replace with a local folder fetches nothing",
			vars:   map[string]string{"GOPRIVATE": "git.example.org"},
			script: netrc + "go test ./...",
			files:  map[string]string{"go.mod": "module x\n\nrequire git.example.org/platform/gokit v1.2.0\n\nreplace git.example.org/platform/gokit => ../gokit\n"}},
		{name: "P28 insteadOf carrying the job token, GOPRIVATE glob, a toolchain directive modfile knows",
			vars: map[string]string{"GOPRIVATE": "git.example.org/platform/*"},
			script: `git config --global url."https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org".insteadOf "https://git.example.org"
go mod download`,
			files: map[string]string{"go.mod": "module x\n\ngo 1.23.0\n\ntoolchain go1.23.4\n\nrequire git.example.org/platform/auth/v3 v3.1.0 // indirect\n"},
			uses:  []string{"repository-read path=platform/auth go.mod:7"}},
		{name: "P28 a module in a subfolder of a project in the snapshot maps to that project",
			vars:   map[string]string{"GOPRIVATE": "git.example.org"},
			script: netrc + "go vet ./...",
			files: map[string]string{"go.mod": "module x\n\nrequire git.example.org/platform/tools/lint/v2 v2.0.3\n",
				"platform/tools:go.mod": "module git.example.org/platform/tools\n"},
			uses: []string{"repository-read path=platform/tools go.mod:3"}},
		{name: "hostile: a go.mod that does not parse yields nothing",
			vars:   map[string]string{"GOPRIVATE": "git.example.org"},
			script: netrc + "go mod download",
			files:  map[string]string{"go.mod": "module x\nrequire (\n\tgit.example.org/platform/gokit\n"}},
	})
}
