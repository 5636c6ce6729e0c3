locals {
  returner_timeout = 20
  # The poller schedule's period in seconds for a rate() expression (the
  # not-running alarm counts invocations per period); null for cron().
  poller_rate           = try(regex("^rate\\((\\d+) (minute|minutes|hour|hours|day|days)\\)$", var.poller_schedule), null)
  poller_period_seconds = local.poller_rate == null ? null : tonumber(local.poller_rate[0]) * { minute = 60, minutes = 60, hour = 3600, hours = 3600, day = 86400, days = 86400 }[local.poller_rate[1]]
  zeebe_environment = { for k, v in {
    ZEEBE_ADDRESS                  = var.zeebe_address
    ZEEBE_CLIENT_ID                = var.zeebe_client_id
    ZEEBE_CLIENT_SECRET_ARN        = var.zeebe_client_secret_arn
    ZEEBE_AUTHORIZATION_SERVER_URL = var.zeebe_authorization_server_url
    ZEEBE_TOKEN_AUDIENCE           = var.zeebe_token_audience
    ZEEBE_TOKEN_SCOPE              = var.zeebe_token_scope
    ZEEBE_INSECURE_CONNECTION      = var.zeebe_insecure_connection ? "true" : null
    ZEEBE_CA_CERTIFICATE_PEM       = var.zeebe_ca_certificate_pem
    # The Zeebe Java client's name for the tenants a worker serves.
    ZEEBE_DEFAULT_JOB_WORKER_TENANT_IDS = length(var.zeebe_tenant_ids) == 0 ? null : join(",", var.zeebe_tenant_ids)
  } : k => v if v != null }
  # job_timeout in seconds when it is written in whole hours, minutes and
  # seconds ("5m", "1h30m", "90s"); null for other Go durations.
  job_timeout_match = try(regex("^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$", var.job_timeout), null)
  job_timeout_seconds = local.job_timeout_match == null || var.job_timeout == "" ? null : (
    tonumber(coalesce(local.job_timeout_match[0], "0")) * 3600 + tonumber(coalesce(local.job_timeout_match[1], "0")) * 60 + tonumber(coalesce(local.job_timeout_match[2], "0"))
  )
  # Read the Zeebe client secret only where one is configured.
  secret_statements = var.zeebe_client_secret_arn == null ? [] : [{
    Sid      = "ZeebeClientSecret"
    Effect   = "Allow"
    Action   = ["secretsmanager:GetSecretValue"]
    Resource = [var.zeebe_client_secret_arn]
  }]
  # The poller signs job messages and the fulfiller checks outcomes with the
  # keyring in this secret; nothing else may read it.
  job_token_statement = {
    Sid      = "JobTokenKeyring"
    Effect   = "Allow"
    Action   = ["secretsmanager:GetSecretValue"]
    Resource = [aws_secretsmanager_secret.job_token.arn]
  }
  payload_bucket = coalesce(var.payload_bucket_name, "zeebe-bridge-payloads-${data.aws_caller_identity.current.account_id}-${data.aws_region.current.name}")
  payload_arn    = aws_s3_bucket.payloads.arn
  # The OTLP headers (an API key, usually) stay in Secrets Manager: the
  # poller and the fulfiller, which export spans, read them at start.
  otel_environment = merge(var.otel_environment, var.otel_headers_secret_arn == null ? {} : {
    OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN = var.otel_headers_secret_arn
  })
  otel_headers_statements = var.otel_headers_secret_arn == null ? [] : [{
    Sid      = "OtlpHeadersSecret"
    Effect   = "Allow"
    Action   = ["secretsmanager:GetSecretValue"]
    Resource = [var.otel_headers_secret_arn]
  }]
}

# ---------------------------------------------------------------- topics

resource "aws_sns_topic" "jobs" {
  name              = "zeebe_jobs"
  kms_master_key_id = var.sns_kms_master_key_id
  tags              = var.tags
}

