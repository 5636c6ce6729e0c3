module "bridge" {
  source = "../../modules/bridge"

  poller_filename                = "${var.dist}/zeebe-poller.zip"
  fulfiller_filename             = "${var.dist}/zeebe-fulfiller.zip"
  returner_filename              = "${var.dist}/zeebe-returner.zip"
  architectures                  = var.architectures
  zeebe_address                  = var.zeebe_address
  zeebe_client_id                = var.zeebe_client_id
  zeebe_client_secret_arn        = var.zeebe_client_secret_arn
  zeebe_authorization_server_url = var.zeebe_authorization_server_url
  zeebe_insecure_connection      = var.zeebe_insecure_connection
  poller_schedule                = var.poller_schedule
  poller_timeout                 = var.poller_timeout
  poller_safety_margin           = var.poller_safety_margin
}

# One Zeebe-ready Lambda per task identifier of bpmn/trip-booking.bpmn.
module "functions" {
  source   = "../../modules/zeebe-lambda"
  for_each = toset(["book-hotel", "book-car", "book-flight", "cancel-hotel", "cancel-car", "cancel-flight"])

  function_name      = each.key
  filename           = "${var.dist}/${each.key}.zip"
  architectures      = var.architectures
  timeout            = 10
  jobs_topic_arn     = module.bridge.jobs_topic_arn
  outcomes_topic_arn = module.bridge.outcomes_topic_arn
  retry_backoff      = var.retry_backoff
  returner           = module.bridge.returner
  payloads           = module.bridge.payloads
}
