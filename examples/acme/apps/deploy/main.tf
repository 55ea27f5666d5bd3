terraform {
  # Address and credentials come from TF_HTTP_* (.gitlab-ci.yml).
  backend "http" {}
}

variable "state_token" {
  type      = string
  sensitive = true
}

# The network layer's outputs, from its own state in infra/tfstate.
data "terraform_remote_state" "network" {
  backend = "http"
  config = {
    address  = "https://gitlab.acme.example/api/v4/projects/401/terraform/state/network"
    username = "gitlab-ci-token"
    password = var.state_token
  }
}

module "vpc" {
  source  = "gitlab.acme.example/infra/vpc/aws"
  version = "1.3.0"

  cidr_block = "10.20.0.0/16"
}

output "subnet_ids" {
  value = data.terraform_remote_state.network.outputs.subnet_ids
}
