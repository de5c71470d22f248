# The infrastructure every approach shares: network, cluster, IAM roles, image
# repository, secret and log group. Each approach's configuration calls this
# module and adds what it owns (task definitions, service, scaling).
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

# Zones where Fargate runs: no Local or Wavelength Zones, and by zone ID not the
# zones ECS's Fargate Regions page leaves out (us-west-1 and ap-northeast-1 have
# some; zone names map to IDs differently per account).
data "aws_availability_zones" "available" {
  state            = "available"
  exclude_zone_ids = ["usw1-az2", "apne1-az3"]

  filter {
    name   = "zone-type"
    values = ["availability-zone"]
  }
}

# aws, aws-cn or aws-us-gov: the AWS-managed policy's ARN starts with it.
data "aws_partition" "current" {}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

# Two subnets in two zones: Fargate services spread tasks across them.
resource "aws_subnet" "private" {
  count             = 2
  vpc_id            = aws_vpc.this.id
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, count.index)
  availability_zone = data.aws_availability_zones.available.names[count.index]
  tags              = { Name = "${var.name}-private-${count.index}" }
}

# Only with public_network: the way out that real Fargate tasks need to pull
# images (a route in the VPC's main route table, which the subnets use).
resource "aws_internet_gateway" "this" {
  count  = var.public_network ? 1 : 0
  vpc_id = aws_vpc.this.id
  tags   = { Name = var.name }
}

resource "aws_route" "internet" {
  count                  = var.public_network ? 1 : 0
  route_table_id         = aws_vpc.this.main_route_table_id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this[0].id
}

resource "aws_security_group" "service" {
  name        = "${var.name}-service"
  description = "Tasks of ${var.name}: the container port from inside the VPC"
  vpc_id      = aws_vpc.this.id

  ingress {
    description = "container port from the VPC"
    from_port   = var.container_port
    to_port     = var.container_port
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  egress {
    description = "anything out (image pulls, AWS APIs)"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_ecs_cluster" "this" {
  name = var.name
}

resource "aws_ecr_repository" "app" {
  name                 = var.name
  image_tag_mutability = "MUTABLE" # approach 1 moves a tag per environment
  force_delete         = true
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/ecs/${var.name}"
  retention_in_days = 7
}

resource "aws_secretsmanager_secret" "app" {
  name                    = "${var.name}/app"
  description             = "Application secret injected into the container"
  recovery_window_in_days = 0 # so that destroy and re-apply under one name work
}

resource "aws_secretsmanager_secret_version" "app" {
  secret_id     = aws_secretsmanager_secret.app.id
  secret_string = jsonencode({ api_key = "placeholder" })
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# Execution role: what ECS itself needs to start a task (pull, logs, secret).
resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

# The app's secret, and any the infra team adds for it later under its name
# (<name>/...): a secret ARN added to the task definition is useless to the
# tasks until the execution role may read it, and real ECS fails their start.
data "aws_iam_policy_document" "read_secret" {
  statement {
    actions = ["secretsmanager:GetSecretValue"]
    resources = [
      aws_secretsmanager_secret.app.arn,
      "arn:${data.aws_partition.current.partition}:secretsmanager:*:*:secret:${var.name}/*",
    ]
  }
}

resource "aws_iam_role_policy" "execution_read_secret" {
  name   = "read-app-secret"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.read_secret.json
}

# Task role: what the application itself may call (nothing yet).
resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}
