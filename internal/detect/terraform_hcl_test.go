package detect_test

import (
	"testing"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
)

// Layouts that line patterns misread and HCL's parser reads as Terraform
// does: one-line blocks, block comments, objects on one line.
func TestTerraformHCLLayouts(t *testing.T) {
	httpCreds := []ciconfig.Variable{v("TF_HTTP_USERNAME", "gitlab-ci-token", 5), v("TF_HTTP_PASSWORD", "${CI_JOB_TOKEN}", 6)}
	tfToken := []ciconfig.Variable{v("TF_TOKEN_git_example_org", "$CI_JOB_TOKEN", 3)}
	runRows(t, "terraform", []row{
		{name: "P33 a backend \"http\" block written on one line (HCL allows one attribute there)",
			vars:   httpCreds,
			files:  map[string]string{"backend.tf": "terraform {\n  backend \"http\" { address = \"https://git.example.org/api/v4/projects/136/terraform/state/main\" }\n}\n"},
			script: "terraform init",
			uses:   []string{".gitlab-ci.yml:1 terraform-state-read id:136 @job"}},
		{name: "P33 a backend address after comments and another attribute",
			vars: httpCreds,
			files: map[string]string{"backend.tf": "terraform {\n  # state lives in the infra project\n  backend \"http\" {\n    lock_method = \"POST\" // GitLab's lock\n" +
				"    address     = \"https://git.example.org/api/v4/projects/137/terraform/state/main\"\n  }\n}\n"},
			script: "terraform apply -auto-approve",
			uses:   []string{".gitlab-ci.yml:1 terraform-state-write id:137 @job"}},
		{name: "P29 a module commented out with /* */ is not pulled; the live one on a one-line block is",
			vars: tfToken,
			files: map[string]string{"main.tf": "/*\nmodule \"old\" {\n  source = \"git.example.org/legacy/vpc/aws\"\n}\n*/\n" +
				"module \"vpc\" { source = \"git.example.org/acme-infra/vpc/aws\" }\n"},
			script: "terraform init",
			uses:   []string{"main.tf:6 packages-read group:acme-infra @job"}},
		{name: "P33 terraform_remote_state config object on one line",
			vars: []ciconfig.Variable{v("TF_VAR_state_token", "$CI_JOB_TOKEN", 3)},
			files: map[string]string{"data.tf": "data \"terraform_remote_state\" \"net\" {\n  backend = \"http\"\n" +
				"  config = { address = \"https://git.example.org/api/v4/projects/42/terraform/state/network\", username = \"gitlab-ci-token\", password = var.state_token }\n}\n"},
			script: "terraform plan",
			uses:   []string{"data.tf:3 terraform-state-read id:42 @job"}},
		{name: "P33 terraform_remote_state on another backend is no GitLab state",
			vars: []ciconfig.Variable{v("TF_VAR_state_token", "$CI_JOB_TOKEN", 3)},
			files: map[string]string{"data.tf": "data \"terraform_remote_state\" \"net\" {\n  backend = \"s3\"\n" +
				"  config = {\n    address = \"https://git.example.org/api/v4/projects/42/terraform/state/network\"\n    password = var.state_token\n  }\n}\n"},
			script: "terraform plan"},
		{name: "hostile: a .tf file HCL cannot parse yields nothing and no panic",
			vars:   tfToken,
			files:  map[string]string{"main.tf": "module \"x\" {{{ source = \"git.example.org/a/b/c\"\n\x00\xff"},
			script: "terraform init"},
	})
}
