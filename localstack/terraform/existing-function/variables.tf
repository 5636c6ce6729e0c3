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
