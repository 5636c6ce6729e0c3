output "jobs_topic_arn" {
  description = "ARN of the zeebe_jobs topic."
  value       = module.bridge.jobs_topic_arn
}

output "outcomes_topic_arn" {
  description = "ARN of the zeebe_jobs2complete topic."
  value       = module.bridge.outcomes_topic_arn
}

output "function_queues" {
  description = "Queue and DLQ ARNs per function."
  value       = { for k, m in module.functions : k => { queue = m.queue_arn, dlq = m.dlq_arn } }
}
