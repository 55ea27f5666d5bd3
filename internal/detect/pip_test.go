package detect_test

import (
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
)

func TestPipDetector(t *testing.T) {
	const simple = "/packages/pypi/simple"
	runRows(t, "pip", []row{
		{name: "P17 PIP_INDEX_URL job variable with the project ID in another variable",
			vars: []ciconfig.Variable{
				v("PIP_INDEX_URL", "https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/api/v4/projects/${PYREG_PROJECT_ID}"+simple, 3),
				v("PYREG_PROJECT_ID", "4242", 4)},
			script: "pip install -r requirements.txt",
			uses:   []string{".gitlab-ci.yml:3 packages-read id:4242 @job"}},
		{name: "P17 PIP_EXTRA_INDEX_URL holding two URLs, one of them PyPI",
			vars:   []ciconfig.Variable{v("PIP_EXTRA_INDEX_URL", "https://pypi.org/simple https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/api/v4/projects/76216903"+simple, 5)},
			script: "pip install mypkg",
			uses:   []string{".gitlab-ci.yml:5 packages-read id:76216903 @job"}},
		{name: "P17 __token__ user with the job token is rejected",
			vars:    []ciconfig.Variable{v("PIP_EXTRA_INDEX_URL", "https://__token__:${CI_JOB_TOKEN}@git.example.org/api/v4/projects/4242"+simple, 5)},
			script:  "pip install mypkg",
			notes:   []string{".gitlab-ci.yml:5 will-not-work"},
			noteHas: "user name __token__"},
		{name: "P17 --extra-index-url on the command line",
			script: "pip install --extra-index-url https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/api/v4/projects/80059368" + simple + " mypkg",
			uses:   []string{".gitlab-ci.yml:1 packages-read id:80059368 @job"}},
		{name: "P17 --index-url= form through python -m pip",
			script: "python3 -m pip install --index-url=https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/api/v4/projects/55" + simple + " mypkg",
			uses:   []string{".gitlab-ci.yml:1 packages-read id:55 @job"}},
		{name: "P17 option line inside requirements.txt, ${VAR} expanded by pip",
			files:  map[string]string{"requirements.txt": "requests==2.31\n--extra-index-url https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/api/v4/projects/4927/packages/pypi/simple\nmypkg\n"},
			script: "pip install -r requirements.txt",
			uses:   []string{"requirements.txt:2 packages-read id:4927 @job"}},
		{name: "P17 requirements.txt index without credentials (arosas42) is no use",
			files:  map[string]string{"requirements.txt": "--extra-index-url https://git.example.org/api/v4/projects/4927/packages/pypi/simple\n"},
			script: "pip install -r requirements.txt"},
		{name: "P17 export in the script",
			script: "export PIP_EXTRA_INDEX_URL=\"https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/api/v4/projects/80059368" + simple + "\"\npip install x",
			uses:   []string{".gitlab-ci.yml:1 packages-read id:80059368 @job"}},
		{name: "P17 forwarded into docker build --build-arg PIP_EXTRA_INDEX_URL",
			script: "docker build --build-arg PIP_EXTRA_INDEX_URL=https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/api/v4/projects/4242" + simple + " -t $CI_REGISTRY_IMAGE .",
			uses:   []string{".gitlab-ci.yml:1 packages-read id:4242 @job"}},
		{name: "P18 UV_INDEX name=url joined to UV_INDEX_<NAME>_USERNAME/PASSWORD",
			vars: []ciconfig.Variable{
				v("UV_INDEX", "shared-lib=https://git.example.org/api/v4/projects/4242"+simple, 3),
				v("UV_INDEX_SHARED_LIB_USERNAME", "gitlab-ci-token", 4),
				v("UV_INDEX_SHARED_LIB_PASSWORD", "$CI_JOB_TOKEN", 5)},
			script: "uvx --from pkg==1.2 tool",
			uses:   []string{".gitlab-ci.yml:3 packages-read id:4242 @job"}},
		{name: "P18 UV_INDEX without credentials is no use",
			vars: []ciconfig.Variable{v("UV_INDEX", "shared=https://git.example.org/api/v4/projects/4242"+simple, 3)}},
		{name: "P18 Poetry http-basic joined to pyproject.toml source by name",
			files:  map[string]string{"pyproject.toml": "[tool.poetry]\nname = \"app\"\n\n[[tool.poetry.source]]\nname = \"gitlab\"\nurl = \"https://git.example.org/api/v4/projects/12158/packages/pypi/simple\"\npriority = \"supplemental\"\n"},
			script: "poetry config http-basic.gitlab gitlab-ci-token ${CI_JOB_TOKEN}\npoetry install",
			uses:   []string{".gitlab-ci.yml:1 packages-read id:12158 @job"}},
		{name: "P19 uv group-level index in pyproject.toml with UV_INDEX_CORP_* variables",
			files: map[string]string{"pyproject.toml": "[[tool.uv.index]]\nname = \"corp\"\nurl = \"https://git.example.org/api/v4/groups/77/-/packages/pypi/simple\"\n"},
			vars: []ciconfig.Variable{
				v("UV_INDEX_CORP_USERNAME", "gitlab-ci-token", 4),
				v("UV_INDEX_CORP_PASSWORD", "${CI_JOB_TOKEN}", 5)},
			script: "uv sync --frozen",
			uses:   []string{".gitlab-ci.yml:1 packages-read group:77 @job"}},
		{name: "P19 group index credentials from a .netrc the job writes",
			vars:   []ciconfig.Variable{v("PIP_INDEX_URL", "https://git.example.org/api/v4/groups/77/-/packages/pypi/simple", 3)},
			script: "echo \"machine git.example.org login gitlab-ci-token password ${CI_JOB_TOKEN}\" > ~/.netrc\npip install corp-lib",
			uses:   []string{".gitlab-ci.yml:3 packages-read group:77 @job"}},
		{name: "P18 twine upload with TWINE_* variables, own project",
			vars: []ciconfig.Variable{
				v("TWINE_USERNAME", "gitlab-ci-token", 3),
				v("TWINE_PASSWORD", "${CI_JOB_TOKEN}", 4)},
			script: "python -m build\npython -m twine upload --repository-url ${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/pypi dist/*",
			uses:   []string{".gitlab-ci.yml:2 packages-write id:100 @job"}},
		{name: "P18 twine upload to a shared project (cegeka projects/869)",
			script: "TWINE_PASSWORD=${CI_JOB_TOKEN} TWINE_USERNAME=gitlab-ci-token twine upload --repository-url https://git.example.org/api/v4/projects/869/packages/pypi dist/*",
			uses:   []string{".gitlab-ci.yml:1 packages-write id:869 @job"}},
		{name: "P18 twine with __token__ and the job token is rejected",
			script:  "twine upload -u __token__ -p $CI_JOB_TOKEN --repository-url https://git.example.org/api/v4/projects/869/packages/pypi dist/*",
			notes:   []string{".gitlab-ci.yml:1 will-not-work"},
			noteHas: "__token__"},
		{name: "P18 uv publish with --username/--password",
			script: "uv publish --publish-url ${CI_API_V4_URL}/projects/55/packages/pypi --username gitlab-ci-token --password $CI_JOB_TOKEN",
			uses:   []string{".gitlab-ci.yml:1 packages-write id:55 @job"}},
		{name: "P19 uv publish --index with publish-url pointing at a project endpoint",
			files: map[string]string{"pyproject.toml": "[[tool.uv.index]]\nname = \"corp\"\nurl = \"https://git.example.org/api/v4/groups/77/-/packages/pypi/simple\"\npublish-url = \"https://git.example.org/api/v4/projects/4243/packages/pypi\"\n"},
			vars: []ciconfig.Variable{
				v("UV_INDEX_CORP_USERNAME", "gitlab-ci-token", 4),
				v("UV_INDEX_CORP_PASSWORD", "${CI_JOB_TOKEN}", 5)},
			script: "uv build\nuv publish --index corp",
			uses:   []string{".gitlab-ci.yml:2 packages-write id:4243 @job"}},
		{name: "P18 poetry publish to a repository configured in the job",
			script: "poetry config repositories.gitlab ${CI_API_V4_URL}/projects/55/packages/pypi\npoetry config http-basic.gitlab gitlab-ci-token \"$CI_JOB_TOKEN\"\npoetry publish -r gitlab --build",
			uses:   []string{".gitlab-ci.yml:3 packages-write id:55 @job"}},
		{name: "P17 pip.conf written by the job with printf",
			script: "printf \"[global]\\nindex-url = https://gitlab-ci-token:%s@git.example.org/api/v4/projects/20511699/packages/pypi/simple\\n\" \"$CI_JOB_TOKEN\" > /etc/pip.conf\npip install x",
			uses:   []string{".gitlab-ci.yml:1 packages-read id:20511699 @job"}},
		{name: "§3.2 trap: a PAT with __token__ in PIP_INDEX_URL is not a job-token edge",
			vars:    []ciconfig.Variable{v("PIP_INDEX_URL", "https://__token__:${GITLAB_API_TOKEN}@git.example.org/api/v4/projects/4242"+simple, 3)},
			script:  "pip install mypkg",
			notes:   []string{".gitlab-ci.yml:3 not-a-job-token-edge"},
			noteHas: "not the job token"},
		{name: "§3.3 wrong host: job token sent to a foreign index",
			vars:    []ciconfig.Variable{v("PIP_INDEX_URL", "https://gitlab-ci-token:${CI_JOB_TOKEN}@pypi.other.org/simple", 3)},
			script:  "pip install mypkg",
			notes:   []string{".gitlab-ci.yml:3 other-host"},
			noteHas: "pypi.other.org"},
		{name: "precision: a global PIP_INDEX_URL is no access by a job that never installs",
			vars:   []ciconfig.Variable{v("PIP_INDEX_URL", "https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/api/v4/projects/4242"+simple, 3)},
			script: "git clone https://example.org/x.git && python -m etl"},
		{name: "§3.2 trap: Forgejo-like /api/packages path is not GitLab's API",
			vars: []ciconfig.Variable{v("PIP_INDEX_URL", "https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/api/packages/owner/pypi/simple", 3)}},
	})
}

func TestPipDetectorCommittedPipConf(t *testing.T) {
	out := runDetectors(t, row{repo: true, files: map[string]string{
		"pip.conf": "[global]\nindex-url = https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/api/v4/projects/4242/packages/pypi/simple\n"}}.job(), "pip")
	checkOrdered(t, out, nil, []string{"pip.conf:2 will-not-work"}, "does not expand", false)
}
