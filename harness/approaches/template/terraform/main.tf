# Approach 5, the article's own: Terraform owns a *template* task definition
# with a placeholder image and the service; CD reads the template, injects the
# image and registers revisions in another family Terraform does not manage.
# The service ignores task_definition (CD moves it) and desired_count
# (autoscaling moves it), so a deploy leaves nothing for Terraform to undo.
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

  # The deploy tool records known-good revisions in tags (on the revision and,
  # as a pointer, on the service). They are CD's, not drift: without this, the
  # plan after every deploy would remove the service's pointer tag.
  ignore_tags {
    key_prefixes = ["ecs-template-deploy:"]
  }
}

module "base" {
  source         = "../../terraform/base"
  name           = var.name
  container_port = var.container_port
  public_network = var.public_network
}

locals {
  # Everything about the container except the version to run.
  container = {
    name         = var.container_name
    image        = "${module.base.repository_url}:${var.placeholder_tag}"
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

# The template: never run by the service after the first deploy. CD copies it
# into the family "<name>" with the real image.
resource "aws_ecs_task_definition" "template" {
  family                   = "${var.name}-template"
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
  task_definition = aws_ecs_task_definition.template.arn
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
    # CD owns the running revision; autoscaling owns the count.
    ignore_changes = [task_definition, desired_count]
  }
}

resource "aws_appautoscaling_target" "app" {
  service_namespace  = "ecs"
  resource_id        = "service/${module.base.cluster_name}/${aws_ecs_service.app.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_count
  max_capacity       = var.max_count

  # Only where a harness run measures on real AWS: an idle test app's CPU would
  # have target tracking scale it in mid-scenario (the simulator models no CPU).
  dynamic "suspended_state" {
    for_each = var.scaling_suspended ? [1] : []
    content {
      dynamic_scaling_in_suspended  = true
      dynamic_scaling_out_suspended = true
      scheduled_scaling_suspended   = true
    }
  }
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.app.service_namespace
  resource_id        = aws_appautoscaling_target.app.resource_id
  scalable_dimension = aws_appautoscaling_target.app.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = 60
    scale_in_cooldown  = 60
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
