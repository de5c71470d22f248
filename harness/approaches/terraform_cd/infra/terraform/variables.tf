variable "name" {
  description = "Prefix of every shared resource; distinct per environment and per test run"
  type        = string
  default     = "app"
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "container_port" {
  type    = number
  default = 8080
}

variable "public_network" {
  description = "Subnets with an internet gateway and tasks with public IPs (real AWS: ECR pulls); see terraform/base"
  type        = bool
  default     = false
}
