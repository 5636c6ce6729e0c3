variable "target" {
  description = "Where to deploy: \"aws\" or \"localstack\"."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "localstack"], var.target)
    error_message = "target must be \"aws\" or \"localstack\"."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "localstack_endpoint" {
  description = "LocalStack's endpoint when target is localstack."
  type        = string
  default     = "http://127.0.0.1:4566"
}

variable "dist" {
  description = "Directory with the zips from `make build` (GOARCH_LAMBDA must match architectures)."
  type        = string
  default     = "../../../dist"
}

variable "architectures" {
  description = "[\"x86_64\"] (what `make build` builds by default) or [\"arm64\"] (build with GOARCH_LAMBDA=arm64)."
  type        = list(string)
  default     = ["x86_64"]
}

variable "zeebe_address" {
  description = "Zeebe gateway address."
  type        = string
  default     = "127.0.0.1:26500"
}

variable "zeebe_client_id" {
  description = "OAuth client id (Camunda SaaS); null for a local engine."
  type        = string
  default     = null
}

variable "zeebe_client_secret_arn" {
  description = "Secrets Manager ARN of the OAuth client secret."
  type        = string
  default     = null
}

variable "zeebe_authorization_server_url" {
  description = "OAuth token URL."
  type        = string
  default     = null
}

variable "zeebe_insecure_connection" {
  description = "Plaintext gRPC (local engine)."
  type        = bool
  default     = false
}

variable "poller_schedule" {
  description = "Poller schedule."
  type        = string
  default     = "rate(14 minutes)"
}

variable "poller_timeout" {
  description = "Poller timeout in seconds."
  type        = number
  default     = 900
}

variable "poller_safety_margin" {
  description = "Poller safety margin (Go duration)."
  type        = string
  default     = "30s"
}

variable "retry_backoff" {
  description = "Backoff before Zeebe retries a failed job (Go duration)."
  type        = string
  default     = "5s"
}
