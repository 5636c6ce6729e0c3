output "jobs_topic_arn" {
  description = "ARN of the zeebe_jobs topic."
  value       = module.bridge.jobs_topic_arn
}

output "outcomes_topic_arn" {
  description = "ARN of the zeebe_jobs2complete topic."
  value       = module.bridge.outcomes_topic_arn
}

output "outcomes_queue_url" {
  description = "URL of the fulfiller's queue."
  value       = module.bridge.outcomes_queue_url
}

output "outcomes_dlq_url" {
  description = "URL of the fulfiller queue's DLQ."
  value       = module.bridge.outcomes_dlq_url
}

output "poller_function_name" {
  description = "Name of the poller function."
  value       = module.bridge.poller_function_name
}

output "fulfiller_function_name" {
  description = "Name of the fulfiller function."
  value       = module.bridge.fulfiller_function_name
}

output "returner_function_name" {
  description = "Name of the returner function."
  value       = module.bridge.returner_function_name
}

output "poller_schedule_rule_name" {
  description = "EventBridge rule that starts the poller."
  value       = module.bridge.poller_schedule_rule_name
}

output "poller_schedule_expression" {
  description = "Schedule of the poller."
  value       = module.bridge.poller_schedule_expression
}

output "functions" {
  description = "Per function: its name, ARN, log group, queue and DLQ."
  value = { for k, m in module.functions : k => {
    function_name  = m.function_name
    function_arn   = m.function_arn
    log_group_name = m.log_group_name
    queue_url      = m.queue_url
    dlq_url        = m.dlq_url
  } }
}

output "job_token_secret_arn" {
  description = "ARN of the job token keyring secret."
  value       = module.bridge.job_token_secret_arn
}

output "zeebe_bridge" {
  description = "Everything the operator CLI reads (zeebe-bridge --tf-dir <this directory>): the bridge's queues, poller and keyring, and each function's queue and DLQ."
  value = merge(module.bridge.operator, {
    functions = { for k, m in module.functions : k => { queue_url = m.queue_url, dlq_url = m.dlq_url, runtime_proxy = m.runtime_proxy_attachment } }
  })
}

output "payload_bucket" {
  description = "Bucket of offloaded payloads."
  value       = module.bridge.payloads.bucket_name
}

output "callback_function_url" {
  description = "URL of the callback function."
  value       = module.bridge.callback_function_url
}

output "long_work_queue_url" {
  description = "URL of the long-work queue; null when long-work is not deployed."
  value       = one(aws_sqs_queue.long_work[*].url)
}

output "long_work_finish_log_group" {
  description = "Log group of long-work-finish; null when long-work is not deployed."
  value       = one(module.long_work_finish[*].log_group_name)
}

output "business_events_topic_arn" {
  description = "ARN of the topic whose business events echo and chaos-py take on their job queues."
  value       = aws_sns_topic.business_events.arn
}