resource "aws_sns_topic" "outcomes" {
  name              = "zeebe_jobs2complete"
  kms_master_key_id = var.sns_kms_master_key_id
  tags              = var.tags
}

# ---------------------------------------------------------------- job tokens

# The keyring the poller signs job messages with and the fulfiller checks
# outcomes against (package jobtoken). Its first key is drawn here; rotate it
# with `zeebe-bridge rotate-key`, which keeps the previous key valid. The
# value is Terraform's only at creation: later rotations are left alone.
data "aws_secretsmanager_random_password" "job_token" {
  password_length     = 64
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "job_token" {
  name_prefix             = "zeebe-bridge-job-token-"
  description             = "Keyring of zeebe-lambda-bridge job tokens: {\"current\":{\"id\",\"secret\"},\"previous\":[...]}."
  kms_key_id              = var.job_token_kms_key_id
  recovery_window_in_days = var.job_token_recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "job_token" {
  secret_id = aws_secretsmanager_secret.job_token.id
  secret_string = jsonencode({
    current = { id = "k1", secret = data.aws_secretsmanager_random_password.job_token.random_password }
  })

  lifecycle {
    ignore_changes = [secret_string]
  }
}

# ---------------------------------------------------------------- payloads

# Job and outcome messages above SNS's limit go to this bucket (the
# claim-check pattern, package claimcheck): jobs/<identifier>/... from the
# poller, outcomes/<identifier>/... from each function. The fulfiller keeps
# the leases of asynchronous completion under leases/ (package internal/heartbeatlease). The
# activation guard (package internal/activation) keeps each job's latest activation under
# activations/ (the poller) and the first answer to each activation under claims/ (the
# fulfiller and the returner); the returner counts each job's hand-backs under returns/. Each role reaches only its own prefixes; what is not deleted
# after use expires.
data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

resource "aws_s3_bucket" "payloads" {
  bucket        = local.payload_bucket
  force_destroy = var.payload_bucket_force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "payloads" {
  bucket                  = aws_s3_bucket.payloads.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "payloads" {
  bucket = aws_s3_bucket.payloads.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "payloads" {
  bucket = aws_s3_bucket.payloads.id

  dynamic "rule" {
    for_each = ["jobs", "outcomes", "leases", "claims", "activations", "returns"]
    content {
      id     = "expire-${rule.value}"
      status = "Enabled"
      filter {
        prefix = "${rule.value}/"
      }
      expiration {
        days = var.payload_expiration_days
      }
      abort_incomplete_multipart_upload {
        days_after_initiation = 1
      }
    }
  }
}

# ---------------------------------------------------------------- fulfiller queue

resource "aws_sqs_queue" "outcomes_dlq" {
  name                      = "zeebe_jobs2complete_dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "outcomes" {
  name                       = "zeebe_jobs2complete"
  visibility_timeout_seconds = 6 * var.fulfiller_timeout
  message_retention_seconds  = 345600
  sqs_managed_sse_enabled    = true
  tags                       = var.tags
}

# Its own resource, so the queue and its DLQ are created at the same time
# (see modules/zeebe-lambda).
resource "aws_sqs_queue_redrive_policy" "outcomes" {
  queue_url = aws_sqs_queue.outcomes.id
  # Outcomes may be retried: Zeebe can be briefly unavailable. The fulfiller
  # brings them back after 1, 2, 4, 8, then 10 s: ten receives ride out a
  # minute's outage. What can never succeed it moves to the DLQ at once.
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.outcomes_dlq.arn
    maxReceiveCount     = 10
  })
}

resource "aws_sqs_queue_policy" "outcomes" {
  queue_url = aws_sqs_queue.outcomes.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AllowOutcomesTopic"
      Effect    = "Allow"
      Principal = { Service = "sns.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.outcomes.arn
      Condition = { ArnEquals = { "aws:SourceArn" = aws_sns_topic.outcomes.arn } }
    }]
  })
}

