# The functions' own resources moved into modules/_lambda (issue 18). These
# blocks carry an existing deployment's state over, so that the upgrade
# destroys and replaces nothing. The callback exists once at most: its
# instance [0] is the module's instance [0]; inside the module, the function,
# role and log group are counted (zeebe-lambda may attach to an existing
# function) and the policy is not.

moved {
  from = aws_cloudwatch_log_group.poller
  to   = module.poller.aws_cloudwatch_log_group.this[0]
}

moved {
  from = aws_iam_role.poller
  to   = module.poller.aws_iam_role.this[0]
}

moved {
  from = aws_iam_role_policy.poller
  to   = module.poller.aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.poller
  to   = module.poller.aws_lambda_function.this[0]
}

moved {
  from = aws_cloudwatch_log_group.fulfiller
  to   = module.fulfiller.aws_cloudwatch_log_group.this[0]
}

moved {
  from = aws_iam_role.fulfiller
  to   = module.fulfiller.aws_iam_role.this[0]
}

moved {
  from = aws_iam_role_policy.fulfiller
  to   = module.fulfiller.aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.fulfiller
  to   = module.fulfiller.aws_lambda_function.this[0]
}

moved {
  from = aws_cloudwatch_log_group.returner
  to   = module.returner.aws_cloudwatch_log_group.this[0]
}

moved {
  from = aws_iam_role.returner
  to   = module.returner.aws_iam_role.this[0]
}

moved {
  from = aws_iam_role_policy.returner
  to   = module.returner.aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.returner
  to   = module.returner.aws_lambda_function.this[0]
}

moved {
  from = aws_cloudwatch_log_group.callback[0]
  to   = module.callback[0].aws_cloudwatch_log_group.this[0]
}

moved {
  from = aws_iam_role.callback[0]
  to   = module.callback[0].aws_iam_role.this[0]
}

moved {
  from = aws_iam_role_policy.callback[0]
  to   = module.callback[0].aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.callback[0]
  to   = module.callback[0].aws_lambda_function.this[0]
}
