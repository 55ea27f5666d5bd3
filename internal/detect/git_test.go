package detect_test

import "testing"

// Rows cite the usage pattern (docs/patterns.md) or trap (docs/patterns.md §3) they come
// from. Lines: the script starts at .gitlab-ci.yml:10.
var gitCases = []jobCase{
	{name: "P01 literal host and path, --depth",
		script: `git clone --depth 1 https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/acme/tools/helpers.git`,
		uses:   []string{"repository-read path=acme/tools/helpers .gitlab-ci.yml:10 ~ git clone --depth 1 https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/acme/tools/helpers.git"}},
	{name: "P01 $CI_JOB_TOKEN without braces and git -c credential.helper=",
		script: `git -c credential.helper= clone https://gitlab-ci-token:$CI_JOB_TOKEN@git.example.org/acme/tools/helpers lib`,
		uses:   []string{"repository-read path=acme/tools/helpers .gitlab-ci.yml:10"}},
	{name: "P01 a launcher the shell layer leaves in place (retry) is unwrapped",
		script: `retry 3 git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/acme/tools/helpers.git`,
		uses:   []string{"repository-read path=acme/tools/helpers .gitlab-ci.yml:10"}},
	{name: "P01 prefix built in a shell variable",
		script: `prefix="https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org"
git clone ${prefix}/cadi/higgs-tools.git`,
		uses: []string{"repository-read path=cadi/higgs-tools .gitlab-ci.yml:11"}},
	{name: "P01 prefix only when ${CI_JOB_TOKEN+x} is set",
		script: `if [ -n "${CI_JOB_TOKEN+x}" ]; then prefix="https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org"; else prefix="https://git.example.org"; fi
git clone ${prefix}/cadi/tools.git`,
		uses: []string{"repository-read path=cadi/tools .gitlab-ci.yml:11"}},
	{name: "P01 clone in a script file the job runs, with a positional argument",
		script: `./ci/clone.sh platform`,
		files:  map[string]string{"ci/clone.sh": "#!/bin/sh\nset -e\ngit clone \"https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/$1/tools.git\"\n"},
		uses:   []string{"repository-read path=platform/tools ci/clone.sh:3"}},
	{name: "P01 clone inside bash -c",
		script: `bash -c 'git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/acme/lib.git'`,
		uses:   []string{"repository-read path=acme/lib .gitlab-ci.yml:10"}},
	{name: "P01 http to an IP host is another host",
		script: `git clone http://gitlab-ci-token:${CI_JOB_TOKEN}@10.0.0.5/team/licenses.git`,
		notes:  []string{"other-host .gitlab-ci.yml:10 ~ 10.0.0.5"}},
	{name: "P02 server host plus group variable",
		vars:   map[string]string{"TOOLS_GROUP": "platform"},
		script: `git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/${TOOLS_GROUP}/build-scripts.git" /tmp/bs`,
		uses:   []string{"repository-read path=platform/build-scripts .gitlab-ci.yml:10"}},
	{name: "P02 loop over services",
		vars: map[string]string{"SERVICES_GROUP": "services"},
		script: `for svc in billing mailer; do
  git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/${SERVICES_GROUP}/$svc.git"
done`,
		uses: []string{"repository-read path=services/billing .gitlab-ci.yml:11", "repository-read path=services/mailer .gitlab-ci.yml:11"}},
	{name: "P02 clone then remove origin so no token stays on disk",
		script: `git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/platform/ci-utils.git && git -C ci-utils remote remove origin
git -C ci-utils fetch`,
		uses: []string{"repository-read path=platform/ci-utils .gitlab-ci.yml:10"}},
	{name: "P03 sibling in the same namespace",
		script: `git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/${CI_PROJECT_NAMESPACE}/deploy-manifests.git`,
		uses:   []string{"repository-read path=apps/deploy-manifests .gitlab-ci.yml:10"}},
	{name: "P03 default-if-unset manifest URL",
		script: `[[ -z ${MANIFEST_URL:+x} ]] && MANIFEST_URL="https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/${CI_PROJECT_NAMESPACE}/manifest"
git clone "$MANIFEST_URL"`,
		uses: []string{"repository-read path=apps/manifest .gitlab-ci.yml:11"}},
	{name: "P03 trap: namespace/name is the own project (the graph makes it a note)",
		script: `git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/${CI_PROJECT_NAMESPACE}/${CI_PROJECT_NAME}.git self`,
		uses:   []string{"repository-read path=apps/web .gitlab-ci.yml:10"}},
	{name: "P03 GitOps: clone the sibling, commit, push to it",
		script: `git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/${CI_PROJECT_NAMESPACE}/deploy-manifests.git
cd deploy-manifests
git commit -am "bump web"
git push origin HEAD:main`,
		uses: []string{"repository-read path=apps/deploy-manifests .gitlab-ci.yml:10",
			"repository-write path=apps/deploy-manifests .gitlab-ci.yml:13 ~ remote origin cloned at .gitlab-ci.yml:10"},
		notes: []string{"will-not-work .gitlab-ci.yml:13 ~ git push to another project (apps/deploy-manifests)"}},
	{name: "P04 CI_REPOSITORY_URL rewritten to a sibling",
		script: `git clone ${CI_REPOSITORY_URL/web/web-protocol} protocol`,
		uses:   []string{"repository-read path=apps/web-protocol .gitlab-ci.yml:10"}},
	{name: "P04 trap: credential stripped from CI_REPOSITORY_URL",
		script: `git clone ${CI_REPOSITORY_URL/gitlab-ci-token*@/} plain`},
	{name: "P05 host-wide insteadOf for git@ URLs, then a plain clone",
		script: `git config --global url."https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/".insteadOf "git@git.example.org:"
git clone git@git.example.org:cps/commonroad-io.git`,
		uses: []string{"repository-read path=cps/commonroad-io .gitlab-ci.yml:11 ~ insteadOf rule set at .gitlab-ci.yml:10"}},
	{name: "P05 --add form for https URLs",
		script: `git config --global --add url."https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/".insteadOf "https://git.example.org/"
git fetch https://git.example.org/platform/ports.git main`,
		uses: []string{"repository-read path=platform/ports .gitlab-ci.yml:11"}},
	{name: "P05 trap: set then --unset-all in the same job",
		script: `git config --global url."https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/".insteadOf "https://git.example.org/"
git config --global --unset-all url."https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/".insteadOf
git clone https://git.example.org/platform/ports.git`},
	{name: "P05 trap: token sent to github.com by an insteadOf rule",
		script: `git config --global url."https://oauth2:${CI_JOB_TOKEN}@github.com/".insteadOf "https://github.com/"
git clone https://github.com/acme/tool.git`,
		notes: []string{"other-host .gitlab-ci.yml:10 ~ github.com"}},
	{name: "P05 one-shot git -c insteadOf",
		script: `git -c url."https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/".insteadOf=git@git.example.org: clone git@git.example.org:platform/vcpkg-ports.git`,
		uses:   []string{"repository-read path=platform/vcpkg-ports .gitlab-ci.yml:10"}},
	{name: "P05 env-only git config (GIT_CONFIG_COUNT)",
		vars: map[string]string{"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "url.https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/.insteadOf",
			"GIT_CONFIG_VALUE_0": "https://git.example.org/"},
		script: `git clone https://git.example.org/platform/ports.git`,
		uses:   []string{"repository-read path=platform/ports .gitlab-ci.yml:10"}},
	{name: "P05 credential helper handing out the job token",
		script: `git config --global credential.helper '!f() { echo username=gitlab-ci-token; echo "password=$CI_JOB_TOKEN"; }; f'
git clone https://git.example.org/platform/ports.git`,
		uses: []string{"repository-read path=platform/ports .gitlab-ci.yml:11"}},
	{name: "P05 credential approved into a helper",
		script: `git config --global credential.helper cache
printf 'protocol=https\nhost=git.example.org\nusername=gitlab-ci-token\npassword=%s\n' "$CI_JOB_TOKEN" | git credential approve
git clone https://git.example.org/platform/ports.git`,
		uses: []string{"repository-read path=platform/ports .gitlab-ci.yml:12 ~ credential approved at .gitlab-ci.yml:11"}},
	{name: "wiki repository of another project",
		script: `git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/docs/handbook.wiki.git`,
		uses:   []string{"repository-read path=docs/handbook .gitlab-ci.yml:10"}},
	{name: "P06 ~/.netrc with echo -e, then a plain clone",
		script: `echo -e "machine git.example.org\nlogin gitlab-ci-token\npassword ${CI_JOB_TOKEN}" > ~/.netrc
chmod 600 ~/.netrc
git clone https://git.example.org/acme/ProjectA.git`,
		uses: []string{"repository-read path=acme/ProjectA .gitlab-ci.yml:12 ~ ~/.netrc written at .gitlab-ci.yml:10"}},
	{name: "P06 ~/.netrc from a here-document into $HOME/.netrc",
		script: "cat > $HOME/.netrc <<EOF\nmachine git.example.org\nlogin gitlab-ci-token\npassword ${CI_JOB_TOKEN}\nEOF\n" +
			"git ls-remote https://git.example.org/acme/ProjectA.git",
		vars: map[string]string{"HOME": "/root"},
		uses: []string{"repository-read path=acme/ProjectA .gitlab-ci.yml:15"}},
	{name: "P06 one-line printf form",
		script: `printf "machine %s login gitlab-ci-token password %s\n" "$CI_SERVER_HOST" "$CI_JOB_TOKEN" >> ~/.netrc
git pull https://git.example.org/acme/ProjectA.git main`,
		uses: []string{"repository-read path=acme/ProjectA .gitlab-ci.yml:11"}},
	{name: "P06 ~/.netrc written by a sourced script with the host from ${1:-default}",
		script: `. ci/netrc.sh git.example.org
git clone https://git.example.org/acme/x.git`,
		files: map[string]string{"ci/netrc.sh": "GITHOST=${1:-\"gitlab.com\"}\necho \"machine ${GITHOST} login gitlab-ci-token password ${CI_JOB_TOKEN}\" > ~/.netrc\n"},
		uses:  []string{"repository-read path=acme/x .gitlab-ci.yml:11 ~ ~/.netrc written at ci/netrc.sh:2"}},
	{name: "P06 trap: quoted here-document writes the variable name",
		script: "cat > ~/.netrc <<'EOF'\nmachine git.example.org login gitlab-ci-token password ${CI_JOB_TOKEN}\nEOF\n" +
			"git clone https://git.example.org/acme/ProjectA.git",
		notes: []string{"will-not-work .gitlab-ci.yml:10 ~ literally"}},
	{name: "P06 trap: .netrc removed before the clone",
		script: `echo "machine git.example.org login gitlab-ci-token password ${CI_JOB_TOKEN}" > ~/.netrc
rm -f ~/.netrc
git clone https://git.example.org/acme/ProjectA.git`},
	{name: "P10 pip VCS URL with @ref",
		script: `pip install "git+https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/data/parser.git@main"`,
		uses:   []string{"repository-read path=data/parser .gitlab-ci.yml:10"}},
	{name: "P10 PEP 508 requirement through uv",
		script: `uv pip install "toolkit @ git+https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/ml/toolkit.git@v2"`,
		uses:   []string{"repository-read path=ml/toolkit .gitlab-ci.yml:10"}},
	{name: "P10 npm git dependency with #ref",
		script: `npm install widget@git+https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/ui/widget.git#lib`,
		uses:   []string{"repository-read path=ui/widget .gitlab-ci.yml:10"}},
	{name: "P10 requirements.txt expanded by pip (${VAR} only)",
		script: `pip install -r requirements.txt`,
		files: map[string]string{"requirements.txt": "requests==2.32.0\n# a comment git+https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/x/commented.git\n" +
			"parser @ git+https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/data/parser.git@v1.2\n"},
		uses: []string{"repository-read path=data/parser requirements.txt:3"}},
	{name: "P10 if PAT else job token: the PAT branch is a note, the job-token branch a use",
		script: `if [ -n "$REPO_PAT" ]; then
  pip install "git+https://oauth2:${REPO_PAT}@git.example.org/airt/core.git"
else
  pip install "git+https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/airt/core.git"
fi`,
		uses:  []string{"repository-read path=airt/core .gitlab-ci.yml:13"},
		notes: []string{"not-a-job-token-edge .gitlab-ci.yml:11 ~ oauth2"}},
	{name: "P10 trap: __token__ user name with the job token",
		script: `pip install git+https://__token__:${CI_JOB_TOKEN}@git.example.org/data/parser.git`,
		notes:  []string{"will-not-work .gitlab-ci.yml:10 ~ __token__"}},
	{name: "P10 package.json git dependency after ~/.netrc",
		script: `echo "machine git.example.org login gitlab-ci-token password $CI_JOB_TOKEN" > ~/.netrc
npm ci`,
		files: map[string]string{"package.json": "{\n  \"dependencies\": {\n    \"widget\": \"git+https://git.example.org/ui/widget.git#v2\"\n  }\n}\n"},
		uses:  []string{"repository-read path=ui/widget package.json:3"}},
	{name: "P11 push to another project",
		script: `git push https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/releases/bin-drop.git HEAD:$CI_COMMIT_REF_NAME`,
		uses:   []string{"repository-write path=releases/bin-drop .gitlab-ci.yml:10"},
		notes:  []string{"will-not-work .gitlab-ci.yml:10 ~ deploy key"}},
	{name: "P11 trap: push to the own project (no will-not-work note)",
		script: `git push https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/${CI_PROJECT_PATH}.git HEAD:main`,
		uses:   []string{"repository-write path=apps/web .gitlab-ci.yml:10"}},
	{name: "remote add, then fetch through the remote name",
		script: `git remote add upstream https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/platform/upstream.git
git fetch upstream main`,
		uses: []string{"repository-read path=platform/upstream .gitlab-ci.yml:11"}},
	{name: "plain fetch and push of the own checkout are not reported",
		script: `git fetch origin main
git push origin HEAD:main`},
	{name: "trap: oauth2 user name",
		script: `git clone "https://oauth2:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/apps/api.git"`,
		notes:  []string{"will-not-work .gitlab-ci.yml:10 ~ gitlab-ci-token"}},
	{name: "trap: job token sent to github.com",
		script: `git clone "https://x-access-token:${CI_JOB_TOKEN}@github.com/acme/public-data.git"`,
		notes:  []string{"other-host .gitlab-ci.yml:10 ~ github.com"}},
	{name: "trap: deploy token in the URL",
		script: `git clone "https://${CHARTS_DEPLOY_USER}:${CHARTS_DEPLOY_TOKEN}@${CI_SERVER_HOST}/infra/charts.git"`,
		notes:  []string{"not-a-job-token-edge .gitlab-ci.yml:10"}},
	{name: "trap: PAT in the URL",
		script: `git clone https://oauth2:${GL_TOKEN}@git.example.org/infra/charts.git`,
		notes:  []string{"not-a-job-token-edge .gitlab-ci.yml:10 ~ oauth2"}},
	{name: "trap: single-quoted URL sends the variable name",
		script: `git clone 'https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/infra/charts.git'`,
		notes:  []string{"will-not-work .gitlab-ci.yml:10 ~ literally"}},
	{name: "trap: commented-out line",
		script: `# git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/infra/tfstate.git
echo done`},
	{name: "trap: quoted here-document documenting a clone",
		script: "cat > HOWTO.md <<'EOF'\ngit clone https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/infra/tfstate.git\nEOF"},
	{name: "trap: dead code after exit and in an uncalled function",
		script: `sync_legacy() {
  git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/infra/tfstate.git"
}
exit 0
git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/infra/charts.git"`},
	{name: "unknown path: a project CI/CD variable",
		script: `git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/${FIXTURES_REPO}.git" fixtures`,
		uses:   []string{"repository-read path=${FIXTURES_REPO} .gitlab-ci.yml:10 (unresolved)"}},
	{name: "unknown host",
		script: `git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${GITLAB_HOST}/platform/x.git"`,
		uses:   []string{"repository-read path=platform/x .gitlab-ci.yml:10 (unresolved)"}},
	{name: "P28 go mod download with ~/.netrc reads go.mod requires",
		vars: map[string]string{"GOPRIVATE": "git.example.org/*"},
		script: `echo "machine git.example.org login gitlab-ci-token password ${CI_JOB_TOKEN}" > ~/.netrc
go mod download
go build ./...`,
		files: map[string]string{"go.mod": "module git.example.org/apps/web\n\nrequire git.example.org/platform/gokit v1.2.0\nrequire (\n\tgithub.com/spf13/cobra v1.10.2\n\tgit.example.org/platform/auth/v2 v2.0.1\n)\n"},
		uses:  []string{"repository-read path=platform/gokit go.mod:3", "repository-read path=platform/auth go.mod:6"}},
	{name: "P28 go get through an insteadOf rule",
		script: `git config --global url."https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/".insteadOf "https://git.example.org/"
go env -w GOPRIVATE=git.example.org
go get git.example.org/platform/gokit@v1.3.0`,
		uses: []string{"repository-read path=platform/gokit .gitlab-ci.yml:12"}},
	{name: "P28 trap: a module proxy without direct fetches nothing from GitLab",
		vars: map[string]string{"GOPROXY": "https://goproxy.corp.example"},
		script: `echo "machine git.example.org login gitlab-ci-token password ${CI_JOB_TOKEN}" > ~/.netrc
go mod download`,
		files: map[string]string{"go.mod": "module x\nrequire git.example.org/platform/gokit v1.2.0\n"}},
	{name: "P28 trap: go without credentials fetches anonymously",
		script: `go mod download`,
		files:  map[string]string{"go.mod": "module x\nrequire git.example.org/platform/gokit v1.2.0\n"}},
	{name: "clone --recurse-submodules follows the cloned project's .gitmodules",
		script: `git clone --recurse-submodules https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/platform/firmware.git`,
		files:  map[string]string{"platform/firmware:.gitmodules": "[submodule \"hal\"]\n\tpath = hal\n\turl = ../hal.git\n"},
		uses:   []string{"repository-read path=platform/firmware .gitlab-ci.yml:10", "repository-read path=platform/hal .gitlab-ci.yml:10"}},
	{name: "P09 repo init with a token manifest URL",
		script: `repo init -u https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/clipos/manifest.git -b master`,
		uses:   []string{"repository-read path=clipos/manifest .gitlab-ci.yml:10"}},
	{name: "P09 trap: ansible-galaxy does not expand ${CI_JOB_TOKEN} in requirements.yml",
		script: `ansible-galaxy install -r requirements.yml`,
		files:  map[string]string{"requirements.yml": "roles:\n  - src: git+https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/ops/role-common.git,v1.2\n    name: common\n  - src: geerlingguy.docker\n"},
		notes:  []string{"will-not-work requirements.yml:2 ~ literally"}},
	{name: "P09 ansible-galaxy roles over https with ~/.netrc",
		script: `echo "machine git.example.org login gitlab-ci-token password ${CI_JOB_TOKEN}" > ~/.netrc
ansible-galaxy install -r requirements.yml`,
		files: map[string]string{"requirements.yml": "- src: https://git.example.org/ops/role-common.git\n  scm: git\n"},
		uses:  []string{"repository-read path=ops/role-common requirements.yml:1"}},
	{name: "odd input: bare and truncated commands do not panic",
		script: `git
git clone
git -c
git config
git config --global
git remote add
git push --repo
docker
go
pip install git+
echo > ~/.netrc`},
}

func TestGitDetector(t *testing.T) { runTable(t, "git", gitCases) }
