# An internal Application Load Balancer in front of a service: one target group
# (IP targets, as awsvpc tasks register) and a listener forwarding to it. Used
# by configurations that put their service behind a load balancer on demand
# (approach 4's `load_balanced`), so that the failure modes a target group's
# health checks see can be measured for them too.
#
# The health check and drain are AWS's defaults for an HTTP target group
# (interval 30 s, 5 healthy, 2 unhealthy, 300 s deregistration delay), spelled
# out because the provider's own defaults differ (3 and 3): the simulator times
# tasks by these, as it does the boto3-built worlds' target groups.

variable "name" {
  description = "Prefix of the load balancer's and target group's names"
  type        = string
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  description = "At least two subnets in two zones (an ALB needs both)"
  type        = list(string)
}

variable "security_group_ids" {
  type = list(string)
}

resource "aws_lb" "this" {
  name               = var.name
  internal           = true
  load_balancer_type = "application"
  subnets            = var.subnet_ids
  security_groups    = var.security_group_ids
}

resource "aws_lb_target_group" "this" {
  name                 = "${var.name}-tg"
  port                 = 80
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 300

  health_check {
    interval            = 30
    healthy_threshold   = 5
    unhealthy_threshold = 2
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }
}

output "target_group_arn" {
  value = aws_lb_target_group.this.arn
}
