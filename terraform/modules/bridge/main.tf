locals {
  returner_timeout = 20
  # Every name the module gives starts with the prefix, so that bridges sit
  # side by side in one account and region; the bridge's name tags every
  # role it trusts and is the Bridge dimension of its metrics.
  p           = var.name_prefix
  bridge_name = "${var.name_prefix}zeebe-bridge"
  bridge_tags = merge(var.tags, { (local.bridge_tag) = local.bridge_name })
  bridge_tag  = "zeebe-bridge"
  # The bridge's own Lambdas' environment.
  bridge_environment = { ZEEBE_BRIDGE_NAME = local.bridge_name }
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
  payload_bucket = coalesce(var.payload_bucket_name, "${local.p}zeebe-bridge-payloads-${data.aws_caller_identity.current.account_id}-${data.aws_region.current.name}")
  payload_arn    = aws_s3_bucket.payloads.arn
  # With a customer managed key on the bucket, whoever writes a payload needs
  # a data key and whoever reads one the decrypt (S3 asks KMS as the caller).
  payload_key_statements = var.payload_kms_key_arn == null ? [] : [{
    Sid      = "PayloadKey"
    Effect   = "Allow"
    Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
    Resource = [var.payload_kms_key_arn]
  }]
  # Publishers to a topic encrypted with a customer managed key need the same
  # of it (SNS asks KMS as the publisher); aws/sns, an AWS managed key, needs
  # no grant, and an alias cannot be granted in IAM (README).
  sns_key_arn = can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.sns_kms_master_key_id)) ? var.sns_kms_master_key_id : null
  sns_key_statements = local.sns_key_arn == null ? [] : [{
    Sid      = "TopicKey"
    Effect   = "Allow"
    Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
    Resource = [local.sns_key_arn]
  }]
  # Reading a keyring encrypted with a customer managed key takes its
  # decrypt; the aws/secretsmanager key (null) needs no grant.
  job_token_key_statements = can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", coalesce(var.job_token_kms_key_id, "-"))) ? [{
    Sid      = "JobTokenKey"
    Effect   = "Allow"
    Action   = ["kms:Decrypt"]
    Resource = [var.job_token_kms_key_id]
  }] : []
  # The functions' own settings an account's policy decides (modules/_lambda).
  reserved_concurrency = merge({ poller = -1, fulfiller = -1, returner = -1, callback = -1 }, { for k, v in var.reserved_concurrent_executions : k => v if v != null })
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
  name              = "${local.p}zeebe_jobs"
  kms_master_key_id = var.sns_kms_master_key_id
  tags              = var.tags
}

