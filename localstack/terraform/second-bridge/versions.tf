terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }

  # The state lives under .local/ (git-ignored): localstack/tfstack passes
  # its path with -backend-config at init.
  backend "local" {}
}
