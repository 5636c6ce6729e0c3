# The root module the demo and the end-to-end tests apply to LocalStack
# (through localstack/tfstack): the same modules users apply, with the
# settings that make a local run quick.
module "bridge" {
  source = "../../terraform/modules/bridge"

  code_s3_bucket     = aws_s3_bucket.code.bucket
  poller_filename    = "${var.dist}/zeebe-poller.zip"
  fulfiller_filename = "${var.dist}/zeebe-fulfiller.zip"
  returner_filename  = "${var.dist}/zeebe-returner.zip"
  callback_filename  = "${var.dist}/zeebe-callback.zip"
  # The layer for the Python and Node.js functions.
  runtime_proxy_layer_filename = "${var.dist}/zeebe-runtime-proxy.zip"
  # The completion token in the body is the callback's credential; locally
  # the demo and the tests post without signing.
  callback_authorization_type = "NONE"
  architectures               = var.architectures
  zeebe_address               = var.zeebe_address
  zeebe_insecure_connection   = true
  # EventBridge's shortest schedule. Each run lasts its timeout less the
  # margin, 65 s, so runs overlap by 5 s as they do on AWS (15 min every
  # 14 min): a job that becomes activatable between runs never waits for the
  # next one.
  poller_schedule      = "rate(1 minute)"
  poller_timeout       = 75
  poller_safety_margin = "10s"
  job_timeout          = "2m"
  # The outcomes of a crashed fulfiller invocation come back after six times
  # this (one minute), well inside the job timeout.
  fulfiller_timeout  = 10
  log_retention_days = 1
  # Destroy and apply again at once: no recovery window for the keyring, no
  # payloads kept in the bucket.
  job_token_recovery_window_in_days = 0
  payload_bucket_force_destroy      = true
  otel_environment                  = local.otel_environment
  otel_headers_secret_arn           = local.otel_headers_secret_arn
}

# The functions' zips, from which Lambda creates them (code_s3_bucket): the AWS
# provider creates functions from S3 side by side, and those whose zip is in
# the request one at a time, 5 s each in LocalStack.
resource "aws_s3_bucket" "code" {
  bucket        = "zeebe-lambda-bridge-code"
  force_destroy = true
}

# Business events beside the jobs: echo (Go) and chaos-py (Python) take them
# on their job queues (module zeebe-lambda's event_topics).
resource "aws_sns_topic" "business_events" {
  name = "zeebe_test_business_events"
}

locals {
  event_functions  = ["echo", "chaos-py"]
  otel_environment = var.otel_exporter_otlp_endpoint == null ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT = var.otel_exporter_otlp_endpoint }
}

module "functions" {
  source   = "../../terraform/modules/zeebe-lambda"
  for_each = var.functions

  function_name           = each.key
  filename                = "${var.dist}/${each.key}.zip"
  code_s3_bucket          = aws_s3_bucket.code.bucket
  runtime                 = each.value.runtime
  handler                 = each.value.handler
  runtime_proxy_layer_arn = module.bridge.runtime_proxy_layer_arn
  architectures           = var.architectures
  timeout                 = each.value.timeout
  job_timeout_seconds     = module.bridge.job_timeout_seconds
  jobs_topic_arn          = module.bridge.jobs_topic_arn
  outcomes_topic_arn      = module.bridge.outcomes_topic_arn
  retry_backoff           = var.retry_backoff
  returner                = module.bridge.returner
  payloads                = module.bridge.payloads
  log_retention_days      = 1
  event_topics            = contains(local.event_functions, each.key) ? [{ topic_arn = aws_sns_topic.business_events.arn }] : []
  # long-work hands its work to the long-work queue (long-work.tf).
  environment = merge(local.otel_environment, each.key == "long-work" ? { WORK_QUEUE_URL = aws_sqs_queue.long_work[0].url } : {})
  # The exporter's headers, read from Secrets Manager by lambdakit (or the
  # layer) at start.
  otel_headers_secret_arn = local.otel_headers_secret_arn
}

# The OTLP headers, as a user keeps an API key of the tracing backend: in a
# secret the functions read at start (otel_headers_secret_arn).
resource "aws_secretsmanager_secret" "otlp_headers" {
  count = var.otel_exporter_otlp_endpoint != null && var.otel_exporter_otlp_headers != null ? 1 : 0

  name_prefix             = "zeebe-test-otlp-headers-"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "otlp_headers" {
  count = length(aws_secretsmanager_secret.otlp_headers)

  secret_id     = aws_secretsmanager_secret.otlp_headers[0].id
  secret_string = var.otel_exporter_otlp_headers
}

locals {
  # The version, not the secret: no function starts before the value is in.
  otel_headers_secret_arn = length(aws_secretsmanager_secret_version.otlp_headers) == 0 ? null : aws_secretsmanager_secret_version.otlp_headers[0].arn
}
