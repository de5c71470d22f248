# Approach 4b, the central infrastructure config: only what the service
# shares with others (network, cluster, roles, repository, secret, log group).
# The service and its task definition live in the app repository's own config
# (../../app/terraform), which reads this config's outputs from its state.
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  region = var.region
}

module "base" {
  source         = "../../../terraform/base"
  name           = var.name
  container_port = var.container_port
  public_network = var.public_network
}
