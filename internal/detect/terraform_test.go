package detect_test

import (
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
)

func TestTerraformDetector(t *testing.T) {
	httpCreds := []ciconfig.Variable{v("TF_HTTP_USERNAME", "gitlab-ci-token", 5), v("TF_HTTP_PASSWORD", "${CI_JOB_TOKEN}", 6)}
	with := func(extra ...ciconfig.Variable) []ciconfig.Variable {
		return append(append([]ciconfig.Variable(nil), httpCreds...), extra...)
	}
	const backendLiteral = "terraform {\n  backend \"http\" {\n    address = \"https://git.example.org/api/v4/projects/136/terraform/state/main\"\n  }\n}\n"
	runRows(t, "terraform", []row{
		{name: "P33 TF_HTTP_ADDRESS in another project: plan locks, one write use at the first locking command",
			vars:   with(v("TF_HTTP_ADDRESS", "${CI_API_V4_URL}/projects/${STATE_PROJECT_ID}/terraform/state/prod", 3), v("STATE_PROJECT_ID", "42", 4)),
			script: "terraform init\nterraform plan -out plan.cache\nterraform apply -auto-approve plan.cache",
			uses:   []string{".gitlab-ci.yml:2 terraform-state-write id:42 @job"}},
		{name: "P33 init and output only read the state",
			vars:   with(v("TF_HTTP_ADDRESS", "${CI_API_V4_URL}/projects/42/terraform/state/prod", 3)),
			script: "terraform init\nterraform output -json > out.json",
			uses:   []string{".gitlab-ci.yml:1 terraform-state-read id:42 @job"}},
		{name: "P33 plan -lock=false does not lock",
			vars:   with(v("TF_HTTP_ADDRESS", "${CI_API_V4_URL}/projects/42/terraform/state/prod", 3)),
			script: "tofu -chdir=infra plan -lock=false",
			uses:   []string{".gitlab-ci.yml:1 terraform-state-read id:42 @job"}},
		{name: "P33 own state (all seven public hits)",
			vars:   with(v("TF_HTTP_ADDRESS", "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/terraform/state/${TF_STATE_NAME}", 3), v("TF_STATE_NAME", "default", 4)),
			script: "terraform init\nterraform apply -auto-approve",
			uses:   []string{".gitlab-ci.yml:2 terraform-state-write id:100 @job"}},
		{name: "P33 anchored hidden job carrying TF_HTTP_ADDRESS: ${STATE_URL} defined elsewhere",
			vars:   with(v("TF_HTTP_ADDRESS", "${STATE_URL}", 3)),
			script: "terraform init",
			uses:   []string{".gitlab-ci.yml:1 terraform-state-read unknown:${STATE_URL} ? @job"}},
		{name: "P33 -backend-config on init carries to apply",
			script: "terraform init -backend-config=address=https://git.example.org/api/v4/projects/53766516/terraform/state/prod -backend-config=\"username=gitlab-ci-token\" -backend-config=\"password=$CI_JOB_TOKEN\"\nterraform apply -auto-approve",
			uses:   []string{".gitlab-ci.yml:2 terraform-state-write id:53766516 @job"}},
		{name: "P33 -backend-config with a PAT is not a job-token use",
			script: "terraform init -backend-config=address=https://git.example.org/api/v4/projects/53766516/terraform/state/prod -backend-config=\"username=fan\" -backend-config=\"password=$GITLAB_ACCESS_TOKEN\"\nterraform apply"},
		{name: "P33 literal numeric ID in backend.tf with credentials in env",
			vars:   httpCreds,
			files:  map[string]string{"backend.tf": backendLiteral, "main.tf": "resource \"null_resource\" \"x\" {}\n"},
			script: "terraform init\nterraform destroy -auto-approve",
			uses:   []string{".gitlab-ci.yml:2 terraform-state-write id:136 @job"}},
		{name: "P33 backend.tf in TF_ROOT",
			vars:   with(v("TF_ROOT", "${CI_PROJECT_DIR}/infra", 7)),
			files:  map[string]string{"infra/backend.tf": backendLiteral},
			script: "cd ${TF_ROOT}\nterraform init",
			uses:   []string{".gitlab-ci.yml:2 terraform-state-read id:136 @job"}},
		{name: "P33 invalid ${env.CI_JOB_TOKEN} in a backend block is sent literally",
			files:   map[string]string{"backend.tf": "terraform {\n  backend \"http\" {\n    address = \"https://git.example.org/api/v4/projects/1/terraform/state/terraform\"\n    username = \"gitlab-ci-token\"\n    password = \"${env.CI_JOB_TOKEN}\"\n  }\n}\n"},
			script:  "terraform init\nterraform plan",
			notes:   []string{"backend.tf:5 will-not-work"},
			noteHas: "${env.X}"},
		{name: "P33 variables are not allowed in a backend block",
			vars:    httpCreds,
			files:   map[string]string{"backend.tf": "terraform {\n  backend \"http\" {\n    address = \"https://git.example.org/api/v4/projects/136/terraform/state/${var.tf_state_name}\"\n  }\n}\n"},
			script:  "terraform init",
			notes:   []string{"backend.tf:3 will-not-work"},
			noteHas: "variables in a backend block"},
		{name: "P33 gitlab-terraform defaults the password to the job token; TF_ADDRESS names another project",
			vars:   []ciconfig.Variable{v("TF_ADDRESS", "${CI_API_V4_URL}/projects/42/terraform/state/prod", 3)},
			script: "gitlab-terraform plan\ngitlab-terraform plan-json",
			uses:   []string{".gitlab-ci.yml:1 terraform-state-write id:42 @job"}},
		{name: "P33 gitlab-terraform with TF_STATE_NAME only is the own project",
			vars:   []ciconfig.Variable{v("TF_STATE_NAME", "default", 3)},
			script: "gitlab-terraform init\ngitlab-terraform output",
			uses:   []string{".gitlab-ci.yml:1 terraform-state-read id:100 @job"}},
		{name: "P33 gitlab-terraform with a PAT in TF_PASSWORD",
			vars:   []ciconfig.Variable{v("TF_ADDRESS", "${CI_API_V4_URL}/projects/42/terraform/state/prod", 3), v("TF_PASSWORD", "$GITLAB_TOKEN", 4), v("TF_USERNAME", "bot", 5)},
			script: "gitlab-terraform apply"},
		{name: "P33 gitlab-tofu with GITLAB_TOFU_STATE_ADDRESS",
			vars:   []ciconfig.Variable{v("GITLAB_TOFU_STATE_ADDRESS", "${CI_API_V4_URL}/projects/42/terraform/state/prod", 3)},
			script: "gitlab-tofu apply",
			uses:   []string{".gitlab-ci.yml:1 terraform-state-write id:42 @job"}},
		{name: "P33 wrong user name for the state backend",
			vars:    []ciconfig.Variable{v("TF_HTTP_ADDRESS", "${CI_API_V4_URL}/projects/42/terraform/state/prod", 3), v("TF_HTTP_USERNAME", "oauth2", 4), v("TF_HTTP_PASSWORD", "$CI_JOB_TOKEN", 5)},
			script:  "terraform init",
			notes:   []string{".gitlab-ci.yml:1 will-not-work"},
			noteHas: "user name oauth2"},
		{name: "§3.3 wrong host: job token as state password for another host",
			vars:    with(v("TF_HTTP_ADDRESS", "https://state.other.org/api/state/prod", 3)),
			script:  "terraform init",
			notes:   []string{".gitlab-ci.yml:1 other-host"},
			noteHas: "state.other.org"},
		{name: "§3.2 trap: GCS backend with a terraform/state prefix",
			vars:   httpCreds,
			files:  map[string]string{"backend.tf": "terraform {\n  backend \"gcs\" {\n    bucket = \"tf\"\n    prefix = \"terraform/state\"\n  }\n}\n"},
			script: "terraform init\nterraform apply"},
		{name: "P33 validate and fmt touch no state",
			vars:   with(v("TF_HTTP_ADDRESS", "${CI_API_V4_URL}/projects/42/terraform/state/prod", 3)),
			script: "terraform fmt -check\nterraform validate"},
		{name: "P29 TF_TOKEN_<host> with the job token: module registry by namespace",
			vars:   []ciconfig.Variable{v("TF_TOKEN_git_example_org", "$CI_JOB_TOKEN", 3)},
			files:  map[string]string{"main.tf": "module \"vpc\" {\n  source  = \"git.example.org/acme-infra/vpc/aws\"\n  version = \"1.0.0\"\n}\nmodule \"local\" {\n  source = \"./modules/x\"\n}\n"},
			script: "terraform init",
			uses:   []string{"main.tf:2 packages-read group:acme-infra @job"}},
		{name: "P29 the root module is in a folder the scan cannot name: its .tf files are not guessed",
			vars:   []ciconfig.Variable{v("TF_TOKEN_git_example_org", "$CI_JOB_TOKEN", 3), v("TF_ROOT", "${TF_DIR}", 4)},
			files:  map[string]string{"main.tf": "module \"vpc\" {\n  source  = \"git.example.org/acme-infra/vpc/aws\"\n}\n"},
			script: "terraform -chdir=$TF_ROOT init"},
		{name: "P29 TF_TOKEN with a PAT is no use",
			vars:   []ciconfig.Variable{v("TF_TOKEN_git_example_org", "$TF_REGISTRY_PAT", 3)},
			files:  map[string]string{"main.tf": "module \"vpc\" {\n  source  = \"git.example.org/acme-infra/vpc/aws\"\n}\n"},
			script: "terraform init"},
	})
}

func TestTerraformRemoteState(t *testing.T) {
	const remote = `data "terraform_remote_state" "network" {
  backend = "http"
  config = {
    address  = "https://git.example.org/api/v4/projects/42/terraform/state/network"
    username = "gitlab-ci-token"
    password = var.state_token
  }
}
`
	rows := []row{
		{name: "P33 terraform_remote_state with the job token through TF_VAR_",
			vars:   []ciconfig.Variable{v("TF_VAR_state_token", "$CI_JOB_TOKEN", 3)},
			script: "terraform init\nterraform plan",
			uses:   []string{"data.tf:4 terraform-state-read id:42 @job"}},
		{name: "P33 terraform_remote_state read only when data sources are evaluated",
			vars:   []ciconfig.Variable{v("TF_VAR_state_token", "$CI_JOB_TOKEN", 3)},
			script: "terraform init\nterraform validate"},
		{name: "P33 terraform_remote_state with a PAT",
			vars:   []ciconfig.Variable{v("TF_VAR_state_token", "$STATE_PAT", 3)},
			script: "terraform plan"},
	}
	for i := range rows {
		rows[i].files = map[string]string{"data.tf": remote}
	}
	runRows(t, "terraform", rows)
}
