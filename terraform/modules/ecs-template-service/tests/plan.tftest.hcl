# Plan-level checks with a mocked provider: offline, no AWS, no emulator.
mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  name        = "web"
  cluster_arn = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"
  subnets     = ["subnet-1"]
  container_definitions = [{
    name      = "web"
    image     = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:placeholder"
    essential = true
  }]
}

run "template_and_service_without_autoscaling" {
  command = plan
  assert {
    condition     = aws_ecs_task_definition.template.family == "web-template"
    error_message = "the template family is <name>-template"
  }
  assert {
    condition     = length(aws_ecs_service.fixed) == 1 && length(aws_ecs_service.scaled) == 0 && length(aws_appautoscaling_target.this) == 0
    error_message = "without autoscaling: the fixed-count service, no scalable target"
  }
  assert {
    condition     = aws_ecs_service.fixed[0].deployment_circuit_breaker[0].enable && aws_ecs_service.fixed[0].deployment_circuit_breaker[0].rollback
    error_message = "the circuit breaker with rollback is on by default"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.template.container_definitions)[0].image == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:placeholder"
    error_message = "the template keeps the placeholder image"
  }
  assert {
    condition     = output.target_family == "web" && output.template_family == "web-template" && output.cluster_name == "prod"
    error_message = "outputs name what CD passes"
  }
  assert {
    condition     = [for s in jsondecode(output.cd_policy_json).Statement : s.Resource if s.Sid == "Service"][0] == "arn:aws:ecs:eu-west-1:123456789012:service/prod/web"
    error_message = "the CD policy scopes UpdateService to this service"
  }
  assert {
    condition     = [for s in jsondecode(output.cd_policy_json).Statement : s.Condition if s.Sid == "RunTargetFamilyInCluster"][0] == { ArnEquals = { "ecs:cluster" = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod" } }
    error_message = "RunTask is allowed only in the service's cluster"
  }
  assert {
    condition     = [for s in jsondecode(output.cd_policy_json).Statement : s.Resource if s.Sid == "EcrRepositories"][0] == ["arn:aws:ecr:eu-west-1:123456789012:repository/web"]
    error_message = "the image check reads only the template's repository"
  }
  assert {
    condition     = alltrue([for s in jsondecode(output.cd_policy_json).Statement : s.Resource != "*" || s.Sid == "NoResourceTypeInIam" || s.Sid == "ListInCluster"])
    error_message = "\"*\" only where IAM has no resource type (or ListTasks, narrowed by ecs:cluster)"
  }
  assert {
    condition     = output.provider_ignore_tag_prefix == "ecs-template-deploy:"
    error_message = "the tag prefix to ignore is the deploy tool's"
  }
}

run "with_autoscaling_the_count_belongs_to_autoscaling" {
  command = plan
  variables {
    autoscaling = { min_capacity = 2, max_capacity = 6 }
  }
  assert {
    condition     = length(aws_ecs_service.fixed) == 0 && length(aws_ecs_service.scaled) == 1
    error_message = "with autoscaling: the service that ignores desired_count"
  }
  assert {
    condition     = aws_appautoscaling_target.this[0].resource_id == "service/prod/web" && aws_appautoscaling_policy.cpu[0].target_tracking_scaling_policy_configuration[0].target_value == 60
    error_message = "the scalable target and a CPU target tracking policy (default 60 %)"
  }
}

run "roles_are_passed_only_to_ecs_tasks" {
  command = plan
  variables {
    execution_role_arn = "arn:aws:iam::123456789012:role/web-execution"
  }
  assert {
    condition     = [for s in jsondecode(output.cd_policy_json).Statement : s.Resource if s.Sid == "PassTemplateRoles"][0] == ["arn:aws:iam::123456789012:role/web-execution"]
    error_message = "PassRole names the template's roles"
  }
}

run "a_template_family_name_is_refused" {
  command = plan
  variables {
    name = "web-template"
  }
  expect_failures = [var.name]
}

run "containers_without_an_image_are_refused" {
  command = plan
  variables {
    container_definitions = [{ name = "web" }]
  }
  expect_failures = [var.container_definitions]
}

run "autoscaling_min_above_max_is_refused" {
  command = plan
  variables {
    autoscaling = { min_capacity = 5, max_capacity = 2 }
  }
  expect_failures = [var.autoscaling]
}
