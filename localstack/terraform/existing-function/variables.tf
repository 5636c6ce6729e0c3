variable "localstack_endpoint" {
  description = "LocalStack's endpoint."
  type        = string
  default     = "http://127.0.0.1:4566"
}

variable "region" {
  description = "AWS region LocalStack emulates."
  type        = string
  default     = "us-east-1"
}

variable "function_name" {
  description = "Name of the function that exists before the module is applied (its log group too)."
  type        = string
}

variable "filename" {
  description = "Zip of that function (any function from `make build`)."
  type        = string
}

variable "architectures" {
  description = "Instruction set the zip was built for."
  type        = list(string)
  default     = ["x86_64"]
}

variable "runtime" {
  description = "The function's runtime: provided.al2023 for a Go zip, python3.12 or nodejs20.x for a function that runs behind the bridge's layer."
  type        = string
  default     = "provided.al2023"
}

variable "handler" {
  description = "The function's handler (bootstrap for Go; module.function for Python)."
  type        = string
  default     = "bootstrap"
}

variable "runtime_proxy_layer_filename" {
  description = "Zip of the bridge's layer (dist/zeebe-runtime-proxy.zip): published here, and the module is asked to attach it (attach_runtime_proxy), which `zeebe-bridge attach-layer` then does. Null for a Go function."
  type        = string
  default     = null
}
