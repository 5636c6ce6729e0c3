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
  # A customer managed key on the environment: Lambda decrypts it with the
  # function's role when the function starts.
  environment_key_statements = var.create_function && var.environment_kms_key_arn != null ? [{
    Sid      = "EnvironmentKey"
    Effect   = "Allow"
    Action   = ["kms:Decrypt"]
    Resource = [var.environment_kms_key_arn]
  }] : []
  # In a VPC, Lambda manages the function's network interfaces with its role
  # (what AWSLambdaVPCAccessExecutionRole grants; these actions take no
  # resource but "*").
  vpc_statements = var.create_function && length(var.vpc_subnet_ids) > 0 ? [{
    Sid      = "VPCNetworkInterfaces"
    Effect   = "Allow"
    Action   = ["ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:UnassignPrivateIpAddresses"]
    Resource = ["*"]
  }] : []
}

resource "aws_cloudwatch_log_group" "this" {
  count = var.create_function ? 1 : 0

  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
  #checkov:skip=CKV_AWS_158:the KMS key is the caller's choice (log_kms_key_arn); without one CloudWatch Logs encrypts with its own key
  kms_key_id = var.log_kms_key_arn
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
    Statement = concat(local.log_statements, var.policy_statements, local.xray_statements, local.environment_key_statements, local.vpc_statements)
  })

  # Only zeebe-lambda attaches to an existing function; the message is its.
  lifecycle {
    precondition {
      condition     = var.create_function || var.existing_role_name != null
      error_message = "existing_role_name is required when create_function is false: the module grants the function's role access to its queue and the outcomes topic."
    }
  }
}

# The zip in a bucket: Terraform's AWS provider creates functions whose zip
# is in the request one at a time (it holds a lock per provider while it reads
# the file, creates the function and waits for it), and those whose code is in
# S3 side by side, as terraform-aws-modules/lambda's store_on_s3 does.
resource "aws_s3_object" "code" {
  count = var.create_function && var.code_s3_bucket != null ? 1 : 0

  bucket      = var.code_s3_bucket
  key         = "${var.code_s3_prefix}${var.function_name}.zip"
  source      = var.filename
  source_hash = filebase64sha256(var.filename)
  tags        = var.tags
  #checkov:skip=CKV_AWS_186:the code bucket is the caller's (code_s3_bucket), and its default encryption applies
}

resource "aws_lambda_function" "this" {
  count = var.create_function ? 1 : 0

  function_name    = var.function_name
  role             = aws_iam_role.this[0].arn
  filename         = var.code_s3_bucket == null ? var.filename : null
  s3_bucket        = var.code_s3_bucket == null ? null : aws_s3_object.code[0].bucket
  s3_key           = var.code_s3_bucket == null ? null : aws_s3_object.code[0].key
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
    precondition {
      condition     = (length(var.vpc_subnet_ids) == 0) == (length(var.vpc_security_group_ids) == 0)
      error_message = "vpc_subnet_ids and vpc_security_group_ids go together: set both to put the function in a VPC, or neither."
    }
  }

  # Each of these is the caller's choice, passed from the bridge and
  # zeebe-lambda modules; the defaults are Lambda's own.
  #checkov:skip=CKV_AWS_115:reserved concurrency is the caller's choice (reserved_concurrent_executions): it takes from the account's pool
  #checkov:skip=CKV_AWS_116:nothing retryable is invoked asynchronously: SQS and the function URL invoke synchronously, the poller's schedule is its retry
  #checkov:skip=CKV_AWS_117:a VPC is the caller's choice (vpc_subnet_ids, vpc_security_group_ids): the functions reach only AWS APIs and the Zeebe gateway
  #checkov:skip=CKV_AWS_173:the KMS key is the caller's choice (environment_kms_key_arn); without one Lambda encrypts with its own key
  #checkov:skip=CKV_AWS_272:code signing is the caller's choice (code_signing_config_arn)
  #checkov:skip=CKV_AWS_50:X-Ray is the caller's choice (xray_tracing); the bridge's OpenTelemetry spans need no X-Ray
  kms_key_arn                    = var.environment_kms_key_arn
  code_signing_config_arn        = var.code_signing_config_arn
  reserved_concurrent_executions = var.reserved_concurrent_executions

  dynamic "vpc_config" {
    for_each = length(var.vpc_subnet_ids) == 0 ? [] : ["vpc"]
    content {
      subnet_ids         = var.vpc_subnet_ids
      security_group_ids = var.vpc_security_group_ids
    }
  }
}
