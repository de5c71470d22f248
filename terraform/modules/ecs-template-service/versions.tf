terraform {
  required_version = ">= 1.7" # terraform test with mock_provider (tests/)
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}
