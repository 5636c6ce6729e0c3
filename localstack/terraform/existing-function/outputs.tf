output "function_arn" {
  description = "ARN of the existing function the module attached to."
  value       = module.zeebe_ready.function_arn
}

output "queue_url" {
  description = "URL of the queue the module created for it."
  value       = module.zeebe_ready.queue_url
}

output "event_source_mapping_uuid" {
  description = "UUID of the event source mapping the module created."
  value       = module.zeebe_ready.event_source_mapping_uuid
}

output "log_group_name" {
  description = "The function's log group, which existed before."
  value       = module.zeebe_ready.log_group_name
}

output "runtime_proxy_attachment" {
  description = "The module's runtime_proxy_attachment: null for a Go function."
  value       = module.zeebe_ready.runtime_proxy_attachment
}

output "outcomes_queue_url" {
  description = "The queue subscribed to the outcomes topic; null for a Go function."
  value       = one(aws_sqs_queue.outcomes[*].id)
}