resource "aws_sns_topic_subscription" "outcomes" {
  topic_arn            = aws_sns_topic.outcomes.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.outcomes.arn
  raw_message_delivery = true
  depends_on           = [aws_sqs_queue_redrive_policy.outcomes]
}

# ---------------------------------------------------------------- fulfiller

# Function, role, log group and the policy's Logs and XRay statements come
# from modules/_lambda, as for every function of the bridge.
module "fulfiller" {
  source = "../_lambda"

  function_name      = "zeebe-fulfiller"
  filename           = var.fulfiller_filename
  architectures      = var.architectures
  timeout            = var.fulfiller_timeout
  xray_tracing       = var.xray_tracing
  log_retention_days = var.log_retention_days
  tags               = var.tags

  environment = merge(local.zeebe_environment, local.otel_environment, {
    JOB_TOKEN_SECRET_ARN = aws_secretsmanager_secret.job_token.arn
    PAYLOAD_BUCKET       = aws_s3_bucket.payloads.id
    LEASE_BUCKET         = aws_s3_bucket.payloads.id
    ACTIVATION_BUCKET    = aws_s3_bucket.payloads.id
  })

  policy_statements = concat([
    {
      Sid      = "ReceiveOutcomes"
      Effect   = "Allow"
      Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"]
      Resource = [aws_sqs_queue.outcomes.arn]
    },
    {
      # An outcome that can never be applied goes to the DLQ at once.
      Sid      = "DeadLetterOutcomes"
      Effect   = "Allow"
      Action   = ["sqs:GetQueueUrl", "sqs:SendMessage"]
      Resource = [aws_sqs_queue.outcomes_dlq.arn]
    },
    local.job_token_statement,
    {
      Sid      = "ReadOffloadedOutcomes"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:DeleteObject"]
      Resource = ["${local.payload_arn}/outcomes/*"]
    },
    {
      # Heartbeats of asynchronous completion: until when each activation lives.
      Sid      = "Leases"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      Resource = ["${local.payload_arn}/leases/*"]
    },
    {
      # The activation guard: the first answer to an activation claims it
      # (a conditional put) ...
      Sid      = "ClaimActivations"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject"]
      Resource = ["${local.payload_arn}/claims/*"]
    },
    {
      # ... and a resumed one reads the job's latest activation.
      Sid      = "ReadActivations"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = ["${local.payload_arn}/activations/*"]
    },
  ], local.secret_statements, local.otel_headers_statements)

  memory_size = var.fulfiller_memory_size
}

resource "aws_lambda_event_source_mapping" "fulfiller" {
  event_source_arn                   = aws_sqs_queue.outcomes.arn
  function_name                      = module.fulfiller.function_arn
  batch_size                         = 10
  maximum_batching_window_in_seconds = var.fulfiller_batching_window_in_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  # Throttled invocations would use up the five receives of an outcome.
  scaling_config {
    maximum_concurrency = var.fulfiller_maximum_concurrency
  }

  # Not before the role may receive from the queue.
  depends_on = [module.fulfiller]
}

# ---------------------------------------------------------------- returner

# The returner reads every function's DLQ (each zeebe-lambda module given
# this module's `returner` output adds the event source mapping and the right
# to read its own DLQ) and hands each dead-lettered job back to Zeebe with its
# retries unchanged, so no job waits out its job timeout because its message
# was lost between SQS, Lambda and SNS.
module "returner" {
  source = "../_lambda"

  function_name      = "zeebe-returner"
  filename           = var.returner_filename
  architectures      = var.architectures
  timeout            = local.returner_timeout
  xray_tracing       = var.xray_tracing
  log_retention_days = var.log_retention_days
  tags               = var.tags

  environment = merge(var.otel_environment, {
    ZEEBE_FULFILLER_SNS_ARN = aws_sns_topic.outcomes.arn
    RETURN_BACKOFF          = var.return_backoff
    MAX_RETURNS             = var.max_returns
    PAYLOAD_BUCKET          = aws_s3_bucket.payloads.id
    ACTIVATION_BUCKET       = aws_s3_bucket.payloads.id
  })

