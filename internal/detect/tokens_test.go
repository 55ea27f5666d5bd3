package detect_test

import (
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/detect"
)

func TestTokensDetector(t *testing.T) {
	runRows(t, "tokens", []row{
		{name: "§3.2 PRIVATE-TOKEN header to another project (P37: everything else used PRIVATE-TOKEN)",
			script:  `curl -H "PRIVATE-TOKEN: $GITLAB_API_TOKEN" "$CI_API_V4_URL/projects/platform%2Fshared-templates/repository/files/ci.yml/raw?ref=main"`,
			notes:   []string{".gitlab-ci.yml:1 not-a-job-token-edge"},
			noteHas: "PRIVATE-TOKEN header (${GITLAB_API_TOKEN})"},
		{name: "§3.2 literal glpat token is never echoed",
			script:  `curl --header "PRIVATE-TOKEN: glpat-AbCdEfGhIjKlMnOpQrSt" https://git.example.org/api/v4/projects/55/packages/generic/a/1/a`,
			notes:   []string{".gitlab-ci.yml:1 not-a-job-token-edge"},
			noteHas: "[MASKED]"},
		{name: "§3.2 Deploy-Token header",
			script: `curl --header "Deploy-Token: $DEPLOY_TOKEN" -O "$CI_API_V4_URL/projects/55/packages/generic/a/1/a"`,
			notes:  []string{".gitlab-ci.yml:1 not-a-job-token-edge"}},
		{name: "§3.2 oauth2:${GL_TOKEN} in a repository URL is left to the git detector (one note per command)",
			script: `git clone "https://oauth2:${GL_TOKEN}@${CI_SERVER_HOST}/platform/deploy-manifests.git"`},
		{name: "§3.2 git+https VCS requirement with a PAT is left to the git detector",
			script: `pip install "git+https://oauth2:${PAT}@git.example.org/data/parser.git@main"`},
		{name: "§3.2 oauth2:${PAT} on an API URL",
			script:  `curl -sSf -o a.tgz "https://oauth2:${PAT}@git.example.org/api/v4/projects/55/packages/generic/a/1/a.tgz"`,
			notes:   []string{".gitlab-ci.yml:1 not-a-job-token-edge"},
			noteHas: "oauth2 with ${PAT}"},
		{name: "§3.1 PAT on the own project's API is not cross-project",
			script: `curl -o a.tgz "https://oauth2:${PAT}@${CI_SERVER_HOST}/api/v4/projects/${CI_PROJECT_ID}/packages/generic/a/1/a.tgz"`},
		{name: "§3.2 trigger token in a form field",
			script:  `curl -X POST -F token=$TRIGGER_TOKEN -F ref=main "$CI_API_V4_URL/projects/77/trigger/pipeline"`,
			notes:   []string{".gitlab-ci.yml:1 not-a-job-token-edge"},
			noteHas: "trigger token (${TRIGGER_TOKEN})"},
		{name: "§3.2 literal glptt trigger token",
			script:  `curl -X POST -F token=glptt-0123456789abcdef0123 -F ref=main https://git.example.org/api/v4/projects/77/trigger/pipeline`,
			notes:   []string{".gitlab-ci.yml:1 not-a-job-token-edge"},
			noteHas: "a literal trigger token"},
		{name: "§3.2 __token__:${GITLAB_API_TOKEN} index URL on a pip command line",
			script:  `pip install --index-url=https://__token__:${GITLAB_API_TOKEN}@git.example.org/api/v4/projects/4242/packages/pypi/simple mypkg`,
			notes:   []string{".gitlab-ci.yml:1 not-a-job-token-edge"},
			noteHas: "__token__"},
		{name: "§3.2 one note per command even with two token forms",
			script: `curl -H "PRIVATE-TOKEN: $A" "$CI_API_V4_URL/projects/55/releases?private_token=$A"`,
			notes:  []string{".gitlab-ci.yml:1 not-a-job-token-edge"}},
		{name: "§3.2 API on a host from an undefined variable",
			script: `curl -H "PRIVATE-TOKEN: $T" "${GITLAB_URL}/api/v4/projects/5/jobs/artifacts/main/download?job=b"`,
			notes:  []string{".gitlab-ci.yml:1 not-a-job-token-edge"}},
		{name: "§3.3 the job token in the command: judged by the api detector, not here",
			script: `curl -H "PRIVATE-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/55/releases"`},
		{name: "§3.2 GitHub token to GitHub is none of our business",
			script: `git clone https://x-access-token:${GH_TOKEN}@github.com/org/repo.git`},
		{name: "§3.1 own project API with a PAT",
			script: `curl -H "PRIVATE-TOKEN: $PAT" "$CI_API_V4_URL/projects/$CI_PROJECT_ID/releases"`},
		{name: "§3.2 unauthenticated call notes nothing",
			script: `curl -L -o x.zip "$CI_API_V4_URL/projects/55/jobs/artifacts/main/download?job=b"`},
	}, func(t *testing.T, out *detect.Output) {
		for _, n := range out.Notes {
			if strings.Contains(n.Detail, "AbCdEfGh") || strings.Contains(n.Detail, "0123456789abcdef") {
				t.Errorf("literal token echoed: %q", n.Detail)
			}
		}
	})
}
