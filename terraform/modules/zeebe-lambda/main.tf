locals {
  # The task header identifier that routes jobs here, and the names the
  # bridge's resource policies and returner expect: <prefix>zeebe_<identifier>.
  identifier  = coalesce(var.identifier, var.function_name)
  queue_name  = "${var.name_prefix}zeebe_${local.identifier}"
  dlq_name    = "${var.name_prefix}zeebe_${local.identifier}_dlq"
  bridge_name = "${var.name_prefix}zeebe-bridge"
  # The bridge's resource policies trust the roles that carry its tag.
  function_tags = merge(var.tags, { "zeebe-bridge" = local.bridge_name })
  # AWS recommends six times the function timeout for an SQS event source.
  visibility_timeout = 6 * var.timeout
  function_arn       = var.create_function ? module.lambda.function_arn : var.function_arn
  # Its own prefixes of the payload bucket only: jobs for it to read, outcomes to write.
  payload_statements = var.payloads == null ? [] : concat([
    {
      Sid      = "ReadOffloadedJobs"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:DeleteObject"]
      Resource = ["${var.payloads.bucket_arn}/jobs/${local.identifier}/*"]
    },
    {
      Sid      = "OffloadOutcomes"
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = ["${var.payloads.bucket_arn}/outcomes/${local.identifier}/*"]
    },
    ], var.payloads.kms_key_arn == null ? [] : [{
      # The bucket's customer managed key (the bridge's payload_kms_key_arn).
      Sid      = "PayloadKey"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource = [var.payloads.kms_key_arn]
  }])
  # A managed runtime (Python, Node.js, Java) runs behind the bridge's layer,
  # which does for it what lambdakit does inside a Go function.
  managed_runtime = var.attach_runtime_proxy || !can(regex("^provided", var.runtime))
  layer_environment = local.managed_runtime ? {
    AWS_LAMBDA_EXEC_WRAPPER = "/opt/zeebe-runtime-proxy"
  } : {}
  # Publishing to an outcomes topic encrypted with a customer managed key
  # needs the same of the key (SNS asks KMS as the publisher).
  topic_key_statements = var.outcomes_topic_kms_key_arn == null ? [] : [{
    Sid      = "TopicKey"
    Effect   = "Allow"
    Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
    Resource = [var.outcomes_topic_kms_key_arn]
  }]
  payload_environment = var.payloads == null ? {} : {
    PAYLOAD_BUCKET    = var.payloads.bucket_name
    PAYLOAD_THRESHOLD = tostring(var.payloads.threshold)
  }
  # The OTLP headers stay in Secrets Manager; lambdakit (or the layer)
  # reads them at start.
  otel_headers_environment = var.otel_headers_secret_arn == null ? {} : {
    OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN = var.otel_headers_secret_arn
  }
  # What the bridge sets in every function's environment; for an existing
  # function, with the layer, in the output runtime_proxy_attachment.
  bridge_environment = merge(local.payload_environment, local.otel_headers_environment, {
    ZEEBE_FULFILLER_SNS_ARN = var.outcomes_topic_arn
    RETRY_BACKOFF           = var.retry_backoff
    ZEEBE_BRIDGE_NAME       = local.bridge_name
  })
  otel_headers_statements = var.otel_headers_secret_arn == null ? [] : [{
    Sid      = "OtlpHeadersSecret"
    Effect   = "Allow"
    Action   = ["secretsmanager:GetSecretValue"]
    Resource = [var.otel_headers_secret_arn]
  }]
}

resource "aws_sqs_queue" "dlq" {
  name                      = local.dlq_name
  message_retention_seconds = var.dlq_message_retention_seconds
  # The returner's event source mapping needs at least its function's
  # timeout; six times it, as AWS recommends.
  visibility_timeout_seconds = var.returner == null ? 30 : 6 * var.returner.timeout
  sqs_managed_sse_enabled    = true
  tags                       = var.tags

  lifecycle {
    precondition {
      condition     = length(local.dlq_name) <= 80
      error_message = "The DLQ's name ${local.dlq_name} is longer than SQS's 80 characters: shorten name_prefix or set a shorter identifier."
    }
  }
}

