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
  default     = "dev"
}

variable "container_name" {
  type    = string
  default = "app"
}

variable "container_port" {
  type    = number
  default = 8080
}

variable "placeholder_tag" {
  description = "Image tag of the template; CD replaces the whole image reference"
  type        = string
  default     = "latest"
}

variable "cpu" {
  type    = number
  default = 256
}

variable "memory" {
  type    = number
  default = 512
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
  description = "Initial task count; autoscaling owns it afterwards"
  type        = number
  default     = 2
}

variable "min_count" {
  type    = number
  default = 1
}

variable "max_count" {
  type    = number
  default = 4
}

variable "public_network" {
  description = "Subnets with an internet gateway and tasks with public IPs (real AWS: ECR pulls); see terraform/base"
  type        = bool
  default     = false
}

variable "scaling_suspended" {
  description = "Suspend the scaling policy (a harness run on real AWS, whose idle test app would be scaled in)"
  type        = bool
  default     = false
}
