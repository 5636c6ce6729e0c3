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

output "zeebe_bridge" {
  description = "Everything the operator CLI reads (zeebe-bridge --tf-dir <this directory>): the bridge's queues, poller and keyring, and each function's queue and DLQ."
  value = merge(module.bridge.operator, {
    functions = { for k, m in module.functions : k => { queue_url = m.queue_url, dlq_url = m.dlq_url, runtime_proxy = m.runtime_proxy_attachment } }
  })
}
