# Approach 4a, Terraform in CD with the central config: Terraform owns
# everything, the image tag included (a variable). CD deploys by committing the
# new tag to this repository and running `terraform apply -var image_tag=N` on
# the whole configuration, shared infrastructure and all; it rolls back by
# applying the previous tag. Nothing is ignored: CD *is* Terraform.
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
  source         = "../../terraform/base"
  name           = var.name
  container_port = var.container_port
  public_network = var.public_network
}

locals {
  container = {
    name         = var.container_name
    image        = "${module.base.repository_url}:${var.image_tag}"
    essential    = true
    portMappings = [{ containerPort = var.container_port, hostPort = var.container_port, protocol = "tcp" }]
    environment  = [for k, v in merge({ APP_ENV = var.environment }, var.extra_environment) : { name = k, value = v }]
    secrets      = [for k, v in merge({ APP_SECRET = module.base.secret_arn }, var.extra_secrets) : { name = k, valueFrom = v }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = module.base.log_group_name
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
  execution_role_arn       = module.base.execution_role_arn
  task_role_arn            = module.base.task_role_arn
  container_definitions    = jsonencode([local.container])
}

resource "aws_ecs_service" "app" {
  name            = var.name
  cluster         = module.base.cluster_arn
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
      container_port   = var.container_port
    }
  }
  health_check_grace_period_seconds = var.load_balanced ? 0 : null

  network_configuration {
    subnets          = module.base.subnet_ids
    security_groups  = [module.base.security_group_id]
    assign_public_ip = module.base.assign_public_ip
  }
}

# Behind a load balancer only on demand (the rollback matrix's target-group mode).
module "lb" {
  source             = "../../terraform/lb"
  count              = var.load_balanced ? 1 : 0
  name               = var.name
  vpc_id             = module.base.vpc_id
  subnet_ids         = module.base.subnet_ids
  security_group_ids = [module.base.security_group_id]
}
