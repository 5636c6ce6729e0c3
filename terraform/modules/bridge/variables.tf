variable "poller_filename" {
  description = "Deployment zip of the poller (dist/zeebe-poller.zip from `make build`)."
  type        = string
}

variable "fulfiller_filename" {
  description = "Deployment zip of the fulfiller (dist/zeebe-fulfiller.zip)."
  type        = string
}

variable "returner_filename" {
  description = "Deployment zip of the returner, which hands dead-lettered jobs back to Zeebe (dist/zeebe-returner.zip)."
  type        = string
}

variable "callback_filename" {
  description = "Deployment zip of the callback function (dist/zeebe-callback.zip), whose function URL completes pending jobs for systems that are not written in Go. Null creates no callback function."
  type        = string
  default     = null
}

variable "runtime_proxy_layer_filename" {
  description = "Zip of the bridge's layer for functions in other runtimes (dist/zeebe-runtime-proxy.zip): Python, Node.js and Java functions take part unmodified with it (docs/runtimes.md). Published as the layer zeebe-runtime-proxy; output runtime_proxy_layer_arn goes to the zeebe-lambda module. Null publishes none."
  type        = string
  default     = null
}

variable "callback_authorization_type" {
  description = "Authorization of the callback function URL: AWS_IAM (callers sign with SigV4 and need lambda:InvokeFunctionUrl) or NONE (the completion token in the body is the only credential: a bearer token for one activation of one job)."
  type        = string
  default     = "AWS_IAM"
  validation {
    condition     = contains(["AWS_IAM", "NONE"], var.callback_authorization_type)
    error_message = "callback_authorization_type must be AWS_IAM or NONE."
  }
}

variable "return_backoff" {
  description = "Backoff before Zeebe hands a returned (dead-lettered) job out again (Go duration): short, so the job runs again at once, but not zero, so a fault that persists does not spin."
  type        = string
  default     = "1s"

  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]+)?(ms|s|m))+$", var.return_backoff))
    error_message = "return_backoff must be a Go duration such as \"1s\" or \"500ms\"."
  }
}

variable "max_returns" {
  description = "How many times the returner hands a dead-lettered job back with its retries unchanged; each further dead-letter of the job costs a retry, so a fault that persists ends in an incident. A configuration fault (no payload bucket, access denied) costs all retries at once."
  type        = number
  default     = 3

  validation {
    condition     = var.max_returns >= 1 && floor(var.max_returns) == var.max_returns
    error_message = "max_returns must be a whole number, at least 1."
  }
}

variable "code_s3_bucket" {
  description = "Bucket to upload the poller's, fulfiller's, returner's and callback's deployment zips to (as <code_s3_prefix><function name>.zip) and create them from, as terraform-aws-modules/lambda's store_on_s3 does. Its name must be known at plan time: a literal, or aws_s3_bucket.<name>.bucket, not .id. Null (the default): each zip goes in its CreateFunction request, and Terraform's AWS provider creates such functions one at a time."
  type        = string
  default     = null

  validation {
    condition     = var.code_s3_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.code_s3_bucket))
    error_message = "code_s3_bucket must be an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }
}

variable "code_s3_prefix" {
  description = "Key prefix of the deployment zips in code_s3_bucket, e.g. \"lambda/\"."
  type        = string
  default     = ""

  validation {
    condition     = !startswith(var.code_s3_prefix, "/")
    error_message = "code_s3_prefix must not start with a slash: S3 keys have none, so \"/lambda/\" would be a key under an empty folder name."
  }
}

variable "architectures" {
  description = "Instruction set of the poller, fulfiller and returner: [\"x86_64\"] (Lambda's default, and what `make build` builds unless GOARCH_LAMBDA=arm64) or [\"arm64\"]."
  type        = list(string)
  default     = ["x86_64"]

  validation {
    condition     = length(var.architectures) == 1 && contains(["arm64", "x86_64"], var.architectures[0])
    error_message = "architectures must be [\"arm64\"] or [\"x86_64\"]."
  }
}

variable "zeebe_address" {
  description = "Zeebe gateway address, host:port (e.g. the cluster's gRPC address in Camunda SaaS)."
  type        = string
}

variable "zeebe_client_id" {
  description = "OAuth client id for Zeebe; null for a gateway without authentication."
  type        = string
  default     = null
}

variable "zeebe_client_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the OAuth client secret; read by poller and fulfiller at cold start."
  type        = string
  default     = null

  validation {
    condition     = var.zeebe_client_secret_arn == null || can(regex("^arn:aws[a-zA-Z-]*:secretsmanager:", var.zeebe_client_secret_arn))
    error_message = "zeebe_client_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "zeebe_authorization_server_url" {
  description = "OAuth token URL (ZEEBE_AUTHORIZATION_SERVER_URL)."
  type        = string
  default     = null
}

