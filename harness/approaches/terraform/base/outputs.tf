output "vpc_id" {
  value = aws_vpc.this.id
}

output "subnet_ids" {
  value = aws_subnet.private[*].id
}

output "security_group_id" {
  value = aws_security_group.service.id
}

output "cluster_name" {
  value = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  value = aws_ecs_cluster.this.arn
}

output "repository_url" {
  value = aws_ecr_repository.app.repository_url
}

output "repository_name" {
  value = aws_ecr_repository.app.name
}

output "log_group_name" {
  value = aws_cloudwatch_log_group.app.name
}

output "secret_arn" {
  value = aws_secretsmanager_secret.app.arn
}

output "execution_role_arn" {
  value = aws_iam_role.execution.arn
}

output "task_role_arn" {
  value = aws_iam_role.task.arn
}

output "container_port" {
  value = var.container_port
}

output "assign_public_ip" {
  description = "What the services' network_configuration says: public IPs only with public_network"
  value       = var.public_network
}
