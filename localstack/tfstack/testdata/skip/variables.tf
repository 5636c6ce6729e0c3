variable "localstack_endpoint" {
  description = "LocalStack's endpoint."
  type        = string
}

variable "topic" {
  description = "The topic's name."
  type        = string
}