variable "zeebe_token_audience" {
  description = "OAuth audience (ZEEBE_TOKEN_AUDIENCE)."
  type        = string
  default     = null
}

variable "zeebe_token_scope" {
  description = "OAuth scope sent with the token request (ZEEBE_TOKEN_SCOPE); Camunda 8 SaaS API clients show it when one is needed."
  type        = string
  default     = null
}

variable "zeebe_tenant_ids" {
  description = "Tenants whose jobs the poller activates (ZEEBE_DEFAULT_JOB_WORKER_TENANT_IDS); empty: the gateway's default tenant, as without multi-tenancy."
  type        = list(string)
  default     = []

  validation {
    condition     = length([for t in var.zeebe_tenant_ids : t if t != "<default>" && !can(regex("^[A-Za-z0-9_.-]{1,31}$", t))]) == 0
    error_message = "zeebe_tenant_ids must be tenant ids (<default>, or letters, digits, _, - and . only, at most 31 characters each)."
  }
}

variable "zeebe_insecure_connection" {
  description = "Plaintext gRPC to the gateway (only for a local engine)."
  type        = bool
  default     = false
}

variable "job_type" {
  description = "Job type the poller activates."
  type        = string
  default     = "lambda"
}

variable "job_timeout" {
  description = "Job timeout the poller asks for (Go duration); the task header `timeout` overrides it per task."
  type        = string
  default     = "5m"
}

variable "poller_schedule" {
  description = "EventBridge schedule of the poller. Each run lasts poller_timeout less poller_safety_margin, so runs follow each other."
  type        = string
  default     = "rate(14 minutes)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.poller_schedule))
    error_message = "poller_schedule must be an EventBridge schedule expression such as rate(14 minutes)."
  }
}

variable "poller_timeout" {
  description = "Poller Lambda timeout in seconds."
  type        = number
  default     = 900

  validation {
    condition     = var.poller_timeout >= 60 && var.poller_timeout <= 900
    error_message = "poller_timeout must be between 60 and 900 seconds (Lambda's limit)."
  }
}

variable "poller_safety_margin" {
  description = "The poller stops activating jobs this long before its deadline (Go duration)."
  type        = string
  default     = "30s"
}

variable "fulfiller_timeout" {
  description = "Timeout of the fulfiller in seconds. The outcomes queue's visibility timeout is six times it, which is also how long the outcomes of a fulfiller invocation that crashed wait before they are received again: keep that below the job timeout, or their jobs time out and run again."
  type        = number
  default     = 30

  validation {
    condition     = var.fulfiller_timeout >= 5 && var.fulfiller_timeout <= 900 && floor(var.fulfiller_timeout) == var.fulfiller_timeout
    error_message = "fulfiller_timeout must be a whole number of seconds between 5 and 900."
  }
}

variable "fulfiller_batching_window_in_seconds" {
  description = "How long the outcomes queue's event source may gather outcomes before it invokes the fulfiller. 0 applies a lone outcome at once; under load receives return full batches of 10 anyway."
  type        = number
  default     = 0

  validation {
    condition     = var.fulfiller_batching_window_in_seconds >= 0 && var.fulfiller_batching_window_in_seconds <= 300 && floor(var.fulfiller_batching_window_in_seconds) == var.fulfiller_batching_window_in_seconds
    error_message = "fulfiller_batching_window_in_seconds must be a whole number of seconds between 0 and 300."
  }
}

variable "fulfiller_maximum_concurrency" {
  description = "Most concurrent fulfiller invocations the outcomes queue starts; keep it within the fulfiller's available concurrency."
  type        = number
  default     = 10

  validation {
    condition     = var.fulfiller_maximum_concurrency >= 2 && var.fulfiller_maximum_concurrency <= 1000 && floor(var.fulfiller_maximum_concurrency) == var.fulfiller_maximum_concurrency
    error_message = "fulfiller_maximum_concurrency must be a whole number between 2 and 1000 (the limits of the SQS event source)."
  }
}

variable "log_retention_days" {
  description = "Retention of the poller's, fulfiller's, returner's and callback's log groups in days (0: never expire)."
  type        = number
  default     = 365
}

