output "vpc_id" {
  value = module.base.vpc_id
}

output "subnet_ids" {
  value = module.base.subnet_ids
}

output "security_group_id" {
  value = module.base.security_group_id
}

output "cluster_name" {
  value = module.base.cluster_name
}

output "cluster_arn" {
  value = module.base.cluster_arn
}

output "repository_url" {
  value = module.base.repository_url
}

output "repository_name" {
  value = module.base.repository_name
}

output "log_group_name" {
  value = module.base.log_group_name
}

output "secret_arn" {
  value = module.base.secret_arn
}

output "execution_role_arn" {
  value = module.base.execution_role_arn
}

output "task_role_arn" {
  value = module.base.task_role_arn
}

output "container_port" {
  value = module.base.container_port
}

output "assign_public_ip" {
  value = module.base.assign_public_ip
}
