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

variable "public_network" {
  description = <<-EOT
    Give the subnets a route to an internet gateway and the tasks public IPs, so
    that Fargate tasks on real AWS can pull images from ECR and send logs (the
    subnets have no NAT gateway or VPC endpoints). False on emulators, where
    nothing is pulled: the network stays as small as the scenarios need.
  EOT
  type        = bool
  default     = false
}
