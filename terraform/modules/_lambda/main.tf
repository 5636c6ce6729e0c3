locals {
  # The one trust policy of every function the modules create.
  lambda_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  # An existing function keeps its own log group (Lambda creates one on its
  # first run) and its role's log permissions: creating the group again would
  # fail with ResourceAlreadyExistsException.
  log_statements = var.create_function ? [{
    Sid      = "Logs"
    Effect   = "Allow"
    Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    Resource = ["${aws_cloudwatch_log_group.this[0].arn}:*"]
  }] : []
  # X-Ray active tracing: the function sends its segments, and the bridge's
  # spans take the sampled trace header as their parent.
  xray_statements = var.xray_tracing ? [{
    Sid      = "XRay"
    Effect   = "Allow"
    Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    Resource = ["*"]
  }] : []
  role_name = var.create_function ? aws_iam_role.this[0].name : var.existing_role_name
}

resource "aws_cloudwatch_log_group" "this" {
  count = var.create_function ? 1 : 0

  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

# Every role the modules create is named after its function, and its inline
# policy zeebe-bridge-<function> unless policy_name says otherwise.
resource "aws_iam_role" "this" {
  count = var.create_function ? 1 : 0

  name               = var.function_name
  assume_role_policy = local.lambda_trust
  tags               = var.tags
}

resource "aws_iam_role_policy" "this" {
  # Named after the function, so several functions sharing an existing role
  # each add their own policy.
  name = coalesce(var.policy_name, "zeebe-bridge-${var.function_name}")
  role = local.role_name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = concat(local.log_statements, var.policy_statements, local.xray_statements)
  })

  # Only zeebe-lambda attaches to an existing function; the message is its.
  lifecycle {
    precondition {
      condition     = var.create_function || var.existing_role_name != null
      error_message = "existing_role_name is required when create_function is false: the module grants the function's role access to its queue and the outcomes topic."
    }
  }
}

resource "aws_lambda_function" "this" {
  count = var.create_function ? 1 : 0

  function_name    = var.function_name
  role             = aws_iam_role.this[0].arn
  filename         = var.filename
  source_code_hash = var.filename == null ? null : filebase64sha256(var.filename)
  handler          = var.handler
  runtime          = var.runtime
  architectures    = var.architectures
  timeout          = var.timeout
  memory_size      = var.memory_size
  layers           = length(var.layers) == 0 ? null : var.layers

  dynamic "tracing_config" {
    for_each = var.xray_tracing ? ["Active"] : []
    content {
      mode = tracing_config.value
    }
  }

  environment {
    variables = var.environment
  }

  tags = var.tags
  # Lambda would create the group itself, without retention, on the first
  # run; Terraform's then fails to create it.
  depends_on = [aws_cloudwatch_log_group.this]

  lifecycle {
    precondition {
      condition     = var.filename != null
      error_message = "filename is required when create_function is true."
    }
  }
}
