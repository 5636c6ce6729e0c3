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

# Its function, role, log group and the policy's Logs statement come from
# modules/_lambda, as for the bridge's own functions.
module "long_work_finish" {
  source = "../../terraform/modules/_lambda"
  count  = local.long_work

  function_name      = "long-work-finish"
  policy_name        = "long-work-finish"
  filename           = "${var.dist}/long-work-finish.zip"
  code_s3_bucket     = aws_s3_bucket.code.bucket
  architectures      = var.architectures
  timeout            = 10
  log_retention_days = 1

  environment = {
    WORK_QUEUE_URL          = aws_sqs_queue.long_work[0].url
    ZEEBE_FULFILLER_SNS_ARN = module.bridge.outcomes_topic_arn
  }

  policy_statements = [
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
}

resource "aws_lambda_event_source_mapping" "long_work_finish" {
  count                   = local.long_work
  event_source_arn        = aws_sqs_queue.long_work[0].arn
  function_name           = module.long_work_finish[0].function_arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]
  # Not before the role may receive from the queue.
  depends_on = [module.long_work_finish]
}

# long-work-finish's own resources moved into modules/_lambda (issue 18):
# the state of a deployed example carries over, nothing is replaced. It
# exists once at most, as instance [0] of the module.
moved {
  from = aws_cloudwatch_log_group.long_work_finish[0]
  to   = module.long_work_finish[0].aws_cloudwatch_log_group.this[0]
}

moved {
  from = aws_iam_role.long_work_finish[0]
  to   = module.long_work_finish[0].aws_iam_role.this[0]
}

moved {
  from = aws_iam_role_policy.long_work_finish[0]
  to   = module.long_work_finish[0].aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.long_work_finish[0]
  to   = module.long_work_finish[0].aws_lambda_function.this[0]
}
