variable "function_name" {
  description = "Name of the Lambda function. Unless `identifier` is set, it is also the BPMN task header `identifier` that routes jobs to it, and names its queue <name_prefix>zeebe_<function_name>."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 letters, digits, '-' or '_' (a Lambda function name)."
  }
}

variable "create_function" {
  description = "Create the Lambda function from `filename`. Set to false to make an existing function (`function_arn`) Zeebe-ready."
  type        = bool
  default     = true
}

variable "attach_runtime_proxy" {
  description = "For an existing function (create_function = false) in a managed runtime (Python, Node.js, Java): put the layer (runtime_proxy_layer_arn) and the environment it needs in the output runtime_proxy_attachment, which `zeebe-bridge attach-layer <function>` applies to the function (Terraform cannot change a function it does not manage). A function whose own deployment can add a layer and variables (SAM, CDK, the Serverless Framework, Terraform) sets them there instead (docs/runtimes.md#deploying)."
  type        = bool
  default     = false
}

variable "function_arn" {
  description = "ARN of an existing function to attach to when create_function is false."
  type        = string
  default     = null

  validation {
    condition     = var.function_arn == null || can(regex("^arn:aws[a-zA-Z-]*:lambda:", var.function_arn))
    error_message = "function_arn must be a Lambda function ARN (arn:aws:lambda:...)."
  }
}

variable "existing_role_name" {
  description = "Name of the existing function's execution role; the module attaches its queue and topic permissions to it when create_function is false."
  type        = string
  default     = null
}

variable "filename" {
  description = "Path of the deployment zip (a `bootstrap` binary for provided.al2023) when create_function is true."
  type        = string
  default     = null
}

variable "code_s3_bucket" {
  description = "Bucket to upload the function's deployment zip to (as <code_s3_prefix><function name>.zip) and create it from, as terraform-aws-modules/lambda's store_on_s3 does. Its name must be known at plan time: a literal, or aws_s3_bucket.<name>.bucket, not .id. Null (the default): each zip goes in its CreateFunction request, and Terraform's AWS provider creates such functions one at a time."
  type        = string
  default     = null

  validation {
    condition     = var.code_s3_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.code_s3_bucket))
    error_message = "code_s3_bucket must be an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }
}

variable "code_s3_prefix" {
  description = "Key prefix of the deployment zip in code_s3_bucket, e.g. \"lambda/\"."
  type        = string
  default     = ""

  validation {
    condition     = !startswith(var.code_s3_prefix, "/")
    error_message = "code_s3_prefix must not start with a slash: S3 keys have none, so \"/lambda/\" would be a key under an empty folder name."
  }
}

variable "handler" {
  description = "Handler of the function (bootstrap for the provided runtimes)."
  type        = string
  default     = "bootstrap"
}

variable "runtime" {
  description = "Lambda runtime."
  type        = string
  default     = "provided.al2023"
}

variable "runtime_proxy_layer_arn" {
  description = "The bridge's layer for functions that are not Go (module bridge's output runtime_proxy_layer_arn). Attached, with AWS_LAMBDA_EXEC_WRAPPER=/opt/zeebe-runtime-proxy, to a function this module creates whose runtime is not provided.*: the function's handler then receives the job's variables as its event, unmodified (docs/runtimes.md). Required for such a runtime."
  type        = string
  default     = null
}

variable "architectures" {
  description = "Instruction set of the function: [\"x86_64\"] (Lambda's default, and what `make build` builds unless GOARCH_LAMBDA=arm64) or [\"arm64\"]."
  type        = list(string)
  default     = ["x86_64"]

  validation {
    condition     = length(var.architectures) == 1 && contains(["arm64", "x86_64"], var.architectures[0])
    error_message = "architectures must be [\"arm64\"] or [\"x86_64\"]."
  }
}

variable "timeout" {
  description = "Function timeout in seconds (also of an existing function: the queue's visibility timeout is six times it)."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 1 and 900: Lambda stops every function after 900 seconds."
  }
}

variable "memory_size" {
  description = "Function memory in MB."
  type        = number
  default     = 128

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "environment" {
  description = "Additional environment variables of the function."
  type        = map(string)
  default     = {}

  validation {
    condition     = length([for k in keys(var.environment) : k if can(regex("^OTEL_EXPORTER_OTLP_([A-Z]+_)?HEADERS(_SECRET_ARN)?$", k))]) == 0
    error_message = "environment must not carry OTLP headers (OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TRACES_HEADERS, ...): they usually hold an API key, which would stand in the function's configuration in plain text. Store them as a Secrets Manager secret's string value (key=value,key=value) and pass its ARN as otel_headers_secret_arn."
  }
}

variable "job_timeout_seconds" {
  description = "The bridge's job timeout in seconds (module bridge's output `job_timeout_seconds`). When set, a function timeout longer than it is refused at plan time: Zeebe would hand the job out again while the function still runs. lambdakit stops a handler at the job's deadline in any case. Null: no check (set it when the task header `timeout` gives these tasks a longer job timeout)."
  type        = number
  default     = null

  validation {
    condition     = var.job_timeout_seconds == null || try(var.job_timeout_seconds > 0, false)
    error_message = "job_timeout_seconds must be a positive number of seconds, or null."
  }
}

variable "jobs_topic_arn" {
  description = "ARN of the zeebe_jobs SNS topic (output jobs_topic_arn of the bridge module)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:sns:", var.jobs_topic_arn))
    error_message = "jobs_topic_arn must be an SNS topic ARN."
  }
}

