// Package topology is the single source of the names and settings of the
// bridge's AWS resources: topics, queues, dead-letter queues, filter policies
// and redrive. The LocalStack provisioning reads them from here, and the
// Terraform parity test checks the modules against them, so the two cannot
// drift.
package topology

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Resource names.
const (
	// JobsTopic receives one message per activated job, from the poller.
	JobsTopic = "zeebe_jobs"
	// OutcomesTopic receives one outcome per job, from lambdakit.
	OutcomesTopic = "zeebe_jobs2complete"
	// OutcomesQueue feeds the fulfiller.
	OutcomesQueue = "zeebe_jobs2complete"
	// OutcomesDLQ keeps outcomes the fulfiller could not apply after OutcomesMaxReceiveCount tries.
	OutcomesDLQ = "zeebe_jobs2complete_dlq"
)

// Names of the bridge's own functions and the poller's schedule rule.
const (
	PollerFunction    = "zeebe-poller"
	FulfillerFunction = "zeebe-fulfiller"
	PollerRule        = "zeebe-poller-schedule"
)

// Subscription and trigger settings.
const (
	// RawMessageDelivery: queues receive the message itself, not SNS's envelope
	// (the contract reads both, so a subscription without it still works).
	RawMessageDelivery = true
	// FilterPolicyScope: the filter applies to message attributes.
	FilterPolicyScope = "MessageAttributes"
	// EventSourceBatchSize is the records per invocation of every SQS trigger.
	EventSourceBatchSize = 10
	// FunctionResponseType lets a function fail single records of a batch.
	FunctionResponseType = "ReportBatchItemFailures"
)

// Redrive and timing settings.
const (
	// FunctionMaxReceiveCount is 1 so SQS never retries a job: Zeebe is the retry master.
	FunctionMaxReceiveCount = 1
	// OutcomesMaxReceiveCount lets SQS retry an outcome the fulfiller could
	// not apply because Zeebe was briefly unavailable. With the fulfiller's
	// backoff (1, 2, 4, 8, then 10 s) ten receives ride out a minute's outage.
	OutcomesMaxReceiveCount = 10
	// VisibilityTimeoutFactor: AWS recommends a queue visibility timeout of
	// six times the function timeout for Lambda event source mappings.
	VisibilityTimeoutFactor = 6
	// FulfillerTimeout is the fulfiller Lambda's timeout.
	FulfillerTimeout = 30 * time.Second
	// MessageRetention on work queues; DLQRetention keeps failures for two weeks.
	MessageRetention = 4 * 24 * time.Hour
	DLQRetention     = 14 * 24 * time.Hour
	// MaxFunctionTimeout is Lambda's upper limit.
	MaxFunctionTimeout = 900 * time.Second
)

// Lambda names are at most 64 characters, so zeebe_<name>_dlq stays within
// SQS's 80-character limit on queue names.
var functionName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidateFunction checks that a Lambda name and timeout can be made Zeebe-ready.
func ValidateFunction(name string, timeout time.Duration) error {
	if !functionName.MatchString(name) {
		return fmt.Errorf("function name %q: want 1-64 letters, digits, '-' or '_'", name)
	}
	if timeout <= 0 || timeout > MaxFunctionTimeout {
		return fmt.Errorf("function %q: timeout %s is outside Lambda's 1s..900s", name, timeout)
	}
	return nil
}

// FunctionQueue is the queue that triggers the function.
func FunctionQueue(fn string) string { return "zeebe_" + fn }

// FunctionDLQ is the function queue's dead-letter queue.
func FunctionDLQ(fn string) string { return "zeebe_" + fn + "_dlq" }

// VisibilityTimeout of a function's queue.
func VisibilityTimeout(fnTimeout time.Duration) time.Duration {
	return VisibilityTimeoutFactor * fnTimeout
}

// OutcomesVisibilityTimeout of the fulfiller's queue.
func OutcomesVisibilityTimeout() time.Duration { return VisibilityTimeout(FulfillerTimeout) }

// FilterPolicy is the SNS subscription filter that routes a job to fn's queue.
func FilterPolicy(fn string) string {
	b, _ := json.Marshal(map[string][]string{jobmsg.AttrLambdaIdentifier: {fn}})
	return string(b)
}

// RedrivePolicy is the SQS RedrivePolicy attribute value.
func RedrivePolicy(dlqARN string, maxReceiveCount int) string {
	b, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlqARN, "maxReceiveCount": maxReceiveCount})
	return string(b)
}

// QueuePolicy admits only the given topic to send to the queue.
func QueuePolicy(queueARN, topicARN string) string {
	b, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Sid":       "AllowTopic",
			"Effect":    "Allow",
			"Principal": map[string]string{"Service": "sns.amazonaws.com"},
			"Action":    "sqs:SendMessage",
			"Resource":  queueARN,
			"Condition": map[string]any{"ArnEquals": map[string]string{"aws:SourceArn": topicARN}},
		}},
	})
	return string(b)
}