variable "sns_kms_master_key_id" {
  description = "KMS key for server-side encryption of the topics: alias/aws/sns (AWS-managed), a customer-managed key's ARN (the poller, returner, callback and, through zeebe-lambda's outcomes_topic_kms_key_arn, each function get kms:GenerateDataKey and kms:Decrypt on it; its key policy must let sns.amazonaws.com use it to deliver to the encrypted queues), or null for none."
  type        = string
  default     = "alias/aws/sns"
  validation {
    # IAM grants a key by its ARN; an alias would leave the publishers without it.
    condition     = var.sns_kms_master_key_id == null || var.sns_kms_master_key_id == "alias/aws/sns" || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+$", var.sns_kms_master_key_id))
    error_message = "sns_kms_master_key_id must be alias/aws/sns, null, or a key's ARN (arn:aws:kms:<region>:<account>:key/<id>): the publishers are granted the key by its ARN."
  }
}

variable "payload_bucket_name" {
  description = "Name of the bucket for payloads above SNS's limit; null names it zeebe-bridge-payloads-<account>-<region>."
  type        = string
  default     = null
}

variable "payload_threshold" {
  description = "Message size in bytes above which job messages and outcomes go to the payload bucket (a pointer travels instead)."
  type        = number
  default     = 204800

  validation {
    condition     = var.payload_threshold >= 1024 && var.payload_threshold <= 262144
    error_message = "payload_threshold must be between 1024 and 262144 bytes (SNS's limit)."
  }
}

variable "payload_expiration_days" {
  description = "Days after which the bucket's lifecycle rule removes a payload nobody deleted (a job or outcome that reached a DLQ keeps its payload until then)."
  type        = number
  default     = 2

  validation {
    condition     = var.payload_expiration_days >= 1 && floor(var.payload_expiration_days) == var.payload_expiration_days
    error_message = "payload_expiration_days must be a whole number of days, at least 1."
  }
}

variable "payload_bucket_force_destroy" {
  description = "Let terraform destroy remove the payload bucket with objects still in it."
  type        = bool
  default     = false
}

variable "job_token_kms_key_id" {
  description = "KMS key that encrypts the job token keyring secret; null uses the account's aws/secretsmanager key."
  type        = string
  default     = null
}

variable "job_token_recovery_window_in_days" {
  description = "Days a deleted job token keyring can be restored (0 deletes it at once, 7 to 30 otherwise)."
  type        = number
  default     = 7

  validation {
    condition     = var.job_token_recovery_window_in_days == 0 || (var.job_token_recovery_window_in_days >= 7 && var.job_token_recovery_window_in_days <= 30)
    error_message = "job_token_recovery_window_in_days must be 0 or between 7 and 30."
  }
}

variable "alarm_actions" {
  description = "ARNs notified when an outcome lands in the zeebe_jobs2complete DLQ."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "otel_environment" {
  description = "OpenTelemetry settings of the bridge's functions, as the standard OTEL_ environment variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, ...). Without an endpoint the bridge records no spans. Headers (OTEL_EXPORTER_OTLP_HEADERS), which usually carry an API key, are refused here: put them in a secret and pass otel_headers_secret_arn. Pass the same map as `environment` to each zeebe-lambda module so that the functions' spans join the trace."
  type        = map(string)
  default     = {}
  validation {
    condition     = can([for k in keys(var.otel_environment) : regex("^OTEL_", k)])
    error_message = "otel_environment takes OTEL_ variables only (such as OTEL_EXPORTER_OTLP_ENDPOINT); the bridge sets the others itself."
  }
  validation {
    condition     = length([for k in keys(var.otel_environment) : k if can(regex("^OTEL_EXPORTER_OTLP_([A-Z]+_)?HEADERS(_SECRET_ARN)?$", k))]) == 0
    error_message = "otel_environment must not carry OTLP headers (OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TRACES_HEADERS, ...): they usually hold an API key, which would stand in the functions' configuration in plain text. Store them as a Secrets Manager secret's string value (key=value,key=value) and pass its ARN as otel_headers_secret_arn."
  }
}

variable "xray_tracing" {
  description = "Turn on X-Ray active tracing for the bridge's functions (tracing_config Active, and xray:PutTraceSegments and xray:PutTelemetryRecords on their roles). The bridge's OpenTelemetry spans then take the sampled X-Ray trace header as their parent; export them with otel_environment."
  type        = bool
  default     = false
}

variable "name_prefix" {
  description = "Prefix of every name the bridge gives (topics, queues, functions, roles, log groups, schedule, alarms, secret, bucket, layer), so that several bridges sit side by side in one account and region: \"staging-\" names the jobs topic staging-zeebe_jobs. Pass the same prefix to each of its zeebe-lambda modules. The bridge's name, <prefix>zeebe-bridge, tags its roles and is the Bridge dimension of its metrics. Empty keeps the names of a bridge alone in its account."
  type        = string
  default     = ""
  validation {
    # Lower case, since the bucket's name carries it; short, since function,
    # role and bucket names are limited to 64 and 63 characters.
    condition     = can(regex("^([a-z][a-z0-9-]{0,11}-)?$", var.name_prefix))
    error_message = "name_prefix must be empty or lower-case letters, digits and hyphens, start with a letter, end with \"-\" and be at most 13 characters, such as \"staging-\"."
  }
}

variable "poller_daemon_role_arns" {
  description = "Roles of zeebe-poller-daemon processes (job push) of this bridge: like the poller, they may publish on the jobs topic, read the keyring and use the payload bucket. Everyone else is denied by the resource policies."
  type        = list(string)
  default     = []
}

variable "trusted_principal_arns" {
  description = "Principals besides the bridge's roles and the one applying this module that may use the bridge's resources as the bridge does: read the keyring (zeebe-bridge rotate-key), publish outcomes and use the payload bucket (zeebe-bridge, break-glass roles). Use role ARNs, not assumed-role session ARNs."
  type        = list(string)
  default     = []
}

variable "log_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the functions' log groups; null: CloudWatch Logs' own encryption. Its key policy must let logs.<region>.amazonaws.com use it (README)."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>): CloudWatch Logs takes no alias."
  }
}