variable "outcomes_topic_arn" {
  description = "ARN of the zeebe_jobs2complete SNS topic (output outcomes_topic_arn of the bridge module)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:sns:", var.outcomes_topic_arn))
    error_message = "outcomes_topic_arn must be an SNS topic ARN."
  }
}

variable "event_topics" {
  description = "Further SNS topics whose messages (business events) the function's queue receives beside its jobs, each with an optional filter policy (JSON, on message attributes) and raw delivery (default true). lambdakit hands them to the function's event handler (lambdakit.WithEvents; through the layer, the function gets them as an SQS event). Like jobs, they are received once: a failed event goes to the DLQ (docs/runtimes.md, \"Business events\")."
  type = list(object({
    topic_arn            = string
    filter_policy        = optional(string)
    raw_message_delivery = optional(bool, true)
  }))
  default = []

  validation {
    condition     = length([for t in var.event_topics : t if !can(regex("^arn:[^:]+:sns:", t.topic_arn))]) == 0
    error_message = "Each event_topics entry needs the topic_arn of an SNS topic."
  }
}

variable "retry_backoff" {
  description = "How long Zeebe waits before handing out a job the function failed (Go duration, e.g. 5s)."
  type        = string
  default     = "5s"
}

variable "returner" {
  description = "The bridge's returner (module bridge's output `returner`). When set, it reads this function's DLQ and hands each dead-lettered job back to Zeebe at once with its retries unchanged; what it cannot decode stays in the DLQ. Null leaves a dead-lettered job to wait out its Zeebe job timeout."
  type = object({
    function_arn = string
    # Unused since the bridge grants its returner every function's DLQ at
    # once; kept so that existing callers need no change.
    role_name = optional(string)
    timeout   = number
  })
  default = null
}

variable "payloads" {
  description = "The bridge's payload bucket (module bridge's output `payloads`). When set, the function reads jobs offloaded to S3 and offloads outcomes above the threshold there, each under its own prefix; null leaves messages above SNS's 256 KiB to fail their job. For a function that exists (create_function = false), also set PAYLOAD_BUCKET and PAYLOAD_THRESHOLD in its environment."
  type = object({
    bucket_name = string
    bucket_arn  = string
    threshold   = number
    kms_key_arn = optional(string)
  })
  default = null
}

variable "batch_size" {
  description = "Job messages per invocation. Null: 10 for a Go function, whose handlers run side by side; 1 for another runtime, which runs one invocation at a time behind the layer, so that a slow job never holds up the others of its batch (Lambda runs more invocations instead; see ZEEBE_PROXY_MAX_RUNTIMES in docs/runtimes.md)."
  type        = number
  default     = null

  validation {
    condition     = var.batch_size == null ? true : var.batch_size >= 1 && var.batch_size <= 10
    error_message = "batch_size must be between 1 and 10."
  }
}

variable "maximum_batching_window_in_seconds" {
  description = "How long the SQS event source may gather job messages before it invokes the function. 0 invokes as soon as a receive returns: a busy queue still fills batches of batch_size, and an idle one adds no wait to a lone job. Raise it only to trade latency for fewer invocations."
  type        = number
  default     = 0

  validation {
    condition     = var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300 && floor(var.maximum_batching_window_in_seconds) == var.maximum_batching_window_in_seconds
    error_message = "maximum_batching_window_in_seconds must be a whole number of seconds between 0 and 300."
  }
}

variable "maximum_concurrency" {
  description = "Most concurrent invocations the SQS event source starts. Keep it at or below the concurrency the function can get (its reserved concurrency, if set): with one receive per job, a throttled invocation would dead-letter the job."
  type        = number
  default     = 10

  validation {
    condition     = var.maximum_concurrency >= 2 && var.maximum_concurrency <= 1000 && floor(var.maximum_concurrency) == var.maximum_concurrency
    error_message = "maximum_concurrency must be a whole number between 2 and 1000 (the limits of the SQS event source)."
  }
}

variable "message_retention_seconds" {
  description = "How long a job message may wait in the queue."
  type        = number
  default     = 345600
}

