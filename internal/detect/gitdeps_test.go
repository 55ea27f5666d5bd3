package detect_test

import "testing"

// Git dependencies in package manifests, cloned with the job token that an
// insteadOf rule or ~/.netrc adds to a plain URL (P10 with P05/P06).
func TestManifestGitDependencies(t *testing.T) {
	const insteadOf = `git config --global url."https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/".insteadOf "https://git.example.org/"` + "\n"
	const pyproject = `[project]
name = "web"
dependencies = [
  "requests>=2.31",
  "parser @ git+https://git.example.org/data/parser.git@v1.4",
]

[tool.poetry.dependencies]
toolkit = { git = "https://git.example.org/ml/toolkit.git", tag = "v2.0" }
# legacy = { git = "https://git.example.org/ml/legacy.git" }
`
	runTable(t, "git", []jobCase{
		{name: "P10 pip install . reads pyproject.toml direct references, rewritten by insteadOf",
			script: insteadOf + "pip install -e .[dev]",
			files:  map[string]string{"pyproject.toml": pyproject},
			uses:   []string{"repository-read path=data/parser pyproject.toml:5", "repository-read path=ml/toolkit pyproject.toml:9"}},
		{name: "P10 poetry install: Poetry git tables, commented lines skipped",
			script: insteadOf + "poetry install --no-root",
			files:  map[string]string{"pyproject.toml": pyproject},
			uses:   []string{"repository-read path=data/parser pyproject.toml:5", "repository-read path=ml/toolkit pyproject.toml:9"}},
		{name: "P10 pipenv install reads the Pipfile after ~/.netrc",
			script: `echo "machine git.example.org login gitlab-ci-token password ${CI_JOB_TOKEN}" > ~/.netrc` + "\npipenv install --deploy",
			files:  map[string]string{"Pipfile": "[packages]\nrequests = \"*\"\nparser = {git = \"https://git.example.org/data/parser.git\", ref = \"v1.4\"}\n"},
			uses:   []string{"repository-read path=data/parser Pipfile:3"}},
		{name: "P10 npm ci: a git+ssh dependency rewritten to https with the job token",
			script: `git config --global url."https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/".insteadOf "ssh://git@git.example.org/"` + "\nnpm ci",
			files:  map[string]string{"package.json": "{\n  \"name\": \"web\",\n  \"dependencies\": {\n    \"widget\": \"git+ssh://git@git.example.org/ui/widget.git#v3\"\n  }\n}\n"},
			uses:   []string{"repository-read path=ui/widget package.json:4"}},
		{name: "P10 trap: without job-token credentials the clone is anonymous",
			script: "poetry install",
			files:  map[string]string{"pyproject.toml": pyproject}},
		{name: "P10 poetry build installs nothing",
			script: insteadOf + "poetry build",
			files:  map[string]string{"pyproject.toml": pyproject}},
	})
}
