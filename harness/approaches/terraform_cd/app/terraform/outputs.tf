output "cluster_name" {
  value = local.infra.cluster_name
}

output "service_name" {
  value = aws_ecs_service.app.name
}

output "repository_url" {
  value = local.infra.repository_url
}

output "repository_name" {
  value = local.infra.repository_name
}

output "container_name" {
  value = var.container_name
}

output "family" {
  value = aws_ecs_task_definition.app.family
}

output "image_tag" {
  value = var.image_tag
}