resource "aws_sqs_queue" "this" {
  name                       = local.queue_name
  visibility_timeout_seconds = local.visibility_timeout
  message_retention_seconds  = var.message_retention_seconds
  sqs_managed_sse_enabled    = true
  tags                       = var.tags
}

# A resource of its own, so the queue and its DLQ are created at the same
# time: the AWS provider waits about 25 s for each queue's attributes to
# settle, and a redrive_policy attribute would make the queue wait for the DLQ.
resource "aws_sqs_queue_redrive_policy" "this" {
  queue_url = aws_sqs_queue.this.id
  # One receive only: SQS never retries a job, Zeebe is the retry master.
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = 1
  })
}

resource "aws_sqs_queue_policy" "this" {
  queue_url = aws_sqs_queue.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([{
      Sid       = "AllowZeebeJobsTopic"
      Effect    = "Allow"
      Principal = { Service = "sns.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.this.arn
      Condition = { ArnEquals = { "aws:SourceArn" = var.jobs_topic_arn } }
      }], length(var.event_topics) == 0 ? [] : [{
      # The topics of the business events the queue also takes.
      Sid       = "AllowEventTopics"
      Effect    = "Allow"
      Principal = { Service = "sns.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.this.arn
      Condition = { ArnEquals = { "aws:SourceArn" = [for t in var.event_topics : t.topic_arn] } }
    }])
  })
}

resource "aws_sns_topic_subscription" "this" {
  topic_arn            = var.jobs_topic_arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.this.arn
  raw_message_delivery = true
  filter_policy_scope  = "MessageAttributes"
  filter_policy        = jsonencode({ lambdaIdentifier = [local.identifier] })

  # No job may reach the queue before its single-receive redrive is in place.
  depends_on = [aws_sqs_queue_redrive_policy.this]
}

# Business events from further topics share the queue (lambdakit.WithEvents).
resource "aws_sns_topic_subscription" "events" {
  count = length(var.event_topics)

  topic_arn            = var.event_topics[count.index].topic_arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.this.arn
  raw_message_delivery = var.event_topics[count.index].raw_message_delivery
  filter_policy        = var.event_topics[count.index].filter_policy

  depends_on = [aws_sqs_queue_redrive_policy.this]
}

# The function with its role and log group, or, for an existing function,
# the policy on its role (modules/_lambda, the shape of every function the
# modules create). Roles are named after their functions, inline policies
# zeebe-bridge-<function>: several functions sharing an existing role each
# add their own.
module "lambda" {
  source = "../_lambda"

  function_name      = var.function_name
  create_function    = var.create_function
  existing_role_name = var.existing_role_name
  filename           = var.filename
  code_s3_bucket     = var.code_s3_bucket
  code_s3_prefix     = var.code_s3_prefix
  handler            = var.handler
  runtime            = var.runtime
  architectures      = var.architectures
  timeout            = var.timeout
  memory_size        = var.memory_size
  xray_tracing       = var.xray_tracing
  log_retention_days = var.log_retention_days
  tags               = local.function_tags
  # Known at plan time for a Go function, whose layer list stays empty.
  layers = local.managed_runtime ? compact([var.runtime_proxy_layer_arn]) : []

  environment = merge(var.environment, local.layer_environment, local.bridge_environment)

  policy_statements = concat([
    {
      Sid      = "ReceiveJobs"
      Effect   = "Allow"
      Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"]
      Resource = [aws_sqs_queue.this.arn]
    },
    {
      # A record that is not a job message goes to the DLQ at once (lambdakit).
      Sid      = "DeadLetterJobs"
      Effect   = "Allow"
      Action   = ["sqs:GetQueueUrl", "sqs:SendMessage"]
      Resource = [aws_sqs_queue.dlq.arn]
    },
    {
      Sid      = "PublishOutcomes"
      Effect   = "Allow"
      Action   = ["sns:Publish"]
      Resource = [var.outcomes_topic_arn]
    },
  ], local.payload_statements, local.topic_key_statements, local.otel_headers_statements)