variable "environment_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the functions' environment variables; each function's role gets kms:Decrypt on it. Null: Lambda's own key."
  type        = string
  default     = null

  validation {
    condition     = var.environment_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.environment_kms_key_arn))
    error_message = "environment_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "vpc_subnet_ids" {
  description = "Subnets to run the functions in, with vpc_security_group_ids; they must reach SNS, SQS, S3, Secrets Manager (NAT or VPC endpoints) and the Zeebe gateway. Empty: outside any VPC."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.vpc_subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "vpc_subnet_ids must be subnet ids (subnet-0123abcd)."
  }
}

variable "vpc_security_group_ids" {
  description = "Security groups of the functions in the VPC of vpc_subnet_ids; set both or neither."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.vpc_security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "vpc_security_group_ids must be security group ids (sg-0123abcd)."
  }
}

variable "code_signing_config_arn" {
  description = "ARN of a Lambda code signing configuration for the bridge's functions; null: no signature checked."
  type        = string
  default     = null

  validation {
    condition     = var.code_signing_config_arn == null || can(regex("^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:code-signing-config:csc-[a-z0-9]+$", var.code_signing_config_arn))
    error_message = "code_signing_config_arn must be a code signing configuration ARN (arn:aws:lambda:<region>:<account>:code-signing-config:csc-<id>)."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for each of the bridge's functions, which is also its limit: { poller, fulfiller, returner, callback }, each -1 (the default: none reserved) or at least 1. The poller runs at most two at a time (a run and the next scheduled one); keep the fulfiller's at least fulfiller_maximum_concurrency."
  type = object({
    poller    = optional(number)
    fulfiller = optional(number)
    returner  = optional(number)
    callback  = optional(number)
  })
  default = {}

  validation {
    condition     = alltrue([for v in values(var.reserved_concurrent_executions) : v == null || v == -1 || (coalesce(v, 0) >= 1 && floor(coalesce(v, 0)) == v)])
    error_message = "reserved_concurrent_executions takes -1 (none reserved) or a whole number, at least 1, for each function: 0 would throttle every invocation."
  }

  validation {
    condition     = coalesce(try(var.reserved_concurrent_executions.poller, null), -1) == -1 || coalesce(try(var.reserved_concurrent_executions.poller, null), -1) >= 2
    error_message = "reserved_concurrent_executions.poller must be -1 or at least 2: consecutive poller runs overlap, and a scheduled run that is throttled is lost."
  }
}

variable "payload_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the payload bucket (SSE-KMS, with an S3 bucket key); every role that reads or writes payloads gets kms:Decrypt and kms:GenerateDataKey on it, as do zeebe-lambda modules given the `payloads` output. Null: SSE-S3."
  type        = string
  default     = null

  validation {
    condition     = var.payload_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.payload_kms_key_arn))
    error_message = "payload_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>): the roles are granted on it."
  }
}

variable "payload_access_logs" {
  description = "Server access logging of the payload bucket: the target bucket (which must let logging.s3.amazonaws.com write) and the prefix of its log objects. Null: no access logs."
  type = object({
    bucket = string
    prefix = optional(string, "zeebe-bridge-payloads/")
  })
  default = null

  validation {
    condition     = var.payload_access_logs == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.payload_access_logs.bucket))
    error_message = "payload_access_logs.bucket must be an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)."
  }
}

