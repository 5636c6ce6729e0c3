output "job_timeout_seconds" {
  description = "job_timeout in seconds (null when it is not written in h, m and s): pass it to modules/zeebe-lambda's job_timeout_seconds, which refuses a function timeout longer than it."
  value       = local.job_timeout_seconds
}

output "jobs_topic_arn" {
  description = "ARN of the zeebe_jobs topic; pass it to each zeebe-lambda module."
  value       = aws_sns_topic.jobs.arn
}

output "outcomes_topic_arn" {
  description = "ARN of the zeebe_jobs2complete topic; pass it to each zeebe-lambda module."
  value       = aws_sns_topic.outcomes.arn
}

output "outcomes_queue_arn" {
  description = "ARN of the fulfiller's queue."
  value       = aws_sqs_queue.outcomes.arn
}

output "outcomes_dlq_arn" {
  description = "ARN of the fulfiller queue's DLQ."
  value       = aws_sqs_queue.outcomes_dlq.arn
}

output "poller_function_arn" {
  description = "ARN of the poller function."
  value       = module.poller.function_arn
}

output "fulfiller_function_arn" {
  description = "ARN of the fulfiller function."
  value       = module.fulfiller.function_arn
}

output "outcomes_queue_url" {
  description = "URL of the fulfiller's queue."
  value       = aws_sqs_queue.outcomes.id
}

output "outcomes_dlq_url" {
  description = "URL of the fulfiller queue's DLQ."
  value       = aws_sqs_queue.outcomes_dlq.id
}

output "poller_function_name" {
  description = "Name of the poller function (also the worker name Zeebe records for the jobs it activates)."
  value       = module.poller.function_name
}

output "fulfiller_function_name" {
  description = "Name of the fulfiller function."
  value       = module.fulfiller.function_name
}

output "poller_schedule_rule_name" {
  description = "Name of the EventBridge rule that starts the poller."
  value       = aws_cloudwatch_event_rule.poller.name
}

output "poller_schedule_expression" {
  description = "Schedule of the poller."
  value       = aws_cloudwatch_event_rule.poller.schedule_expression
}

output "returner" {
  description = "The returner, to pass as `returner` to each zeebe-lambda module: it then hands that function's dead-lettered jobs back to Zeebe at once."
  value = {
    function_arn = module.returner.function_arn
    role_name    = module.returner.role_name
    timeout      = module.returner.timeout
  }
  # Not before the returner's role may read every function's DLQ: each
  # zeebe-lambda module maps its DLQ to the returner with it.
  depends_on = [module.returner]
}

output "returner_function_name" {
  description = "Name of the returner function."
  value       = module.returner.function_name
}

output "job_token_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the job token keyring (read by the poller and the fulfiller only)."
  value       = aws_secretsmanager_secret.job_token.arn
}

output "payloads" {
  description = "The payload bucket, to pass as `payloads` to each zeebe-lambda module."
  value = {
    bucket_name = aws_s3_bucket.payloads.id
    bucket_arn  = aws_s3_bucket.payloads.arn
    threshold   = var.payload_threshold
    kms_key_arn = var.payload_kms_key_arn
  }
}

output "operator" {
  description = "What the operator CLI (zeebe-bridge) needs of the bridge; a root module merges in its functions' queues and outputs it as `zeebe_bridge`."
  value = {
    outcomes_topic_arn    = aws_sns_topic.outcomes.arn
    outcomes_queue_url    = aws_sqs_queue.outcomes.id
    outcomes_queue_arn    = aws_sqs_queue.outcomes.arn
    outcomes_dlq_url      = aws_sqs_queue.outcomes_dlq.id
    poller_function_name  = module.poller.function_name
    poller_log_group_name = module.poller.log_group_name
    job_token_secret_arn  = aws_secretsmanager_secret.job_token.arn
    payload_bucket        = aws_s3_bucket.payloads.id
    # rotate-key's default --max-token-lifetime.
    max_token_lifetime_seconds = var.max_token_lifetime_seconds
  }
}

output "callback_function_url" {
  description = "URL of the callback function (POST {\"token\": ..., \"outcome\": \"complete\"|\"fail\"|\"error\"|\"heartbeat\", ...}); null without callback_filename."
  value       = one(aws_lambda_function_url.callback[*].function_url)
}

output "callback_function_name" {
  description = "Name of the callback function; null without callback_filename."
  value       = one(module.callback[*].function_name)
}

output "runtime_proxy_layer_arn" {
  description = "ARN (with version) of the layer for functions in other runtimes, for the zeebe-lambda module's runtime_proxy_layer_arn; null without runtime_proxy_layer_filename."
  value       = one(aws_lambda_layer_version.runtime_proxy[*].arn)
}

output "name_prefix" {
  description = "The prefix of the bridge's names: pass it to each zeebe-lambda module as name_prefix."
  value       = var.name_prefix
}

output "bridge_name" {
  description = "The bridge's name (<prefix>zeebe-bridge): the value of the zeebe-bridge tag on the roles its resource policies trust, and the Bridge dimension of its metrics."
  value       = local.bridge_name
}

output "topic_kms_key_arn" {
  description = "The topics' customer managed KMS key, when sns_kms_master_key_id is a key ARN: pass it as outcomes_topic_kms_key_arn to each zeebe-lambda module, whose function publishes outcomes. Null for aws/sns or an alias."
  value       = local.sns_key_arn
}