  policy_statements = [
    {
      # It answers a dead-lettered job with a fail outcome, which the
      # fulfiller checks and applies: it needs neither Zeebe nor the keyring.
      Sid      = "PublishOutcomes"
      Effect   = "Allow"
      Action   = ["sns:Publish"]
      Resource = [aws_sns_topic.outcomes.arn]
    },
    {
      # It reads a dead-lettered job's offloaded message and deletes it once
      # the job is handed back or stale, as every reader does.
      Sid      = "ReadOffloadedJobs"
      Effect   = "Allow"
      Action   = ["s3:DeleteObject", "s3:GetObject"]
      Resource = ["${local.payload_arn}/jobs/*"]
    },
    {
      # It claims a job's activation before handing the job back, so that
      # it never races the function's own outcome.
      Sid      = "ClaimActivations"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject"]
      Resource = ["${local.payload_arn}/claims/*"]
    },
    {
      Sid      = "ReadActivations"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = ["${local.payload_arn}/activations/*"]
    },
    {
      # It counts each job's hand-backs, so that a fault that persists ends
      # in an incident rather than a loop.
      Sid      = "CountReturns"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject"]
      Resource = ["${local.payload_arn}/returns/*"]
    },
  ]

  memory_size = var.returner_memory_size
}

# ---------------------------------------------------------------- callback

# The callback function: systems that are not written in Go post a pending
# job's outcome or heartbeat, with its completion token, to its function URL
# (package completion). Created when callback_filename is set.
module "callback" {
  source = "../_lambda"
  count  = var.callback_filename == null ? 0 : 1

  function_name      = "zeebe-callback"
  filename           = var.callback_filename
  architectures      = var.architectures
  timeout            = 10
  xray_tracing       = var.xray_tracing
  log_retention_days = var.log_retention_days
  tags               = var.tags

  environment = merge(var.otel_environment, {
    ZEEBE_FULFILLER_SNS_ARN = aws_sns_topic.outcomes.arn
    PAYLOAD_BUCKET          = aws_s3_bucket.payloads.id
    PAYLOAD_THRESHOLD       = tostring(var.payload_threshold)
    JOB_TOKEN_SECRET_ARN    = aws_secretsmanager_secret.job_token.arn
  })

  policy_statements = [
    {
      # It seals the outcome with the token it is given and publishes it;
      # the fulfiller checks it as any other.
      Sid      = "PublishOutcomes"
      Effect   = "Allow"
      Action   = ["sns:Publish"]
      Resource = [aws_sns_topic.outcomes.arn]
    },
    {
      # An outcome above SNS's limit goes to S3 first, under the
      # identifier of the job it answers: any function's.
      Sid      = "OffloadOutcomes"
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = ["${local.payload_arn}/outcomes/*"]
    },
    # It checks each token's signature before it writes or publishes
    # anything: its URL may be open to anyone (authorization NONE).
    local.job_token_statement,
  ]

  memory_size = var.callback_memory_size
}

resource "aws_lambda_function_url" "callback" {
  count              = var.callback_filename == null ? 0 : 1
  function_name      = module.callback[0].function_name
  authorization_type = var.callback_authorization_type
}

# ---------------------------------------------------------------- poller

module "poller" {
  source = "../_lambda"

  function_name      = "zeebe-poller"
  filename           = var.poller_filename
  architectures      = var.architectures
  timeout            = var.poller_timeout
  xray_tracing       = var.xray_tracing
  log_retention_days = var.log_retention_days
  tags               = var.tags

  environment = merge(local.zeebe_environment, local.otel_environment, {
    ZEEBE_JOBS_TOPIC_ARN = aws_sns_topic.jobs.arn
    JOB_TYPE             = var.job_type
    JOB_TIMEOUT          = var.job_timeout
    SAFETY_MARGIN        = var.poller_safety_margin
    JOB_TOKEN_SECRET_ARN = aws_secretsmanager_secret.job_token.arn
    PAYLOAD_BUCKET       = aws_s3_bucket.payloads.id
    PAYLOAD_THRESHOLD    = tostring(var.payload_threshold)
    ACTIVATION_BUCKET    = aws_s3_bucket.payloads.id
  })

