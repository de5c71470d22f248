variable "name" {
  description = "Prefix of every resource name; distinct per environment (and per test run)"
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; the subnets are its first two /24s"
  type        = string
  default     = "10.0.0.0/16"
}

variable "container_port" {
  description = "Port the application container listens on"
  type        = number
  default     = 8080
}