variable "dlq_message_retention_seconds" {
  description = "How long the DLQ keeps a message."
  type        = number
  default     = 1209600
}

variable "log_retention_days" {
  description = "Retention of the function's CloudWatch log group in days (0: never expire)."
  type        = number
  default     = 365
}

variable "alarm_actions" {
  description = "ARNs notified when a message lands in the DLQ (e.g. an SNS topic for the on-call)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "xray_tracing" {
  description = "Turn on X-Ray active tracing for the function (when the module creates it) (tracing_config Active, and xray:PutTraceSegments and xray:PutTelemetryRecords on its role). lambdakit's spans then take the sampled X-Ray trace header as their parent; export them with OTEL_ variables in environment."
  type        = bool
  default     = false
}

variable "name_prefix" {
  description = "The bridge's name_prefix (module bridge's output name_prefix): the queues are named <prefix>zeebe_<identifier> and <prefix>zeebe_<identifier>_dlq, which the bridge's resource policies and returner expect, and the role is tagged zeebe-bridge = <prefix>zeebe-bridge, which its topics and bucket trust."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^([a-z][a-z0-9-]{0,11}-)?$", var.name_prefix))
    error_message = "name_prefix must be the bridge's: empty, or lower-case letters, digits and hyphens ending with \"-\" (at most 13 characters)."
  }
}

variable "identifier" {
  description = "The task header identifier whose jobs this function runs (the SNS filter and the queue's name use it); null: the function's name. Set it when function names differ between environments and the models do not, e.g. function staging-book-hotel with identifier book-hotel."
  type        = string
  default     = null
  validation {
    # SQS queue names allow letters, digits, - and _ up to 80 characters, with
    # the prefix, "zeebe_" and "_dlq" around the identifier.
    condition     = var.identifier == null || can(regex("^[A-Za-z0-9_-]{1,56}$", coalesce(var.identifier, "-")))
    error_message = "identifier must be 1 to 56 letters, digits, - or _ (it names the function's queues)."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the function's log group (when the module creates the function); null: CloudWatch Logs' own encryption. Its key policy must let logs.<region>.amazonaws.com use it (README)."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>): CloudWatch Logs takes no alias."
  }
}

variable "environment_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the function's environment variables (when the module creates the function); its role gets kms:Decrypt on it. Null: Lambda's own key."
  type        = string
  default     = null

  validation {
    condition     = var.environment_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.environment_kms_key_arn))
    error_message = "environment_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "vpc_subnet_ids" {
  description = "Subnets to run the function in (when the module creates it), with vpc_security_group_ids; they must reach SNS and S3 (NAT or VPC endpoints) and whatever the function calls. Empty: outside any VPC."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.vpc_subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "vpc_subnet_ids must be subnet ids (subnet-0123abcd)."
  }
}

variable "vpc_security_group_ids" {
  description = "Security groups of the function in the VPC of vpc_subnet_ids; set both or neither."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.vpc_security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "vpc_security_group_ids must be security group ids (sg-0123abcd)."
  }
}

variable "code_signing_config_arn" {
  description = "ARN of a Lambda code signing configuration for the function (when the module creates it); null: no signature checked."
  type        = string
  default     = null

  validation {
    condition     = var.code_signing_config_arn == null || can(regex("^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:code-signing-config:csc-[a-z0-9]+$", var.code_signing_config_arn))
    error_message = "code_signing_config_arn must be a code signing configuration ARN (arn:aws:lambda:<region>:<account>:code-signing-config:csc-<id>)."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for the function (when the module creates it), which is also its limit; at least maximum_concurrency, so that SQS never hands a job to a throttled function. -1: none reserved."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions == -1 || (var.reserved_concurrent_executions >= 1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions)
    error_message = "reserved_concurrent_executions must be -1 (none reserved) or a whole number, at least 1: 0 would throttle every invocation."
  }
}

variable "outcomes_topic_kms_key_arn" {
  description = "ARN of the customer managed KMS key of the outcomes topic (module bridge's output `topic_kms_key_arn`); the function's role gets kms:Decrypt and kms:GenerateDataKey on it to publish. Null for the aws/sns key, which needs no grant."
  type        = string
  default     = null

  validation {
    condition     = var.outcomes_topic_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.outcomes_topic_kms_key_arn))
    error_message = "outcomes_topic_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "otel_headers_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the OTLP exporter's headers (key=value,key=value), as given to the bridge module. The function reads it at start (OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN; lambdakit and the layer do) and its role may read exactly this secret. For an existing function (create_function = false) the grant is added to its role; set the variable in its environment yourself."
  type        = string
  default     = null

  validation {
    condition     = var.otel_headers_secret_arn == null || can(regex("^arn:aws[a-zA-Z-]*:secretsmanager:", var.otel_headers_secret_arn))
    error_message = "otel_headers_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:...)."
  }
}
