# The module with what it needs around it: a network, a cluster, an image
# repository and an execution role. `terraform apply`, then deploy with
#   ecs-template-deploy deploy --cluster <cluster> --service <name> --template <name>-template --tag <tag>
terraform {
  required_version = ">= 1.7"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0, < 7.0" }
  }
}

variable "name" {
  type    = string
  default = "web"
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "extra_environment" {
  description = "Environment variables of the container beside LOG_LEVEL: the infrastructure team's to change"
  type        = map(string)
  default     = {}
}

provider "aws" {
  region = var.region
  ignore_tags {
    key_prefixes = ["ecs-template-deploy:"] # the deploy tool's known-good marks (module output provider_ignore_tag_prefix)
  }
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "private" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.0.1.0/24"
}

resource "aws_security_group" "app" {
  name   = "${var.name}-app"
  vpc_id = aws_vpc.main.id
}

resource "aws_ecs_cluster" "main" {
  name = "${var.name}-cluster"
}

resource "aws_ecr_repository" "app" {
  name = var.name
}

resource "aws_iam_role" "execution" {
  name = "${var.name}-execution"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ecs-tasks.amazonaws.com" } }]
  })
}

module "service" {
  source             = "../.."
  name               = var.name
  cluster_arn        = aws_ecs_cluster.main.arn
  subnets            = [aws_subnet.private.id]
  security_groups    = [aws_security_group.app.id]
  execution_role_arn = aws_iam_role.execution.arn
  container_definitions = [{
    name         = "app"
    image        = "${aws_ecr_repository.app.repository_url}:placeholder" # CD injects the tag
    essential    = true
    portMappings = [{ containerPort = 8080, hostPort = 8080, protocol = "tcp" }]
    environment  = [for k, v in merge({ LOG_LEVEL = "info" }, var.extra_environment) : { name = k, value = v }]
  }]
}

output "cluster_name" {
  value = module.service.cluster_name
}

output "service_name" {
  value = module.service.service_name
}

output "template_family" {
  value = module.service.template_family
}

output "repository_name" {
  value = aws_ecr_repository.app.name
}

output "cd_policy_json" {
  value = module.service.cd_policy_json
}
