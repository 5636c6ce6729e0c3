# A second bridge beside the one localstack/terraform applies, in the same
# account and region, as a staging bridge beside a production one: its own
# prefix and job type, and functions with the same BPMN identifiers as the
# first bridge's. TestTwoBridges applies it with 40 functions.
module "bridge" {
  source = "../../../terraform/modules/bridge"

  name_prefix        = var.name_prefix
  job_type           = var.job_type
  code_s3_bucket     = aws_s3_bucket.code.bucket
  poller_filename    = "${var.dist}/zeebe-poller.zip"
  fulfiller_filename = "${var.dist}/zeebe-fulfiller.zip"
  returner_filename  = "${var.dist}/zeebe-returner.zip"
  architectures      = var.architectures
  zeebe_address      = var.zeebe_address
  # As in the first bridge: a local engine, runs overlapping by 5 s.
  zeebe_insecure_connection         = true
  poller_schedule                   = "rate(1 minute)"
  poller_timeout                    = 75
  poller_safety_margin              = "10s"
  job_timeout                       = "2m"
  fulfiller_timeout                 = 10
  log_retention_days                = 1
  job_token_recovery_window_in_days = 0
  payload_bucket_force_destroy      = true
}

# The zips, which Lambda creates the functions from: side by side, where the
# AWS provider creates functions whose zip is in the request one at a time.
resource "aws_s3_bucket" "code" {
  bucket        = "${lower(replace(var.name_prefix, "_", "-"))}zeebe-lambda-bridge-code"
  force_destroy = true
}

module "functions" {
  source   = "../../../terraform/modules/zeebe-lambda"
  for_each = toset(var.identifiers)

  name_prefix                = module.bridge.name_prefix
  function_name              = "${var.name_prefix}${each.key}"
  identifier                 = each.key
  filename                   = "${var.dist}/noop.zip"
  code_s3_bucket             = aws_s3_bucket.code.bucket
  architectures              = var.architectures
  timeout                    = 10
  job_timeout_seconds        = module.bridge.job_timeout_seconds
  jobs_topic_arn             = module.bridge.jobs_topic_arn
  outcomes_topic_arn         = module.bridge.outcomes_topic_arn
  outcomes_topic_kms_key_arn = module.bridge.topic_kms_key_arn
  retry_backoff              = "1s"
  returner                   = module.bridge.returner
  payloads                   = module.bridge.payloads
  log_retention_days         = 1
}
