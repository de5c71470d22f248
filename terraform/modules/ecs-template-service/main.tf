# The template task definition pattern: Terraform owns a *template* (every
# infrastructure setting, placeholder images) and the service; CD
# (ecs-template-deploy) renders the template with the real image into the
# family "<name>", which Terraform does not manage, and moves the service to it.
# So a deploy leaves nothing for Terraform to undo, and an infrastructure change
# here reaches tasks at the next deploy.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

resource "aws_ecs_task_definition" "template" {
  family                   = "${var.name}-template"
  requires_compatibilities = [var.launch_type]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = var.task_role_arn
  container_definitions    = jsonencode(var.container_definitions)
  tags                     = var.tags
}

locals {
  network = {
    subnets          = var.subnets
    security_groups  = var.security_groups
    assign_public_ip = var.assign_public_ip
  }
}

# Two variants because ignore_changes cannot depend on a variable: without
# autoscaling Terraform keeps the count; with it, autoscaling does.
resource "aws_ecs_service" "fixed" {
  count                              = var.autoscaling == null ? 1 : 0
  name                               = var.name
  cluster                            = var.cluster_arn
  task_definition                    = aws_ecs_task_definition.template.arn # only at creation: CD moves it
  desired_count                      = var.desired_count
  launch_type                        = var.launch_type
  deployment_minimum_healthy_percent = var.minimum_healthy_percent
  deployment_maximum_percent         = var.maximum_percent
  health_check_grace_period_seconds  = var.health_check_grace_period_seconds
  tags                               = var.tags

  deployment_circuit_breaker {
    enable   = var.circuit_breaker
    rollback = var.circuit_breaker
  }
  network_configuration {
    subnets          = local.network.subnets
    security_groups  = local.network.security_groups
    assign_public_ip = local.network.assign_public_ip
  }
  dynamic "load_balancer" {
    for_each = var.load_balancer == null ? [] : [var.load_balancer]
    content {
      target_group_arn = load_balancer.value.target_group_arn
      container_name   = load_balancer.value.container_name
      container_port   = load_balancer.value.container_port
    }
  }
  lifecycle {
    ignore_changes = [task_definition] # CD owns the running revision
  }
}

resource "aws_ecs_service" "scaled" {
  count                              = var.autoscaling == null ? 0 : 1
  name                               = var.name
  cluster                            = var.cluster_arn
  task_definition                    = aws_ecs_task_definition.template.arn
  desired_count                      = var.desired_count
  launch_type                        = var.launch_type
  deployment_minimum_healthy_percent = var.minimum_healthy_percent
  deployment_maximum_percent         = var.maximum_percent
  health_check_grace_period_seconds  = var.health_check_grace_period_seconds
  tags                               = var.tags

  deployment_circuit_breaker {
    enable   = var.circuit_breaker
    rollback = var.circuit_breaker
  }
  network_configuration {
    subnets          = local.network.subnets
    security_groups  = local.network.security_groups
    assign_public_ip = local.network.assign_public_ip
  }
  dynamic "load_balancer" {
    for_each = var.load_balancer == null ? [] : [var.load_balancer]
    content {
      target_group_arn = load_balancer.value.target_group_arn
      container_name   = load_balancer.value.container_name
      container_port   = load_balancer.value.container_port
    }
  }
  lifecycle {
    ignore_changes = [task_definition, desired_count] # CD owns the revision, autoscaling the count
  }
}

locals {
  service      = one(concat(aws_ecs_service.fixed, aws_ecs_service.scaled))
  cluster_name = element(split("/", var.cluster_arn), length(split("/", var.cluster_arn)) - 1)
}

resource "aws_appautoscaling_target" "this" {
  count              = var.autoscaling == null ? 0 : 1
  service_namespace  = "ecs"
  resource_id        = "service/${local.cluster_name}/${local.service.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.autoscaling.min_capacity
  max_capacity       = var.autoscaling.max_capacity
}

resource "aws_appautoscaling_policy" "cpu" {
  count              = var.autoscaling == null ? 0 : 1
  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  resource_id        = aws_appautoscaling_target.this[0].resource_id
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value = var.autoscaling.cpu_target
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

# What CD needs, as `ecs-template-deploy policy` prints it for deploy and rollback.
locals {
  ecs_arn = "arn:${data.aws_partition.current.partition}:ecs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  roles   = compact([var.execution_role_arn, var.task_role_arn])
  cd_statements = concat([
    {
      Sid    = "NoResourceScope"
      Effect = "Allow"
      Action = ["cloudwatch:DescribeAlarms", "ecr:DescribeImages", "ecs:DescribeServiceDeployments", "ecs:DescribeTaskDefinition",
        "ecs:DescribeTasks", "ecs:ListTaskDefinitions", "ecs:ListTasks", "ecs:RegisterTaskDefinition", "ecs:RunTask",
      "ecs:StopServiceDeployment"]
      Resource = "*"
    },
    {
      Sid      = "Service"
      Effect   = "Allow"
      Action   = ["ecs:DescribeServices", "ecs:UpdateService"]
      Resource = "${local.ecs_arn}:service/${local.cluster_name}/${var.name}"
    },
    {
      Sid    = "KnownGoodMarks"
      Effect = "Allow"
      Action = ["ecs:ListTagsForResource", "ecs:TagResource"]
      Resource = ["${local.ecs_arn}:service/${local.cluster_name}/${var.name}",
      "${local.ecs_arn}:task-definition/${var.name}:*", "${local.ecs_arn}:task-definition/${var.name}-template:*"]
    },
    ], length(local.roles) == 0 ? [] : [{
      Sid       = "PassTemplateRoles"
      Effect    = "Allow"
      Action    = "iam:PassRole"
      Resource  = local.roles
      Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
  }])
}
