# The article's own setup, as its team would keep it in an infrastructure
# repository: Terraform owns a *template* task definition (a placeholder image)
# and the service, which ignores task_definition (CD moves it) and
# desired_count (auto scaling moves it). CD is ../deploy.sh.
terraform {
  required_version = ">= 1.5"
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

resource "aws_ecs_task_definition" "template" {
  family                   = "${var.name}-template"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions = jsonencode([{
    name         = "app"
    image        = "${aws_ecr_repository.app.repository_url}:placeholder" # CD injects the tag
    essential    = true
    portMappings = [{ containerPort = 8080, hostPort = 8080, protocol = "tcp" }]
    environment  = [for k, v in merge({ LOG_LEVEL = "info" }, var.extra_environment) : { name = k, value = v }]
  }])
}

resource "aws_ecs_service" "app" {
  name            = var.name
  cluster         = aws_ecs_cluster.main.arn
  task_definition = aws_ecs_task_definition.template.arn
  desired_count   = 2
  launch_type     = "FARGATE"

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets         = [aws_subnet.private.id]
    security_groups = [aws_security_group.app.id]
  }

  lifecycle {
    ignore_changes = [task_definition, desired_count]
  }
}

output "cluster_name" {
  value = aws_ecs_cluster.main.name
}

output "service_name" {
  value = aws_ecs_service.app.name
}

output "template_family" {
  value = aws_ecs_task_definition.template.family
}

output "repository_name" {
  value = aws_ecr_repository.app.name
}