  policy_statements = concat([
    {
      Sid      = "PublishJobs"
      Effect   = "Allow"
      Action   = ["sns:Publish"]
      Resource = [aws_sns_topic.jobs.arn]
    },
    {
      # The poller reads the topic's subscriptions and their filter
      # policies, so that a job no function is subscribed for becomes an
      # incident instead of a message SNS drops.
      Sid      = "ReadRoutes"
      Effect   = "Allow"
      Action   = ["sns:GetSubscriptionAttributes", "sns:ListSubscriptionsByTopic"]
      Resource = [aws_sns_topic.jobs.arn, "${aws_sns_topic.jobs.arn}:*"]
    },
    local.job_token_statement,
    {
      Sid      = "OffloadJobs"
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = ["${local.payload_arn}/jobs/*"]
    },
    {
      # Each job's latest activation, before the job is published (package internal/activation).
      Sid      = "RecordActivations"
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = ["${local.payload_arn}/activations/*"]
    },
  ], local.secret_statements, local.otel_headers_statements)

  memory_size = var.poller_memory_size
}

# EventBridge invokes the poller asynchronously, and Lambda would run a failed
# invocation twice more, stacking runs of up to 15 minutes on the scheduled
# ones: the schedule is the retry. A run that could not start within a minute
# is superseded by the next scheduled one.
resource "aws_lambda_function_event_invoke_config" "poller" {
  function_name                = module.poller.function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 60
}

resource "aws_cloudwatch_event_rule" "poller" {
  name                = "zeebe-poller-schedule"
  description         = "Starts the zeebe-lambda-bridge poller."
  schedule_expression = var.poller_schedule
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "poller" {
  rule = aws_cloudwatch_event_rule.poller.name
  arn  = module.poller.function_arn
}

resource "aws_lambda_permission" "poller" {
  statement_id  = "eventbridge-schedule"
  action        = "lambda:InvokeFunction"
  function_name = module.poller.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.poller.arn
}

# ---------------------------------------------------------------- alarms

# No poller run for two schedule periods means no job reaches any function:
# the schedule is disabled, the poller cannot start, or it is throttled.
resource "aws_cloudwatch_metric_alarm" "poller_not_running" {
  count = local.poller_period_seconds == null ? 0 : 1

  alarm_name          = "zeebe-poller-not-running"
  alarm_description   = "The zeebe-poller Lambda has not started for two schedule periods: no Zeebe job reaches any function."
  namespace           = "AWS/Lambda"
  metric_name         = "Invocations"
  dimensions          = { FunctionName = module.poller.function_name }
  statistic           = "Sum"
  period              = local.poller_period_seconds
  evaluation_periods  = 2
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "outcomes_dlq" {
  alarm_name          = "zeebe_jobs2complete_dlq-not-empty"
  alarm_description   = "Outcomes reached the DLQ: the fulfiller could not apply them to Zeebe."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.outcomes_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  tags                = var.tags
}

# ---------------------------------------------------------------- layer

# The layer that makes a function in another runtime Zeebe-ready
# (cmd/zeebe-runtime-proxy): one version for the bridge, attached by the
# zeebe-lambda module to each function that is not Go.
resource "aws_lambda_layer_version" "runtime_proxy" {
  count = var.runtime_proxy_layer_filename == null ? 0 : 1

  layer_name               = "zeebe-runtime-proxy"
  description              = "zeebe-lambda-bridge: runs a managed runtime's function for Zeebe jobs (AWS_LAMBDA_EXEC_WRAPPER=/opt/zeebe-runtime-proxy)"
  filename                 = var.runtime_proxy_layer_filename
  source_code_hash         = filebase64sha256(var.runtime_proxy_layer_filename)
  compatible_architectures = var.architectures
}
