output "bridge_name" {
  value = module.bridge.bridge_name
}

output "outcomes_topic_arn" {
  value = module.bridge.outcomes_topic_arn
}

output "outcomes_dlq_url" {
  value = module.bridge.outcomes_dlq_url
}

output "job_token_secret_arn" {
  value = module.bridge.job_token_secret_arn
}

output "poller_function_name" {
  value = module.bridge.poller_function_name
}

output "functions" {
  description = "Identifier to function name and log group."
  value = { for id, f in module.functions : id => {
    function_name  = f.function_name
    log_group_name = f.log_group_name
    queue_name     = f.queue_name
  } }
}
