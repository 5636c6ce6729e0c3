output "function_arn" {
  description = "ARN of the Zeebe-ready function."
  value       = local.function_arn
}

output "function_name" {
  description = "Name of the function, also its BPMN task header `identifier`."
  value       = var.function_name
}

output "log_group_name" {
  description = "The function's CloudWatch log group (the module creates it only with the function)."
  value       = "/aws/lambda/${var.function_name}"
}

output "role_arn" {
  description = "ARN of the execution role the module created (null when attaching to an existing function)."
  value       = module.lambda.role_arn
}

output "queue_arn" {
  description = "ARN of the function's queue zeebe_<function_name>."
  value       = aws_sqs_queue.this.arn
}

output "queue_name" {
  description = "Name of the function's queue."
  value       = aws_sqs_queue.this.name
}

output "queue_url" {
  description = "URL of the function's queue."
  value       = aws_sqs_queue.this.id
}

output "dlq_arn" {
  description = "ARN of the function's dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_name" {
  description = "Name of the function's dead-letter queue."
  value       = aws_sqs_queue.dlq.name
}

output "dlq_url" {
  description = "URL of the function's dead-letter queue."
  value       = aws_sqs_queue.dlq.id
}

output "subscription_arn" {
  description = "ARN of the filtered subscription to zeebe_jobs."
  value       = aws_sns_topic_subscription.this.arn
}

output "event_source_mapping_uuid" {
  description = "UUID of the SQS event source mapping."
  value       = aws_lambda_event_source_mapping.this.uuid
}

output "runtime_proxy_attachment" {
  description = "With attach_runtime_proxy: what an existing function needs to run behind the bridge's layer, the layer's ARN and the environment (AWS_LAMBDA_EXEC_WRAPPER, the outcomes topic, the payload bucket, the bridge's name), for `zeebe-bridge attach-layer` (merge it into the root's zeebe_bridge output as functions.<name>.runtime_proxy). Null otherwise."
  value = var.attach_runtime_proxy ? {
    layer_arn   = var.runtime_proxy_layer_arn
    environment = merge(local.bridge_environment, { AWS_LAMBDA_EXEC_WRAPPER = "/opt/zeebe-runtime-proxy" })
  } : null
}
