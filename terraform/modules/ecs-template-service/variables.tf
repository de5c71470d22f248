variable "name" {
  description = "The service's name; also the task definition family CD registers into (the template is \"<name>-template\")"
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,245}$", var.name)) && !endswith(var.name, "-template")
    error_message = "name must be letters, digits, '-' and '_' (at most 246), not ending in -template: the template family is <name>-template."
  }
}

variable "cluster_arn" {
  description = "ARN of the ECS cluster the service runs in"
  type        = string
}

variable "container_definitions" {
  description = "The template's containers, as ECS takes them (list of objects); images carry a placeholder tag that CD replaces"
  type        = any
  validation {
    condition     = can(length(var.container_definitions)) && length(var.container_definitions) > 0 && alltrue([for c in var.container_definitions : can(c.name) && can(c.image)])
    error_message = "container_definitions must be a non-empty list of containers, each with a name and an image (a placeholder tag: CD injects the real one)."
  }
}

variable "cpu" {
  description = "Task CPU units"
  type        = number
  default     = 256
}

variable "memory" {
  description = "Task memory (MiB)"
  type        = number
  default     = 512
}

variable "execution_role_arn" {
  description = "Task execution role (pulls images, reads secrets); CD may pass it (iam:PassRole)"
  type        = string
  default     = null
}

variable "task_role_arn" {
  description = "Task role of the application; CD may pass it (iam:PassRole)"
  type        = string
  default     = null
}

variable "launch_type" {
  description = "FARGATE or EC2"
  type        = string
  default     = "FARGATE"
  validation {
    condition     = contains(["FARGATE", "EC2"], var.launch_type)
    error_message = "launch_type must be FARGATE or EC2."
  }
}

variable "subnets" {
  description = "Subnets of the tasks (awsvpc)"
  type        = list(string)
}

variable "security_groups" {
  description = "Security groups of the tasks"
  type        = list(string)
  default     = []
}

variable "assign_public_ip" {
  description = "Give tasks a public IP (Fargate in public subnets)"
  type        = bool
  default     = false
}

variable "desired_count" {
  description = "Tasks at creation; with autoscaling, autoscaling owns the count afterwards"
  type        = number
  default     = 2
}

variable "minimum_healthy_percent" {
  type    = number
  default = 100
}

variable "maximum_percent" {
  type    = number
  default = 200
  validation {
    condition     = var.maximum_percent >= 100
    error_message = "maximum_percent must be at least 100."
  }
}

variable "circuit_breaker" {
  description = "ECS's deployment circuit breaker with rollback: on by default, so ECS stops a failing rollout even without CD"
  type        = bool
  default     = true
}

variable "health_check_grace_period_seconds" {
  type    = number
  default = null
}

variable "load_balancer" {
  description = "Optional: the target group the service registers with"
  type = object({
    target_group_arn = string
    container_name   = string
    container_port   = number
  })
  default = null
}

variable "autoscaling" {
  description = "Optional: target tracking on average CPU; then Terraform ignores desired_count after creation"
  type = object({
    min_capacity = number
    max_capacity = number
    cpu_target   = optional(number, 60)
  })
  default = null
  validation {
    condition     = var.autoscaling == null || try(var.autoscaling.min_capacity <= var.autoscaling.max_capacity, false)
    error_message = "autoscaling.min_capacity must not exceed autoscaling.max_capacity."
  }
}

variable "tags" {
  type    = map(string)
  default = {}
}
