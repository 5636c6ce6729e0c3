variable "function_name" {
  description = "Name of the Lambda function; also of its role and log group (/aws/lambda/<function_name>)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 letters, digits, '-' or '_' (a Lambda function name)."
  }
}

variable "create_function" {
  description = "Create the function, its role and its log group. False puts only the inline policy, without the log statement, on existing_role_name (an existing function keeps its own log group and log permissions)."
  type        = bool
  default     = true
}

variable "existing_role_name" {
  description = "Role of an existing function, which gets the inline policy when create_function is false."
  type        = string
  default     = null
}

variable "policy_name" {
  description = "Name of the inline policy; null names it zeebe-bridge-<function_name>."
  type        = string
  default     = null

  validation {
    condition     = var.policy_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", var.policy_name))
    error_message = "policy_name must be 1-128 letters, digits or +=,.@_- (an IAM policy name)."
  }
}

variable "policy_statements" {
  description = "The function's own IAM statements. The module adds the statement Logs (its log group, when it creates the function) before them and XRay (with xray_tracing) after them."
  type = list(object({
    Sid      = string
    Effect   = string
    Action   = list(string)
    Resource = list(string)
  }))
  default = []

  validation {
    condition     = length(distinct([for s in var.policy_statements : s.Sid])) == length(var.policy_statements) && length(setintersection([for s in var.policy_statements : s.Sid], ["Logs", "XRay", "EnvironmentKey", "VPCNetworkInterfaces"])) == 0
    error_message = "policy_statements must have distinct Sids other than Logs, XRay, EnvironmentKey and VPCNetworkInterfaces, which the module adds itself."
  }

  validation {
    condition     = length([for s in var.policy_statements : s if can(regex("^[A-Za-z0-9]+$", s.Sid)) && contains(["Allow", "Deny"], s.Effect) && length(s.Action) > 0 && length(s.Resource) > 0]) == length(var.policy_statements)
    error_message = "Each of policy_statements needs an alphanumeric Sid, Effect Allow or Deny, and at least one Action and one Resource."
  }
}

variable "filename" {
  description = "Path of the deployment zip (a `bootstrap` binary for provided.al2023); required when create_function is true."
  type        = string
  default     = null
}

variable "code_s3_bucket" {
  description = "Bucket the deployment zip is uploaded to (as <code_s3_prefix><function_name>.zip), and the function created from; null: the zip goes in the CreateFunction request itself."
  type        = string
  default     = null
}

variable "code_s3_prefix" {
  description = "Key prefix of the deployment zip in code_s3_bucket."
  type        = string
  default     = ""
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
  description = "Function timeout in seconds."
  type        = number

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
  description = "Environment variables of the function."
  type        = map(string)
  default     = {}

  # Lambda refuses an environment above 4 KB only at apply, halfway through;
  # this says so at plan time, where the values are known. Measured as JSON
  # (quotes, escapes), which is at least what Lambda counts.
  validation {
    condition     = length(jsonencode(var.environment)) <= 4096
    error_message = "The function's environment variables take more than the 4 KB Lambda allows a function (measured as their JSON): shorten them; a CA certificate (zeebe_ca_certificate_pem) must be the root alone."
  }
}

variable "layers" {
  description = "Layer version ARNs of the function (when the module creates it)."
  type        = list(string)
  default     = []
}

variable "xray_tracing" {
  description = "X-Ray active tracing: tracing_config Active on the function, and the statement XRay (xray:PutTraceSegments and xray:PutTelemetryRecords, which take no resource but \"*\") in its policy."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the function's log group in days (0: never expire)."
  type        = number
  default     = 365

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch Logs' retention periods (0, 1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "tags" {
  description = "Tags of the function, its role and its log group."
  type        = map(string)
  default     = {}
}

variable "log_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the function's log group (when the module creates it); null: CloudWatch Logs' own encryption. The key policy must let logs.<region>.amazonaws.com use it (see the bridge module's README)."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>): CloudWatch Logs takes no alias."
  }
}

variable "environment_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the function's environment variables (when the module creates it); its role gets kms:Decrypt on it (statement EnvironmentKey). Null: Lambda's own key."
  type        = string
  default     = null

  validation {
    condition     = var.environment_kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.environment_kms_key_arn))
    error_message = "environment_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "vpc_subnet_ids" {
  description = "Subnets to run the function in (when the module creates it), with vpc_security_group_ids; its role then gets the network interface actions (statement VPCNetworkInterfaces). Empty: outside any VPC."
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
  description = "Concurrency reserved for the function (when the module creates it), which is also its limit; -1: none reserved, the account's unreserved pool."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions == -1 || (var.reserved_concurrent_executions >= 1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions)
    error_message = "reserved_concurrent_executions must be -1 (none reserved) or a whole number, at least 1: 0 would throttle every invocation."
  }
}
