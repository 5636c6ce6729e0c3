# The function, its role, log group and policy moved into modules/_lambda
# (issue 18). These blocks carry an existing deployment's state over, so that
# the upgrade destroys and replaces nothing; each moves every instance (the
# function, role and log group are counted, in both places, by
# create_function).

moved {
  from = aws_cloudwatch_log_group.this
  to   = module.lambda.aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.this
  to   = module.lambda.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this
  to   = module.lambda.aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.this
  to   = module.lambda.aws_lambda_function.this
}
