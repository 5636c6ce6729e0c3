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