resource "aws_sns_topic" "outcomes" {
  name              = "${local.p}zeebe_jobs2complete"
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
  name_prefix             = "${local.p}zeebe-bridge-job-token-"
  description             = "Keyring of zeebe-lambda-bridge job tokens: {\"current\":{\"id\",\"secret\"},\"previous\":[...]}."
  kms_key_id              = var.job_token_kms_key_id
  recovery_window_in_days = var.job_token_recovery_window_in_days
  tags                    = var.tags
  #checkov:skip=CKV2_AWS_57:rotated with `zeebe-bridge rotate-key`, which keeps the previous key valid for tokens in flight; a rotation function would not
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

data "aws_partition" "current" {}

resource "aws_s3_bucket" "payloads" {
  bucket        = local.payload_bucket
  force_destroy = var.payload_bucket_force_destroy
  tags          = var.tags
  #checkov:skip=CKV_AWS_144:payloads are read within minutes and expire in days; a replica in another region would have no reader
  #checkov:skip=CKV_AWS_21:each payload is deleted after use and the rest expire; versions would keep what was deleted
  #checkov:skip=CKV2_AWS_62:nothing reacts to a payload's arrival: its reader finds it by the pointer in the message
  #checkov:skip=CKV_AWS_145:the KMS key is the caller's choice (payload_kms_key_arn); without one S3 encrypts with its own key (SSE-S3)
  #checkov:skip=CKV_AWS_18:access logging is the caller's choice (payload_access_logs): its target bucket is the account's
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
      sse_algorithm     = var.payload_kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.payload_kms_key_arn
    }
    # One data key per bucket instead of a KMS call per object; unset without
    # a key, as before the key was offered.
    bucket_key_enabled = var.payload_kms_key_arn == null ? null : true
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
  name                      = "${local.p}zeebe_jobs2complete_dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "outcomes" {
  name                       = "${local.p}zeebe_jobs2complete"
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

  function_name      = "${local.p}zeebe-fulfiller"
  filename           = var.fulfiller_filename
  code_s3_bucket     = var.code_s3_bucket
  code_s3_prefix     = var.code_s3_prefix
  architectures      = var.architectures
  timeout            = var.fulfiller_timeout
  xray_tracing       = var.xray_tracing
  log_retention_days = var.log_retention_days
  tags               = local.bridge_tags

  environment = merge(local.zeebe_environment, local.otel_environment, local.bridge_environment, {
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
  ], local.secret_statements, local.payload_key_statements, local.job_token_key_statements, local.otel_headers_statements)

  log_kms_key_arn                = var.log_kms_key_arn
  environment_kms_key_arn        = var.environment_kms_key_arn
  vpc_subnet_ids                 = var.vpc_subnet_ids
  vpc_security_group_ids         = var.vpc_security_group_ids
  code_signing_config_arn        = var.code_signing_config_arn
  reserved_concurrent_executions = local.reserved_concurrency["fulfiller"]

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

  lifecycle {
    precondition {
      condition     = local.reserved_concurrency["fulfiller"] == -1 || var.fulfiller_maximum_concurrency <= local.reserved_concurrency["fulfiller"]
      error_message = "fulfiller_maximum_concurrency (${var.fulfiller_maximum_concurrency}) is above the fulfiller's reserved concurrency (${local.reserved_concurrency["fulfiller"]}): throttled invocations would use up the receives of outcomes. Lower it, or reserve more."
    }
  }
}

# ---------------------------------------------------------------- returner

# The returner reads every function's DLQ (each zeebe-lambda module given
# this module's `returner` output adds the event source mapping and the right
# to read its own DLQ) and hands each dead-lettered job back to Zeebe with its
# retries unchanged, so no job waits out its job timeout because its message
# was lost between SQS, Lambda and SNS.
module "returner" {
  source = "../_lambda"

  function_name      = "${local.p}zeebe-returner"
  filename           = var.returner_filename
  code_s3_bucket     = var.code_s3_bucket
  code_s3_prefix     = var.code_s3_prefix
  architectures      = var.architectures
  timeout            = local.returner_timeout
  xray_tracing       = var.xray_tracing
  log_retention_days = var.log_retention_days
  tags               = local.bridge_tags

  environment = merge(var.otel_environment, local.bridge_environment, {
    ZEEBE_FULFILLER_SNS_ARN = aws_sns_topic.outcomes.arn
    RETURN_BACKOFF          = var.return_backoff
    MAX_RETURNS             = var.max_returns
    PAYLOAD_BUCKET          = aws_s3_bucket.payloads.id
    ACTIVATION_BUCKET       = aws_s3_bucket.payloads.id
  })

  policy_statements = concat([
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
    {
      # Every function's DLQ of this bridge (modules/zeebe-lambda names them
      # <prefix>zeebe_<identifier>_dlq): one statement for any number of
      # functions, so that the role's policy does not grow with them.
      Sid      = "ReturnDeadLetteredJobs"
      Effect   = "Allow"
      Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"]
      Resource = ["${local.account_arn_prefix}:${local.p}zeebe_*_dlq"]
    },
  ], local.payload_key_statements, local.sns_key_statements)

  log_kms_key_arn                = var.log_kms_key_arn
  environment_kms_key_arn        = var.environment_kms_key_arn
  vpc_subnet_ids                 = var.vpc_subnet_ids
  vpc_security_group_ids         = var.vpc_security_group_ids
  code_signing_config_arn        = var.code_signing_config_arn
  reserved_concurrent_executions = local.reserved_concurrency["returner"]
  memory_size                    = var.returner_memory_size
}

# ---------------------------------------------------------------- callback

