output "template_family" {
  description = "What CD passes as --template"
  value       = aws_ecs_task_definition.template.family
}

output "template_arn" {
  value = aws_ecs_task_definition.template.arn
}

output "target_family" {
  description = "The family CD registers into (Terraform does not manage it)"
  value       = var.name
}

output "cluster_name" {
  value = local.cluster_name
}

output "service_name" {
  value = local.service.name
}

output "cd_policy_json" {
  description = "A least-privilege IAM policy for CD's deploy and rollback (ecs-template-deploy policy prints the same, scoped to the template's ECR repositories too)"
  value       = jsonencode({ Version = "2012-10-17", Statement = local.cd_statements })
}

output "provider_ignore_tag_prefix" {
  description = "Put this in the provider's ignore_tags.key_prefixes: the deploy tool's known-good marks are tags, not drift"
  value       = "ecs-template-deploy:"
}
