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

# What CD needs, as `ecs-template-deploy policy --command deploy --command rollback` prints
# it: every action scoped to the resource types and condition keys IAM lists for it.
locals {
  ecs_arn     = "arn:${data.aws_partition.current.partition}:ecs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  service_arn = "${local.ecs_arn}:service/${local.cluster_name}/${var.name}"
  in_cluster  = { ArnEquals = { "ecs:cluster" = "${local.ecs_arn}:cluster/${local.cluster_name}" } }
  family_arn  = "${local.ecs_arn}:task-definition/${var.name}:*"
  roles       = compact([var.execution_role_arn, var.task_role_arn])
  # the template's ECR repositories, where the deploy tool checks that an image was pushed
  ecr_repositories = distinct([for m in [for c in var.container_definitions :
    try(regex("^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/([^:@]+)", c.image), null)] :
  "arn:${data.aws_partition.current.partition}:ecr:${m[1]}:${m[0]}:repository/${m[2]}" if m != null])
  cd_statements = concat([
    {
      Sid      = "Service"
      Effect   = "Allow"
      Action   = ["ecs:DescribeServices", "ecs:UpdateService"]
      Resource = local.service_arn
    },
    {
      # IAM authorizes these on the service and on the deployment named: both are required
      Sid      = "ServiceDeployments"
      Effect   = "Allow"
      Action   = ["ecs:DescribeServiceDeployments", "ecs:StopServiceDeployment"]
      Resource = [local.service_arn, "${local.ecs_arn}:service-deployment/${local.cluster_name}/${var.name}/*"]
    },
    {
      Sid      = "RegisterTargetFamily"
      Effect   = "Allow"
      Action   = "ecs:RegisterTaskDefinition"
      Resource = local.family_arn
    },
    {
      # the task definition ARN does not say where it runs: ecs:cluster does
      Sid       = "RunTargetFamilyInCluster"
      Effect    = "Allow"
      Action    = "ecs:RunTask"
      Resource  = local.family_arn
      Condition = local.in_cluster
    },
    {
      Sid       = "ClusterTasks"
      Effect    = "Allow"
      Action    = "ecs:DescribeTasks"
      Resource  = "${local.ecs_arn}:task/${local.cluster_name}/*"
      Condition = local.in_cluster
    },
    {
      # IAM gives ListTasks only container-instance (a call filtered by one): "*", narrowed by the cluster
      Sid       = "ListInCluster"
      Effect    = "Allow"
      Action    = "ecs:ListTasks"
      Resource  = "*"
      Condition = local.in_cluster
    },
    {
      Sid      = "KnownGoodMarks"
      Effect   = "Allow"
      Action   = ["ecs:ListTagsForResource", "ecs:TagResource"]
      Resource = [local.service_arn, local.family_arn, "${local.ecs_arn}:task-definition/${var.name}-template:*"]
    },
    {
      Sid      = "Alarms"
      Effect   = "Allow"
      Action   = "cloudwatch:DescribeAlarms"
      Resource = "arn:${data.aws_partition.current.partition}:cloudwatch:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:alarm:*"
    },
    {
      # IAM gives these no resource type and no condition key
      Sid      = "NoResourceTypeInIam"
      Effect   = "Allow"
      Action   = ["ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions"]
      Resource = "*"
    },
    ], length(local.ecr_repositories) == 0 ? [] : [{
      Sid      = "EcrRepositories"
      Effect   = "Allow"
      Action   = "ecr:DescribeImages"
      Resource = local.ecr_repositories
      }], length(local.roles) == 0 ? [] : [{
      Sid       = "PassTemplateRoles"
      Effect    = "Allow"
      Action    = "iam:PassRole"
      Resource  = local.roles
      Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
  }])
}
