# The smallest ECS service Terraform waits on: `wait_for_steady_state` makes the
# AWS provider poll DescribeServices until the simulator says the rollout is
# done, exactly as it would against ECS.
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
  region = "us-east-1"
}

variable "name" {
  type = string
}

variable "image" {
  type    = string
  default = "nginx:1.27"
}

resource "aws_ecs_cluster" "this" {
  name = var.name
}

resource "aws_ecs_task_definition" "app" {
  family = var.name
  container_definitions = jsonencode([{
    name      = "app"
    image     = var.image
    memory    = 128
    essential = true
  }])
}

resource "aws_ecs_service" "app" {
  name                  = var.name
  cluster               = aws_ecs_cluster.this.arn
  task_definition       = aws_ecs_task_definition.app.arn
  desired_count         = 2
  launch_type           = "EC2"
  wait_for_steady_state = true

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
}

output "service" {
  value = aws_ecs_service.app.name
}