# The callback function: systems that are not written in Go post a pending
# job's outcome or heartbeat, with its completion token, to its function URL
# (package completion). Created when callback_filename is set.
module "callback" {
  source = "../_lambda"
  count  = var.callback_filename == null ? 0 : 1

  function_name      = "${local.p}zeebe-callback"
  filename           = var.callback_filename
  code_s3_bucket     = var.code_s3_bucket
  code_s3_prefix     = var.code_s3_prefix
  architectures      = var.architectures
  timeout            = 10
  xray_tracing       = var.xray_tracing
  log_retention_days = var.log_retention_days
  tags               = local.bridge_tags

  environment = merge(var.otel_environment, local.bridge_environment, {
    ZEEBE_FULFILLER_SNS_ARN = aws_sns_topic.outcomes.arn
    PAYLOAD_BUCKET          = aws_s3_bucket.payloads.id
    PAYLOAD_THRESHOLD       = tostring(var.payload_threshold)
    JOB_TOKEN_SECRET_ARN    = aws_secretsmanager_secret.job_token.arn
  })

  policy_statements = concat([
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
  ], local.payload_key_statements, local.sns_key_statements, local.job_token_key_statements)

  log_kms_key_arn                = var.log_kms_key_arn
  environment_kms_key_arn        = var.environment_kms_key_arn
  vpc_subnet_ids                 = var.vpc_subnet_ids
  vpc_security_group_ids         = var.vpc_security_group_ids
  code_signing_config_arn        = var.code_signing_config_arn
  reserved_concurrent_executions = local.reserved_concurrency["callback"]
  memory_size                    = var.callback_memory_size
}

resource "aws_lambda_function_url" "callback" {
  count              = var.callback_filename == null ? 0 : 1
  function_name      = module.callback[0].function_name
  authorization_type = var.callback_authorization_type
}

# ---------------------------------------------------------------- poller

module "poller" {
  source = "../_lambda"

  function_name      = "${local.p}zeebe-poller"
  filename           = var.poller_filename
  code_s3_bucket     = var.code_s3_bucket
  code_s3_prefix     = var.code_s3_prefix
  architectures      = var.architectures
  timeout            = var.poller_timeout
  xray_tracing       = var.xray_tracing
  log_retention_days = var.log_retention_days
  tags               = local.bridge_tags

  environment = merge(local.zeebe_environment, local.otel_environment, local.bridge_environment, {
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
  ], local.secret_statements, local.payload_key_statements, local.sns_key_statements, local.job_token_key_statements, local.otel_headers_statements)

  log_kms_key_arn                = var.log_kms_key_arn
  environment_kms_key_arn        = var.environment_kms_key_arn
  vpc_subnet_ids                 = var.vpc_subnet_ids
  vpc_security_group_ids         = var.vpc_security_group_ids
  code_signing_config_arn        = var.code_signing_config_arn
  reserved_concurrent_executions = local.reserved_concurrency["poller"]

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
  name                = "${local.p}zeebe-poller-schedule"
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

  alarm_name          = "${local.p}zeebe-poller-not-running"
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
  alarm_name          = "${aws_sqs_queue.outcomes_dlq.name}-not-empty"
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

  layer_name               = "${local.p}zeebe-runtime-proxy"
  description              = "zeebe-lambda-bridge: runs a managed runtime's function for Zeebe jobs (AWS_LAMBDA_EXEC_WRAPPER=/opt/zeebe-runtime-proxy)"
  filename                 = var.runtime_proxy_layer_filename
  source_code_hash         = filebase64sha256(var.runtime_proxy_layer_filename)
  compatible_architectures = var.architectures
}

# ---------------------------------------------------------------- resource policies

# Identity policies say what the bridge's roles may do; these say what no one
# else in the account may do, whatever their identity policies allow. Each is
# a set of denials with exceptions: the bridge's roles (tagged zeebe-bridge =
# the bridge's name, by both modules), the principal applying this module
# (Terraform reads the keyring's first version and empties the bucket on
# destroy) and trusted_principal_arns.
data "aws_iam_session_context" "current" {
  arn = data.aws_caller_identity.current.arn
}

