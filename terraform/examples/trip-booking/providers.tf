# target = "aws": your AWS account, credentials from the usual chain.
# target = "localstack": LocalStack at localstack_endpoint (localstack/stack up).
provider "aws" {
  region = var.region

  access_key                  = var.target == "localstack" ? "test" : null
  secret_key                  = var.target == "localstack" ? "test" : null
  skip_credentials_validation = var.target == "localstack"
  skip_metadata_api_check     = var.target == "localstack"
  skip_requesting_account_id  = var.target == "localstack"

  dynamic "endpoints" {
    for_each = var.target == "localstack" ? [var.localstack_endpoint] : []
    content {
      cloudwatch     = endpoints.value
      cloudwatchlogs = endpoints.value
      events         = endpoints.value
      iam            = endpoints.value
      lambda         = endpoints.value
      secretsmanager = endpoints.value
      sns            = endpoints.value
      sqs            = endpoints.value
      sts            = endpoints.value
    }
  }
}
