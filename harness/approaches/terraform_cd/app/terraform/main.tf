# Approach 4b, Terraform in CD with a service config in the application
# repository: this small config owns the task definition (image tag as a
# variable) and the service; everything shared comes from the central
# infrastructure config (../../infra/terraform) through its state, read with
# terraform_remote_state. CD commits the new tag to the app repository and
# applies only this config.
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

# The central config's outputs. A local state file here; in production the
# same block names the infra team's remote backend (S3...), which CD must be
# allowed to read.
data "terraform_remote_state" "infra" {
  backend = "local"
  config = {
    path = var.infra_state
  }
}

locals {
  infra = data.terraform_remote_state.infra.outputs
  container = {
    name         = var.container_name
    image        = "${local.infra.repository_url}:${var.image_tag}"
    essential    = true
    portMappings = [{ containerPort = local.infra.container_port, hostPort = local.infra.container_port, protocol = "tcp" }]
    environment  = [for k, v in merge({ APP_ENV = var.environment }, var.extra_environment) : { name = k, value = v }]
    secrets      = [for k, v in merge({ APP_SECRET = local.infra.secret_arn }, var.extra_secrets) : { name = k, valueFrom = v }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = local.infra.log_group_name
        awslogs-region        = var.region
        awslogs-stream-prefix = var.container_name
      }
    }
  }
}

resource "aws_ecs_task_definition" "app" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = local.infra.execution_role_arn
  task_role_arn            = local.infra.task_role_arn
  container_definitions    = jsonencode([local.container])
}

resource "aws_ecs_service" "app" {
  name            = var.name
  cluster         = local.infra.cluster_arn
  task_definition = aws_ecs_task_definition.app.arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = var.circuit_breaker
    rollback = var.circuit_breaker
  }

  dynamic "load_balancer" {
    for_each = module.lb
    content {
      target_group_arn = load_balancer.value.target_group_arn
      container_name   = var.container_name
      container_port   = local.infra.container_port
    }
  }
  health_check_grace_period_seconds = var.load_balanced ? 0 : null

  network_configuration {
    subnets          = local.infra.subnet_ids
    security_groups  = [local.infra.security_group_id]
    assign_public_ip = local.infra.assign_public_ip
  }
}

# Behind a load balancer only on demand (the rollback matrix's target-group mode).
module "lb" {
  source             = "../../../terraform/lb"
  count              = var.load_balanced ? 1 : 0
  name               = var.name
  vpc_id             = local.infra.vpc_id
  subnet_ids         = local.infra.subnet_ids
  security_group_ids = [local.infra.security_group_id]
}
