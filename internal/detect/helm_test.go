package detect_test

import (
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/loc"
)

func TestHelmDetector(t *testing.T) {
	const charts = "${CI_API_V4_URL}/projects/4711/packages/helm/stable"
	runRows(t, "helm", []row{
		{name: "P26 helm repo add with the job token, project ID from a variable",
			vars:   []ciconfig.Variable{v("CHARTS_PROJECT_ID", "4711", 2)},
			script: `helm repo add --username gitlab-ci-token --password ${CI_JOB_TOKEN} charts "${CI_API_V4_URL}/projects/${CHARTS_PROJECT_ID}/packages/helm/stable"`,
			uses:   []string{".gitlab-ci.yml:1 packages-read id:4711 @job"}},
		{name: "P26 project ID variable not defined in YAML (VERITY_PROJECT_ID) stays unresolved",
			script: `helm repo add --username gitlab-ci-token --password ${CI_JOB_TOKEN} verity "${CI_API_V4_URL}/projects/${VERITY_PROJECT_ID}/packages/helm/stable"`,
			uses:   []string{".gitlab-ci.yml:1 packages-read unknown:${VERITY_PROJECT_ID} ? @job"}},
		{name: "P26 YAML plain scalar folded onto one line is one command (ciconfig gives LineStep 0)",
			items: []ciconfig.Script{{Text: `helm repo add --username gitlab-ci-token --password ${CI_JOB_TOKEN} charts "` + charts + `"`,
				Pos: loc.Pos{Line: 12}, LineStep: 0}},
			uses: []string{".gitlab-ci.yml:12 packages-read id:4711 @job"}},
		{name: "P26 the same text split by lines would be two fragments and find nothing",
			items: []ciconfig.Script{{Text: "helm repo add --username gitlab-ci-token --password ${CI_JOB_TOKEN}\ncharts \"" + charts + "\"",
				Pos: loc.Pos{Line: 12}, LineStep: 1}}},
		{name: "P26 cm-push to the alias publishes",
			script: "helm repo add --username gitlab-ci-token --password $CI_JOB_TOKEN shared ${CI_API_V4_URL}/projects/202/packages/helm/stable\nhelm cm-push mychart-1.0.tgz shared",
			uses:   []string{".gitlab-ci.yml:1 packages-read id:202 @job", ".gitlab-ci.yml:2 packages-write id:202 @job"}},
		{name: "P26 own cm-push to a URL with credentials on the command",
			script: "helm cm-push ./chart ${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/helm/stable --username gitlab-ci-token --password $CI_JOB_TOKEN",
			uses:   []string{".gitlab-ci.yml:1 packages-write id:100 @job"}},
		{name: "P26 cm-push with -f (force) and -u/-p credentials",
			script: "helm cm-push -f -u gitlab-ci-token -p $CI_JOB_TOKEN chart-1.0.tgz ${CI_API_V4_URL}/projects/202/packages/helm/stable",
			uses:   []string{".gitlab-ci.yml:1 packages-write id:202 @job"}},
		{name: "P26 install -f values.yaml --repo",
			script: "helm install -f values.yaml svc app --repo " + charts + " --username gitlab-ci-token --password $CI_JOB_TOKEN",
			uses:   []string{".gitlab-ci.yml:1 packages-read id:4711 @job"}},
		{name: "P26 --password-stdin fed by echo",
			script: "echo \"$CI_JOB_TOKEN\" | helm repo add --username gitlab-ci-token --password-stdin charts https://git.example.org/api/v4/projects/4711/packages/helm/stable",
			uses:   []string{".gitlab-ci.yml:1 packages-read id:4711 @job"}},
		{name: "P26 --repo on upgrade --install",
			script: "helm upgrade --install svc app --repo " + charts + " --username gitlab-ci-token --password $CI_JOB_TOKEN",
			uses:   []string{".gitlab-ci.yml:1 packages-read id:4711 @job"}},
		{name: "P26 commented-out cross-project line",
			script: "# helm repo add --username gitlab-ci-token --password ${CI_JOB_TOKEN} verity \"${CI_API_V4_URL}/projects/${VERITY_PROJECT_ID}/packages/helm/stable\""},
		{name: "§3.3 wrong user name",
			script:  "helm repo add --username oauth2 --password $CI_JOB_TOKEN charts " + charts,
			notes:   []string{".gitlab-ci.yml:1 will-not-work"},
			noteHas: "user name oauth2"},
		{name: "§3.2 trap: a PAT as chart repository password",
			script:  "helm repo add --username deployer --password $HELM_TOKEN charts " + charts,
			notes:   []string{".gitlab-ci.yml:1 not-a-job-token-edge"},
			noteHas: "${HELM_TOKEN}"},
		{name: "§3.2 public chart repository without credentials",
			script: "helm repo add bitnami https://charts.bitnami.com/bitnami"},
		{name: "§3.3 wrong host: job token sent to another chart host",
			script:  "helm repo add --username gitlab-ci-token --password $CI_JOB_TOKEN bitnami https://charts.bitnami.com/bitnami",
			notes:   []string{".gitlab-ci.yml:1 other-host"},
			noteHas: "charts.bitnami.com"},
	})
}
