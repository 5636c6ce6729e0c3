variable "localstack_endpoint" {
  description = "LocalStack's endpoint (localstack/stack up; AWS_ENDPOINT_URL)."
  type        = string
  default     = "http://127.0.0.1:4566"
}

variable "region" {
  description = "AWS region LocalStack emulates."
  type        = string
  default     = "us-east-1"
}

variable "dist" {
  description = "Absolute path of the directory with the zips from `make build`."
  type        = string
}

variable "architectures" {
  description = "Instruction set the zips were built for (GOARCH_LAMBDA amd64 = x86_64)."
  type        = list(string)
  default     = ["x86_64"]
}

variable "functions" {
  description = "Functions to make Zeebe-ready: name (= BPMN identifier, zip dist/<name>.zip) to timeout in seconds, and runtime and handler for one that is not Go. localstack/tfstack passes internal/examples/catalog."
  type = map(object({
    timeout = number
    runtime = optional(string, "provided.al2023")
    handler = optional(string, "bootstrap")
  }))
}

variable "zeebe_address" {
  description = "Address of the local Zeebe engine, as the Lambdas (host processes) reach it."
  type        = string
  default     = "127.0.0.1:26500"
}

variable "retry_backoff" {
  description = "Backoff before Zeebe hands a failed job out again (short, so retries show quickly)."
  type        = string
  default     = "1s"
}

variable "otel_exporter_otlp_endpoint" {
  description = "OTLP/HTTP endpoint every function exports its spans to (the end-to-end tests start a collector); null records none."
  type        = string
  default     = null
}

variable "otel_exporter_otlp_headers" {
  description = "Headers of every OTLP export (key=value,...), with otel_exporter_otlp_endpoint: kept in a Secrets Manager secret whose ARN the modules get as otel_headers_secret_arn, as a user would keep an API key; null sends none."
  type        = string
  default     = null
  sensitive   = true
}
