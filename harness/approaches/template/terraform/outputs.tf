output "cluster_name" {
  value = module.base.cluster_name
}

output "service_name" {
  value = aws_ecs_service.app.name
}

output "template_family" {
  value = aws_ecs_task_definition.template.family
}

output "template_arn" {
  value = aws_ecs_task_definition.template.arn
}

output "repository_url" {
  value = module.base.repository_url
}

output "repository_name" {
  value = module.base.repository_name
}

output "container_name" {
  value = var.container_name
}
