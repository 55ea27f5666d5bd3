package detect_test

import "testing"

// gitmodules is the .gitmodules of apps/web in most rows (P07): a relative
// URL to another group, a same-host https URL, an SSH URL and a GitHub
// theme (the usual static-site case).
const gitmodules = `[submodule "protos"]
	path = protos
	url = ../../libs/shared-protos.git
[submodule "ui-kit"]
	path = vendor/ui-kit
	url = https://git.example.org/design/ui-kit.git
[submodule "legacy"]
	path = vendor/legacy
	url = git@git.example.org:platform/legacy.git
[submodule "theme"]
	path = themes/hugo-theme
	url = https://github.com/theNewDynamic/hugo-theme.git
`

var submoduleCases = []jobCase{
	{name: "P07 recursive: relative, same-host https, ssh without FORCE_HTTPS, other host",
		vars:  map[string]string{"GIT_SUBMODULE_STRATEGY": "recursive"},
		files: map[string]string{".gitmodules": gitmodules},
		uses:  []string{"repository-read path=libs/shared-protos .gitmodules:3", "repository-read path=design/ui-kit .gitmodules:6"},
		notes: []string{"not-a-job-token-edge .gitmodules:9 ~ GIT_SUBMODULE_FORCE_HTTPS", "other-host .gitmodules:12 ~ github.com"}},
	{name: "P07 GIT_SUBMODULE_FORCE_HTTPS makes the SSH URL a job-token fetch",
		vars:  map[string]string{"GIT_SUBMODULE_STRATEGY": "normal", "GIT_SUBMODULE_FORCE_HTTPS": "true"},
		files: map[string]string{".gitmodules": gitmodules},
		uses: []string{"repository-read path=libs/shared-protos .gitmodules:3", "repository-read path=design/ui-kit .gitmodules:6",
			"repository-read path=platform/legacy .gitmodules:9"},
		notes: []string{"other-host .gitmodules:12"}},
	{name: "P07 default strategy (none): the runner fetches no submodule",
		files: map[string]string{".gitmodules": gitmodules}},
	{name: "P07 GIT_STRATEGY none: no checkout, no submodules",
		vars:  map[string]string{"GIT_SUBMODULE_STRATEGY": "recursive", "GIT_STRATEGY": "none"},
		files: map[string]string{".gitmodules": gitmodules}},
	{name: "P07 GIT_STRATEGY empty: no checkout either",
		vars:  map[string]string{"GIT_SUBMODULE_STRATEGY": "normal", "GIT_STRATEGY": "empty"},
		files: map[string]string{".gitmodules": gitmodules}},
	{name: "P07 GIT_SUBMODULE_PATHS narrows the set",
		vars:  map[string]string{"GIT_SUBMODULE_STRATEGY": "recursive", "GIT_SUBMODULE_PATHS": "protos :(exclude)themes"},
		files: map[string]string{".gitmodules": gitmodules},
		uses:  []string{"repository-read path=libs/shared-protos .gitmodules:3"}},
	{name: "P07 each ../ drops one segment of the caller's path",
		caller: "grp/sub/proj",
		vars:   map[string]string{"GIT_SUBMODULE_STRATEGY": "normal"},
		files: map[string]string{".gitmodules": "[submodule \"a\"]\n\tpath = a\n\turl = ../x.git\n" +
			"[submodule \"b\"]\n\tpath = b\n\turl = ../../x.git\n[submodule \"c\"]\n\tpath = c\n\turl = ../../../../x.git\n"},
		uses:  []string{"repository-read path=grp/sub/x .gitmodules:3", "repository-read path=grp/x .gitmodules:6"},
		notes: []string{"config-warning .gitmodules:9 ~ climbs above"}},
	{name: "P07 recursive follows the submodule's own .gitmodules (evidence in that project)",
		vars: map[string]string{"GIT_SUBMODULE_STRATEGY": "recursive"},
		files: map[string]string{".gitmodules": "[submodule \"protos\"]\n\tpath = protos\n\turl = ../../libs/shared-protos.git\n",
			"libs/shared-protos:.gitmodules": "[submodule \"common\"]\n\tpath = common\n\turl = ../common-protos.git\n"},
		uses: []string{"repository-read path=libs/shared-protos .gitmodules:3", "repository-read path=libs/common-protos libs/shared-protos/.gitmodules:3"}},
	{name: "P07 normal does not recurse",
		vars: map[string]string{"GIT_SUBMODULE_STRATEGY": "normal"},
		files: map[string]string{".gitmodules": "[submodule \"protos\"]\n\tpath = protos\n\turl = ../../libs/shared-protos.git\n",
			"libs/shared-protos:.gitmodules": "[submodule \"common\"]\n\tpath = common\n\turl = ../common-protos.git\n"},
		uses: []string{"repository-read path=libs/shared-protos .gitmodules:3"}},
	{name: "P07 http submodule URL on an https server gets no token",
		vars:  map[string]string{"GIT_SUBMODULE_STRATEGY": "normal"},
		files: map[string]string{".gitmodules": "[submodule \"a\"]\n\tpath = a\n\turl = http://git.example.org/grp/a.git\n"}},
	{name: "P08 manual update: relative URLs inherit the token of the checkout's origin",
		vars: map[string]string{"GIT_SUBMODULE_STRATEGY": "none"},
		script: `git submodule sync --recursive
git submodule update --init --recursive`,
		files: map[string]string{".gitmodules": gitmodules},
		uses:  []string{"repository-read path=libs/shared-protos .gitlab-ci.yml:11"}},
	{name: "P08 manual update after sed ssh->https and ~/.netrc: absolute URLs carry the token",
		script: `echo "machine git.example.org login gitlab-ci-token password ${CI_JOB_TOKEN}" > ~/.netrc
git submodule update --init vendor/ui-kit`,
		files: map[string]string{".gitmodules": gitmodules},
		uses:  []string{"repository-read path=design/ui-kit .gitlab-ci.yml:11"}},
	{name: "P08 manual update with an insteadOf rule for git@ URLs",
		script: `git config --global url."https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/".insteadOf "git@git.example.org:"
git submodule update --init`,
		files: map[string]string{".gitmodules": gitmodules},
		uses:  []string{"repository-read path=libs/shared-protos .gitlab-ci.yml:11", "repository-read path=platform/legacy .gitlab-ci.yml:11"}},
	{name: "P08 manual update in a cloned project uses that project's .gitmodules",
		script: `git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/platform/firmware.git fw
cd fw && git submodule update --init`,
		files: map[string]string{"platform/firmware:.gitmodules": "[submodule \"hal\"]\n\tpath = hal\n\turl = ../hal.git\n"},
		uses:  []string{"repository-read path=platform/hal .gitlab-ci.yml:11"}},
	{name: "odd input: malformed .gitmodules",
		vars:  map[string]string{"GIT_SUBMODULE_STRATEGY": "recursive"},
		files: map[string]string{".gitmodules": "[submodule\nurl\n= =\n[submodule \"x\"]\nurl =\n[submodule \"y\"]\n url = ../\n"},
		notes: []string{}},
}

func TestSubmoduleDetector(t *testing.T) { runTable(t, "submodule", submoduleCases) }
