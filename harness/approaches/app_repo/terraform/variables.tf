variable "name" {
  description = "Service name and prefix of every resource; distinct per environment and per test run"
  type        = string
  default     = "app"
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "environment" {
  description = "Environment name, passed to the container as APP_ENV"
  type        = string
  default     = "prod"
}

variable "container_name" {
  type    = string
  default = "app"
}

variable "container_port" {
  type    = number
  default = 8080
}

variable "cpu" {
  type    = number
  default = 256
}

variable "memory" {
  description = "Task memory (MiB): the infrastructure change scenarios move it"
  type        = number
  default     = 512
}

variable "extra_environment" {
  description = "Environment variables beside APP_ENV (infrastructure change scenarios add one)"
  type        = map(string)
  default     = {}
}

variable "extra_secrets" {
  description = "Secrets beside APP_SECRET: variable name -> Secrets Manager ARN"
  type        = map(string)
  default     = {}
}

variable "desired_count" {
  type    = number
  default = 2
}

variable "public_network" {
  description = "Subnets with an internet gateway and tasks with public IPs (real AWS: ECR pulls); see terraform/base"
  type        = bool
  default     = false
}