variable "otel_headers_secret_arn" {
  description = "ARN of a Secrets Manager secret whose string value is the OTLP exporter's headers, in the OTEL_EXPORTER_OTLP_HEADERS format (key=value,key=value, values percent-encoded), e.g. an API key of the tracing backend. The poller and the fulfiller read it at start (OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN) and their roles may read exactly this secret; pass the same ARN to each zeebe-lambda module. Null: no headers beyond otel_environment's."
  type        = string
  default     = null

  validation {
    condition     = var.otel_headers_secret_arn == null || can(regex("^arn:aws[a-zA-Z-]*:secretsmanager:", var.otel_headers_secret_arn))
    error_message = "otel_headers_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:...)."
  }
}

variable "zeebe_ca_certificate_pem" {
  description = "PEM of the CA certificate that signed a self-managed gateway's TLS certificate (ZEEBE_CA_CERTIFICATE_PEM), e.g. file(\"ca.pem\"); null trusts the system roots, as Camunda 8 SaaS needs. It travels in the poller's and the fulfiller's environment, which Lambda caps at 4 KB in all: one CA certificate fits (an RSA 4096 one is some 1.9 KB), a chain may not."
  type        = string
  default     = null

  validation {
    condition     = var.zeebe_ca_certificate_pem == null || can(regex("^\\s*-----BEGIN CERTIFICATE-----", var.zeebe_ca_certificate_pem))
    error_message = "zeebe_ca_certificate_pem must be a PEM certificate, starting with -----BEGIN CERTIFICATE-----."
  }
  validation {
    condition     = length(var.zeebe_ca_certificate_pem == null ? "" : var.zeebe_ca_certificate_pem) <= 2400
    error_message = "zeebe_ca_certificate_pem is longer than 2400 bytes: with the bridge's other variables it would not fit the 4 KB Lambda allows a function's environment. Give the CA certificate alone (the root that signed the gateway's chain, not the chain), or a smaller (ECDSA) CA."
  }
}

variable "max_token_lifetime_seconds" {
  description = "The longest a job token is in use, from the poller signing it to its last outcome: the longest job timeout (job_timeout, or a task header `timeout`), or for asynchronous completion the longest a job is kept alive by heartbeats. `zeebe-bridge rotate-key` keeps a retired key this long (plus the keyring's 5-minute cache), then drops it; a token used longer than this after its key's rotation is refused as signed with an unknown key. Default: 7 days."
  type        = number
  default     = 604800
  validation {
    condition     = var.max_token_lifetime_seconds >= 900 && floor(var.max_token_lifetime_seconds) == var.max_token_lifetime_seconds
    error_message = "max_token_lifetime_seconds must be a whole number of seconds, at least 900 (Lambda's longest run)."
  }
}

variable "fulfiller_memory_size" {
  description = "Memory of the fulfiller in MB. It applies as many outcomes offloaded to S3 (up to 4 MiB of variables) at once as fit: 2 at 128, 5 at 256, the whole batch of ten from 440 (docs/design.md, \"Memory of large outcomes\"); small outcomes are never held back. More memory is also more CPU."
  type        = number
  default     = 128
  validation {
    condition     = var.fulfiller_memory_size >= 128 && var.fulfiller_memory_size <= 10240 && floor(var.fulfiller_memory_size) == var.fulfiller_memory_size
    error_message = "fulfiller_memory_size must be a whole number between 128 and 10240 MB."
  }
}

variable "poller_memory_size" {
  description = "Memory of the poller in MB."
  type        = number
  default     = 128
  validation {
    condition     = var.poller_memory_size >= 128 && var.poller_memory_size <= 10240 && floor(var.poller_memory_size) == var.poller_memory_size
    error_message = "poller_memory_size must be a whole number between 128 and 10240 MB."
  }
}

variable "returner_memory_size" {
  description = "Memory of the returner in MB."
  type        = number
  default     = 128
  validation {
    condition     = var.returner_memory_size >= 128 && var.returner_memory_size <= 10240 && floor(var.returner_memory_size) == var.returner_memory_size
    error_message = "returner_memory_size must be a whole number between 128 and 10240 MB."
  }
}

variable "callback_memory_size" {
  description = "Memory of the callback function in MB (with callback_filename)."
  type        = number
  default     = 128
  validation {
    condition     = var.callback_memory_size >= 128 && var.callback_memory_size <= 10240 && floor(var.callback_memory_size) == var.callback_memory_size
    error_message = "callback_memory_size must be a whole number between 128 and 10240 MB."
  }
}