  log_kms_key_arn                = var.log_kms_key_arn
  environment_kms_key_arn        = var.environment_kms_key_arn
  vpc_subnet_ids                 = var.vpc_subnet_ids
  vpc_security_group_ids         = var.vpc_security_group_ids
  code_signing_config_arn        = var.code_signing_config_arn
  reserved_concurrent_executions = var.reserved_concurrent_executions
}

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn                   = aws_sqs_queue.this.arn
  function_name                      = local.function_arn
  batch_size                         = coalesce(var.batch_size, local.managed_runtime ? 1 : 10)
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  # The queue allows one receive: a message SQS hands to a throttled function
  # would come back and go to the DLQ without having run. Capping the pollers
  # at what the function may run keeps SQS from handing it out at all.
  scaling_config {
    maximum_concurrency = var.maximum_concurrency
  }

  # Not before the role may receive from the queue.
  depends_on = [module.lambda]

  lifecycle {
    precondition {
      condition     = !(var.create_function && local.managed_runtime && var.runtime_proxy_layer_arn == null)
      error_message = "runtime ${var.runtime} is not Go: set runtime_proxy_layer_arn = module.<bridge>.runtime_proxy_layer_arn (and the bridge's runtime_proxy_layer_filename), so the bridge's layer makes the function Zeebe-ready."
    }
    precondition {
      condition     = !var.attach_runtime_proxy || (!var.create_function && var.runtime_proxy_layer_arn != null)
      error_message = "attach_runtime_proxy is for an existing function (create_function = false) and needs runtime_proxy_layer_arn = module.<bridge>.runtime_proxy_layer_arn; a function this module creates gets the layer by its runtime."
    }
    precondition {
      condition     = var.job_timeout_seconds == null || var.timeout <= coalesce(var.job_timeout_seconds, 0)
      error_message = "timeout (${var.timeout} s) is longer than the job timeout (${coalesce(var.job_timeout_seconds, 0)} s): Zeebe would hand the job out again while the function still runs. Lower timeout, or raise the bridge's job_timeout (or the task header timeout) and job_timeout_seconds with it."
    }
    precondition {
      condition     = var.reserved_concurrent_executions == -1 || var.maximum_concurrency <= var.reserved_concurrent_executions
      error_message = "maximum_concurrency (${var.maximum_concurrency}) is above reserved_concurrent_executions (${var.reserved_concurrent_executions}): SQS would hand jobs to a throttled function, and they would go to the DLQ without having run. Lower maximum_concurrency, or reserve more."
    }
  }
}

# ---------------------------------------------------------------- returner

# The returner may read this queue through the bridge's one statement for
# all of its functions' DLQs (<prefix>zeebe_*_dlq), which the queue's name
# matches: nothing per function grows the returner's policy.
resource "aws_lambda_event_source_mapping" "returner" {
  count = var.returner == null ? 0 : 1

  event_source_arn        = aws_sqs_queue.dlq.arn
  function_name           = var.returner.function_arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]

  # A DLQ is quiet; two concurrent returns are plenty.
  scaling_config {
    maximum_concurrency = 2
  }

}

# ---------------------------------------------------------------- alarm

# With a returner on the DLQ, a returned job message is there for a moment
# only; what stays (what the returner cannot decode, held invisible) is what
# an operator must see. So the alarm counts visible and in-flight messages
# and fires when some stayed through a whole period.
resource "aws_cloudwatch_metric_alarm" "dlq" {
  alarm_name          = "${local.dlq_name}-not-empty"
  alarm_description   = "Job messages of ${local.identifier} stayed in its DLQ for five minutes: the returner could not hand them back to Zeebe (see its log lines with deadLetterReason)."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "stayed"
    expression  = "visible + inflight"
    label       = "Messages in ${local.dlq_name} through the whole period"
    return_data = true
  }

  metric_query {
    id = "visible"
    metric {
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = aws_sqs_queue.dlq.name }
      stat        = "Minimum"
      period      = 300
    }
  }

  metric_query {
    id = "inflight"
    metric {
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesNotVisible"
      dimensions  = { QueueName = aws_sqs_queue.dlq.name }
      stat        = "Minimum"
      period      = 300
    }
  }
}
