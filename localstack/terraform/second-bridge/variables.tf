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
  description = "Instruction set the zips were built for."
  type        = list(string)
  default     = ["x86_64"]
}

variable "zeebe_address" {
  description = "Address of the local Zeebe engine, as the Lambdas reach it."
  type        = string
  default     = "127.0.0.1:26500"
}

variable "name_prefix" {
  description = "The second bridge's prefix."
  type        = string
  default     = "b-"
}

variable "job_type" {
  description = "The job type the second bridge activates: its own, so that the two bridges share the engine, not its jobs."
  type        = string
  default     = "lambda-b"
}

variable "identifiers" {
  description = "BPMN identifiers of the second bridge's functions, each the noop function (dist/noop.zip) named <prefix><identifier>. The first bridge has some of them too."
  type        = list(string)
}
