output "function_name" {
  description = "Name of the function (also when it exists already)."
  # Read from the function, so that whatever refers to it by name waits for it.
  value = try(aws_lambda_function.this[0].function_name, var.function_name)
}

output "function_arn" {
  description = "ARN of the function the module created; null when create_function is false."
  value       = try(aws_lambda_function.this[0].arn, null)
}

output "timeout" {
  description = "Timeout of the function the module created, in seconds; null when create_function is false."
  value       = try(aws_lambda_function.this[0].timeout, null)
}

output "role_arn" {
  description = "ARN of the role the module created; null when create_function is false."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "role_name" {
  description = "Name of the role that carries the inline policy: the one the module created, or existing_role_name."
  value       = local.role_name
}

output "log_group_name" {
  description = "Name of the log group the module created; null when create_function is false."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}

output "log_group_arn" {
  description = "ARN of the log group the module created; null when create_function is false."
  value       = try(aws_cloudwatch_log_group.this[0].arn, null)
}