locals {
  account_arn_prefix = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  trusted_arns       = distinct(concat([data.aws_iam_session_context.current.issuer_arn], var.trusted_principal_arns))
  # Who publishes job messages and signs them: the poller, and the roles of
  # zeebe-poller-daemon processes.
  job_publisher_arns  = concat([module.poller.role_arn], var.poller_daemon_role_arns)
  keyring_reader_arns = distinct(concat(local.job_publisher_arns, [module.fulfiller.role_arn], module.callback[*].role_arn, local.trusted_arns))
  # Principals outside the bridge: without its tag and not trusted.
  outside_the_bridge = {
    StringNotEquals = { "aws:PrincipalTag/${local.bridge_tag}" = local.bridge_name }
    ArnNotEquals    = { "aws:PrincipalArn" = local.trusted_arns }
  }
}

resource "aws_sns_topic_policy" "jobs" {
  arn = aws_sns_topic.jobs.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # A job message carries the job's token, which seals its outcome:
        # only the poller publishes them ...
        Sid       = "OnlyThePollerPublishes"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.jobs.arn
        Condition = { ArnNotEquals = { "aws:PrincipalArn" = local.job_publisher_arns } }
      },
      {
        # ... and only the bridge's function queues (modules/zeebe-lambda)
        # receive them.
        Sid       = "OnlyTheBridgesQueuesSubscribe"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = "sns:Subscribe"
        Resource  = aws_sns_topic.jobs.arn
        Condition = { StringNotLike = { "sns:Endpoint" = "${local.account_arn_prefix}:${local.p}zeebe_*" } }
      },
      {
        Sid       = "OnlyQueuesSubscribe"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = "sns:Subscribe"
        Resource  = aws_sns_topic.jobs.arn
        Condition = { StringNotEquals = { "sns:Protocol" = "sqs" } }
      },
    ]
  })
}

resource "aws_sns_topic_policy" "outcomes" {
  arn = aws_sns_topic.outcomes.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Outcomes come from the bridge's functions, returner and callback.
        Sid       = "OnlyTheBridgePublishes"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.outcomes.arn
        Condition = local.outside_the_bridge
      },
      {
        # They carry results and completion tokens: only the fulfiller's
        # queue receives them.
        Sid       = "OnlyTheFulfillersQueueSubscribes"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = "sns:Subscribe"
        Resource  = aws_sns_topic.outcomes.arn
        Condition = { StringNotEquals = { "sns:Endpoint" = aws_sqs_queue.outcomes.arn } }
      },
    ]
  })
}

resource "aws_secretsmanager_secret_policy" "job_token" {
  secret_arn          = aws_secretsmanager_secret.job_token.arn
  block_public_policy = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      # Whoever reads the keyring can sign job messages and seal outcomes.
      Sid       = "OnlySignersRead"
      Effect    = "Deny"
      Principal = { AWS = "*" }
      Action    = "secretsmanager:GetSecretValue"
      Resource  = "*"
      Condition = { ArnNotEquals = { "aws:PrincipalArn" = local.keyring_reader_arns } }
    }]
  })
}

resource "aws_s3_bucket_policy" "payloads" {
  bucket = aws_s3_bucket.payloads.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "TLSOnly"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.payloads.arn, "${aws_s3_bucket.payloads.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        # Payloads are jobs' and outcomes' variables, leases and claims:
        # only the bridge's roles read or write them.
        Sid       = "OnlyTheBridge"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource  = "${aws_s3_bucket.payloads.arn}/*"
        Condition = merge(local.outside_the_bridge, { ArnNotEquals = { "aws:PrincipalArn" = distinct(concat(local.trusted_arns, var.poller_daemon_role_arns)) } })
      },
    ]
  })
  # The public access block first: with block_public_policy, S3 checks the
  # policy is not public (it only denies).
  depends_on = [aws_s3_bucket_public_access_block.payloads]
}

# ---------------------------------------------------------------- access logs

# Server access logs of the payload bucket, where the account keeps them.
resource "aws_s3_bucket_logging" "payloads" {
  count = var.payload_access_logs == null ? 0 : 1

  bucket        = aws_s3_bucket.payloads.id
  target_bucket = var.payload_access_logs.bucket
  target_prefix = var.payload_access_logs.prefix
}
