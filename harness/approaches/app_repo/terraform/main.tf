# Approach 3, container definition in the app repo: Terraform owns the service
# (and the shared infrastructure) only. The service is created with a dummy
# task definition; the real one lives in the application repository
# (../taskdef.json), which CD renders with the image and registers.
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

# Only there so the service can be created; CD replaces it on the first deploy.
resource "aws_ecs_task_definition" "bootstrap" {
  family                   = "${var.name}-bootstrap"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = module.base.execution_role_arn
  container_definitions = jsonencode([{
    name      = var.container_name
    image     = "${module.base.repository_url}:bootstrap"
    essential = true
  }])
}

resource "aws_ecs_service" "app" {
  name            = var.name
  cluster         = module.base.cluster_arn
  task_definition = aws_ecs_task_definition.bootstrap.arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = module.base.subnet_ids
    security_groups  = [module.base.security_group_id]
    assign_public_ip = module.base.assign_public_ip
  }

  lifecycle {
    ignore_changes = [task_definition]
  }
}
