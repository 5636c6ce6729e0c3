output "bridge_name" {
  description = "The second bridge's name: the Bridge dimension of its metrics."
  value       = module.bridge.bridge_name
}

output "outcomes_topic_arn" {
  description = "The second bridge's outcomes topic."
  value       = module.bridge.outcomes_topic_arn
}

output "outcomes_dlq_url" {
  description = "The second bridge's outcomes DLQ."
  value       = module.bridge.outcomes_dlq_url
}

output "job_token_secret_arn" {
  description = "The second bridge's keyring."
  value       = module.bridge.job_token_secret_arn
}

output "poller_function_name" {
  description = "The second bridge's poller."
  value       = module.bridge.poller_function_name
}

output "functions" {
  description = "Identifier to function name, log group and queue name."
  value = { for id, f in module.functions : id => {
    function_name  = f.function_name
    log_group_name = f.log_group_name
    queue_name     = f.queue_name
  } }
}
