# A function deployed by other means, whose log group already exists (the
# test creates it before applying, as Lambda does on a function's first run),
# made Zeebe-ready with modules/zeebe-lambda (create_function = false). The
# module must leave the log group alone. With runtime_proxy_layer_filename,
# a Python or Node.js function the module is asked to attach the bridge's
# layer to (attach_runtime_proxy), which `zeebe-bridge attach-layer` does, as
# for a function SAM or CDK deployed; a queue receives its outcomes.
resource "aws_sns_topic" "jobs" {
  name = "${var.function_name}-jobs"
}

resource "aws_sns_topic" "outcomes" {
  name = "${var.function_name}-outcomes"
}

resource "aws_iam_role" "existing" {
  name = "${var.function_name}-own-role"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_lambda_function" "existing" {
  function_name    = var.function_name
  role             = aws_iam_role.existing.arn
  filename         = var.filename
  source_code_hash = filebase64sha256(var.filename)
  handler          = var.handler
  runtime          = var.runtime
  architectures    = var.architectures
  timeout          = 10
}

module "zeebe_ready" {
  source = "../../../terraform/modules/zeebe-lambda"

  function_name      = aws_lambda_function.existing.function_name
  create_function    = false
  function_arn       = aws_lambda_function.existing.arn
  existing_role_name = aws_iam_role.existing.name
  timeout            = aws_lambda_function.existing.timeout
  jobs_topic_arn     = aws_sns_topic.jobs.arn
  outcomes_topic_arn = aws_sns_topic.outcomes.arn

  attach_runtime_proxy    = var.runtime_proxy_layer_filename != null
  runtime_proxy_layer_arn = one(aws_lambda_layer_version.runtime_proxy[*].arn)
}

resource "aws_lambda_layer_version" "runtime_proxy" {
  count = var.runtime_proxy_layer_filename == null ? 0 : 1

  layer_name       = "${var.function_name}-zeebe-runtime-proxy"
  filename         = var.runtime_proxy_layer_filename
  source_code_hash = filebase64sha256(var.runtime_proxy_layer_filename)
}

# What the function behind the layer publishes to the outcomes topic, for
# the test to read (not there for a Go function, as in the upgrade test).
resource "aws_sqs_queue" "outcomes" {
  count = var.runtime_proxy_layer_filename == null ? 0 : 1

  name = "${var.function_name}-outcomes"
}

resource "aws_sns_topic_subscription" "outcomes" {
  count = var.runtime_proxy_layer_filename == null ? 0 : 1

  topic_arn            = aws_sns_topic.outcomes.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.outcomes[0].arn
  raw_message_delivery = true
}
