# The rest of the asynchronous completion example (bpmn/long-work.bpmn,
# internal/examples/longwork), when the long-work function is deployed: the queue its
# work items wait on and long-work-finish, the plain Lambda that does the
# work, heartbeats and completes the job through its completion token.
locals {
  long_work = contains(keys(var.functions), "long-work") ? 1 : 0
}

resource "aws_sqs_queue" "long_work_dlq" {
  count = local.long_work
  name  = "long-work-dlq"
}

resource "aws_sqs_queue" "long_work" {
  count                      = local.long_work
  name                       = "long-work"
  visibility_timeout_seconds = 60
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.long_work_dlq[0].arn
    maxReceiveCount     = 5
  })
}

# long-work puts the first work item on the queue.
resource "aws_iam_role_policy" "long_work_start" {
  count = local.long_work
  name  = "long-work-queue"
  role  = element(split("/", module.functions["long-work"].role_arn), 1)
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "StartWork"
      Effect   = "Allow"
      Action   = ["sqs:SendMessage"]
      Resource = [aws_sqs_queue.long_work[0].arn]
    }]
  })
}

resource "aws_cloudwatch_log_group" "long_work_finish" {
  count             = local.long_work
  name              = "/aws/lambda/long-work-finish"
  retention_in_days = 1
}

resource "aws_iam_role" "long_work_finish" {
  count = local.long_work
  name  = "long-work-finish"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "long_work_finish" {
  count = local.long_work
  name  = "long-work-finish"
  role  = aws_iam_role.long_work_finish[0].name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "Logs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.long_work_finish[0].arn}:*"]
      },
      {
        Sid      = "WorkItems"
        Effect   = "Allow"
        Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility", "sqs:SendMessage"]
        Resource = [aws_sqs_queue.long_work[0].arn]
      },
      {
        # Heartbeats and the completion go where every outcome goes.
        Sid      = "PublishOutcomes"
        Effect   = "Allow"
        Action   = ["sns:Publish"]
        Resource = [module.bridge.outcomes_topic_arn]
      },
    ]
  })
}

resource "aws_lambda_function" "long_work_finish" {
  count            = local.long_work
  function_name    = "long-work-finish"
  role             = aws_iam_role.long_work_finish[0].arn
  filename         = "${var.dist}/long-work-finish.zip"
  source_code_hash = filebase64sha256("${var.dist}/long-work-finish.zip")
  handler          = "bootstrap"
  runtime          = "provided.al2023"
  architectures    = var.architectures
  timeout          = 10
  memory_size      = 128

  environment {
    variables = {
      WORK_QUEUE_URL          = aws_sqs_queue.long_work[0].url
      ZEEBE_FULFILLER_SNS_ARN = module.bridge.outcomes_topic_arn
    }
  }

  depends_on = [aws_cloudwatch_log_group.long_work_finish]
}

resource "aws_lambda_event_source_mapping" "long_work_finish" {
  count                   = local.long_work
  event_source_arn        = aws_sqs_queue.long_work[0].arn
  function_name           = aws_lambda_function.long_work_finish[0].arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]
  depends_on              = [aws_iam_role_policy.long_work_finish]
}
