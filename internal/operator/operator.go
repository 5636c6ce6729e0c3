// Package operator is what an operator of the bridge does by hand: look at
// the queues, read what reached a dead-letter queue, send outcomes back to the
// fulfiller, hand a dead-lettered job back to Zeebe, and rotate the job token
// keyring. Command zeebe-bridge (cmd/zeebe-bridge) is its command line.
//
// Every name comes from the Terraform root's output `zeebe_bridge` (see
// Outputs), never from a list in the code.
package operator

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/snspub"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// OutputName is the Terraform output the operator reads.
const OutputName = "zeebe_bridge"

// Outputs are the names and addresses of one deployed bridge: the value of
// the root module's `zeebe_bridge` output.
type Outputs struct {
	OutcomesTopicARN   string `json:"outcomes_topic_arn"`
	OutcomesQueueURL   string `json:"outcomes_queue_url"`
	OutcomesQueueARN   string `json:"outcomes_queue_arn"`
	OutcomesDLQURL     string `json:"outcomes_dlq_url"`
	PollerFunctionName string `json:"poller_function_name"`
	PollerLogGroupName string `json:"poller_log_group_name"`
	JobTokenSecretARN  string `json:"job_token_secret_arn"`
	PayloadBucket      string `json:"payload_bucket"`
	// MaxTokenLifetimeSeconds is modules/bridge's max_token_lifetime_seconds
	// (0 from a root that predates it).
	MaxTokenLifetimeSeconds int64                    `json:"max_token_lifetime_seconds"`
	Functions               map[string]FunctionQueue `json:"functions"`
}

// FunctionQueue is one function's queue and DLQ.
type FunctionQueue struct {
	QueueURL string `json:"queue_url"`
	DLQURL   string `json:"dlq_url"`
}

// ReadOutputs reads the zeebe_bridge output: from a file holding `terraform
// output -json` (or the output's value alone), or by running terraform
// output in an initialised root directory (terraform from TF_BINARY, else
// PATH).
func ReadOutputs(ctx context.Context, tfDir, file string) (Outputs, error) {
	var raw []byte
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return Outputs{}, fmt.Errorf("read the Terraform outputs: %w", err)
		}
		raw = b
	case tfDir != "":
		bin := os.Getenv("TF_BINARY")
		if bin == "" {
			bin = "terraform"
		}
		tf, err := tfexec.NewTerraform(tfDir, bin)
		if err != nil {
			return Outputs{}, fmt.Errorf("terraform in %s: %w (set TF_BINARY to a terraform binary)", tfDir, err)
		}
		outs, err := tf.Output(ctx)
		if err != nil {
			return Outputs{}, fmt.Errorf("terraform output in %s: %w", tfDir, err)
		}
		o, ok := outs[OutputName]
		if !ok {
			return Outputs{}, fmt.Errorf("the Terraform root in %s has no output %q: add it as in terraform/examples/trip-booking/outputs.tf", tfDir, OutputName)
		}
		raw = o.Value
	default:
		return Outputs{}, errors.New("say where the bridge is: --tf-dir <Terraform root> or --outputs <file of terraform output -json>")
	}
	var all map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	if json.Unmarshal(raw, &all) == nil {
		if o, ok := all[OutputName]; ok && len(o.Value) > 0 {
			raw = o.Value
		}
	}
	var out Outputs
	if err := json.Unmarshal(raw, &out); err != nil {
		return Outputs{}, fmt.Errorf("the %q output: %w", OutputName, err)
	}
	if out.OutcomesQueueURL == "" || out.OutcomesDLQURL == "" {
		return Outputs{}, fmt.Errorf("the %q output lacks outcomes_queue_url or outcomes_dlq_url", OutputName)
	}
	return out, nil
}

// Clients are the AWS clients the operator uses.
type Clients struct {
	SQS     *sqs.Client
	SNS     *sns.Client
	Logs    *cloudwatchlogs.Client
	Secrets *secretsmanager.Client
	// Payloads resolves offloaded messages for show (nil: shown as pointers).
	Payloads *claimcheck.Store
}

// NewClients builds the clients from an AWS configuration.
func NewClients(cfg aws.Config, bucket string) Clients {
	c := Clients{SQS: sqs.NewFromConfig(cfg), SNS: sns.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg), Secrets: secretsmanager.NewFromConfig(cfg)}
	if bucket != "" {
		getenv := func(k string) string {
			if k == claimcheck.EnvBucket {
				return bucket
			}
			return os.Getenv(k)
		}
		c.Payloads, _ = claimcheck.FromEnv(getenv, cfg)
	}
	return c
}

// Operator acts on one deployed bridge.
type Operator struct {
	Out     Outputs
	Clients Clients
	Now     func() time.Time
}

func (o *Operator) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Queue is one queue's depth.
type Queue struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"` // outcomes, outcomes-dlq, function, function-dlq
	Function string `json:"function,omitempty"`
	Visible  int    `json:"visible"`
	InFlight int    `json:"inFlight"`
	Delayed  int    `json:"delayed"`
}

// PollerRun is the poller's last finished run, from its log line.
type PollerRun struct {
	At        time.Time `json:"at"`
	Activated int       `json:"activated"`
	Published int       `json:"published"`
	Failed    int       `json:"publishFailed"`
	Rejected  int       `json:"rejected"`
}

// Status is what `status` shows.
type Status struct {
	Queues     []Queue    `json:"queues"`
	LastPoller *PollerRun `json:"lastPollerRun"`
}

// queues lists every queue of the bridge, outcomes first, then functions by name.
func (o *Operator) queues() []Queue {
	qs := []Queue{{Name: queueName(o.Out.OutcomesQueueURL), Kind: "outcomes"}, {Name: queueName(o.Out.OutcomesDLQURL), Kind: "outcomes-dlq"}}
	for _, fn := range o.functionNames() {
		f := o.Out.Functions[fn]
		qs = append(qs, Queue{Name: queueName(f.QueueURL), Kind: "function", Function: fn}, Queue{Name: queueName(f.DLQURL), Kind: "function-dlq", Function: fn})
	}
	return qs
}

func (o *Operator) functionNames() []string {
	var names []string
	for fn := range o.Out.Functions {
		names = append(names, fn)
	}
	sort.Strings(names)
	return names
}

func (o *Operator) url(q Queue) string {
	switch q.Kind {
	case "outcomes":
		return o.Out.OutcomesQueueURL
	case "outcomes-dlq":
		return o.Out.OutcomesDLQURL
	case "function":
		return o.Out.Functions[q.Function].QueueURL
	default:
		return o.Out.Functions[q.Function].DLQURL
	}
}

func queueName(url string) string { return url[strings.LastIndex(url, "/")+1:] }

// Status reads every queue's depth and the poller's last run.
func (o *Operator) Status(ctx context.Context) (Status, error) {
	var st Status
	for _, q := range o.queues() {
		out, err := o.Clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(o.url(q)), AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
		if err != nil {
			return Status{}, fmt.Errorf("read the depth of %s: %w", q.Name, err)
		}
		q.Visible, _ = strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
		q.InFlight, _ = strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
		q.Delayed, _ = strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed)])
		st.Queues = append(st.Queues, q)
	}
	run, err := o.lastPollerRun(ctx)
	if err != nil {
		return Status{}, err
	}
	st.LastPoller = run
	return st, nil
}

func (o *Operator) lastPollerRun(ctx context.Context) (*PollerRun, error) {
	group := o.Out.PollerLogGroupName
	if group == "" {
		group = "/aws/lambda/" + o.Out.PollerFunctionName
	}
	var last *PollerRun
	var token *string
	for {
		out, err := o.Clients.Logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group),
			FilterPattern: aws.String(`"poller run finished"`), StartTime: aws.Int64(o.now().Add(-24 * time.Hour).UnixMilli()), NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("read the poller's log group %s: %w", group, err)
		}
		for _, e := range out.Events {
			var line struct {
				Msg       string `json:"msg"`
				Activated int    `json:"activated"`
				Published int    `json:"published"`
				Failed    int    `json:"publishFailed"`
				Rejected  int    `json:"rejected"`
			}
			if json.Unmarshal([]byte(aws.ToString(e.Message)), &line) != nil || line.Msg != "poller run finished" {
				continue
			}
			at := time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC()
			if last == nil || at.After(last.At) {
				last = &PollerRun{At: at, Activated: line.Activated, Published: line.Published, Failed: line.Failed, Rejected: line.Rejected}
			}
		}
		if out.NextToken == nil || aws.ToString(out.NextToken) == aws.ToString(token) {
			return last, nil
		}
		token = out.NextToken
	}
}

// Letter is one message in a DLQ, decoded.
type Letter struct {
	Queue     string          `json:"queue"`
	Function  string          `json:"function,omitempty"`
	MessageID string          `json:"messageId"`
	Kind      string          `json:"kind"` // job, outcome, unreadable
	Reason    string          `json:"reason,omitempty"`
	Receives  int             `json:"receives"`
	SentAt    time.Time       `json:"sentAt"`
	Job       *jobmsg.Job     `json:"job,omitempty"`
	Outcome   *jobmsg.Outcome `json:"outcome,omitempty"`
	Offloaded string          `json:"offloaded,omitempty"` // s3://bucket/key of a claim-check pointer
	Body      string          `json:"body,omitempty"`      // unreadable ones only
	Error     string          `json:"error,omitempty"`     // why it is unreadable
	receipt   string
	url       string
}

// List returns what is in the bridge's DLQs (every one when queue is "", else
// the one with that name). It reads messages without taking them: each is
// visible again at once.
func (o *Operator) List(ctx context.Context, queue string) ([]Letter, error) {
	var all []Letter
	for _, q := range o.queues() {
		if !strings.HasSuffix(q.Kind, "dlq") || (queue != "" && q.Name != queue) {
			continue
		}
		ls, err := o.peek(ctx, q)
		if err != nil {
			return nil, err
		}
		all = append(all, ls...)
	}
	return all, nil
}

// peek receives what is visible in a queue, hiding each message while it
// scans so as to see each once, and then makes them all visible again.
func (o *Operator) peek(ctx context.Context, q Queue) ([]Letter, error) {
	url := o.url(q)
	seen := map[string]bool{}
	var out []Letter
	defer func() { o.release(ctx, url, out) }()
	for range 10 { // at most 100 messages; a DLQ with more wants a redrive, not a list
		res, err := o.Clients.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			VisibilityTimeout: 10, WaitTimeSeconds: 0, MessageAttributeNames: []string{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", q.Name, err)
		}
		fresh := 0
		for _, m := range res.Messages {
			id := aws.ToString(m.MessageId)
			if seen[id] {
				continue
			}
			seen[id] = true
			fresh++
			out = append(out, o.decode(ctx, q, url, m))
		}
		if fresh == 0 {
			break
		}
	}
	return out, nil
}

// release makes the peeked messages visible again at once.
func (o *Operator) release(ctx context.Context, url string, ls []Letter) {
	for start := 0; start < len(ls); start += 10 {
		var entries []sqstypes.ChangeMessageVisibilityBatchRequestEntry
		for i, l := range ls[start:min(start+10, len(ls))] {
			entries = append(entries, sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)),
				ReceiptHandle: aws.String(l.receipt), VisibilityTimeout: 0})
		}
		// Best effort: a message not released is visible again after 10 s.
		_, _ = o.Clients.SQS.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: entries})
	}
}

func (o *Operator) decode(ctx context.Context, q Queue, url string, m sqstypes.Message) Letter {
	l := Letter{Queue: q.Name, Function: q.Function, MessageID: aws.ToString(m.MessageId), receipt: aws.ToString(m.ReceiptHandle), url: url}
	if a, ok := m.MessageAttributes[sqsretry.AttrReason]; ok {
		l.Reason = aws.ToString(a.StringValue)
	}
	l.Receives, _ = strconv.Atoi(m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
	if ms, err := strconv.ParseInt(m.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		l.SentAt = time.UnixMilli(ms).UTC()
	}
	attrs := map[string]string{}
	for k, v := range m.MessageAttributes {
		attrs[k] = aws.ToString(v.StringValue)
	}
	body, attrs := jobmsg.Unwrap(aws.ToString(m.Body), attrs)
	if p, ok := claimcheck.Parse(body); ok {
		l.Offloaded = "s3://" + p.Bucket + "/" + p.Key
	}
	var res claimcheck.Resolver
	if o.Clients.Payloads != nil {
		res = o.Clients.Payloads
	}
	if q.Kind == "outcomes-dlq" {
		in, err := claimcheck.ReadBody(ctx, body, attrs, res, claimcheck.PrefixOutcomes, jobmsg.DecodeOutcome)
		if err == nil {
			l.Kind, l.Outcome = "outcome", &in.Message
			return l
		}
		l.Error, body = err.Error(), in.Body
	} else {
		in, err := claimcheck.ReadBody(ctx, body, attrs, res, claimcheck.PrefixJobs, jobmsg.DecodeJob)
		if err == nil {
			l.Kind, l.Job = "job", &in.Message
			return l
		}
		l.Error, body = err.Error(), in.Body
	}
	l.Kind, l.Body = "unreadable", string(body)
	return l
}

// Show returns one message of the DLQs by its message id.
func (o *Operator) Show(ctx context.Context, messageID string) (Letter, error) {
	ls, err := o.List(ctx, "")
	if err != nil {
		return Letter{}, err
	}
	for _, l := range ls {
		if l.MessageID == messageID {
			return l, nil
		}
	}
	return Letter{}, fmt.Errorf("no message %s in the bridge's DLQs (it may be in flight: try again in a second)", messageID)
}

// RedriveResult is how a redrive went.
type RedriveResult struct {
	TaskHandle string `json:"taskHandle"`
	Status     string `json:"status"`
	Moved      int64  `json:"moved"`
	Failure    string `json:"failure,omitempty"`
}

// Redrive moves every outcome in the outcomes DLQ back to the outcomes queue
// (an SQS message move task), where the fulfiller applies it, and waits up to
// a minute for the task to end.
func (o *Operator) Redrive(ctx context.Context) (RedriveResult, error) {
	handle, err := o.startRedrive(ctx)
	if err != nil {
		return RedriveResult{}, err
	}
	res := RedriveResult{TaskHandle: handle, Status: "RUNNING"}
	dlqARN, err := o.queueARN(ctx, o.Out.OutcomesDLQURL)
	if err != nil {
		return res, err
	}
	for deadline := o.now().Add(time.Minute); o.now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, err := o.Clients.SQS.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(dlqARN)})
		if err != nil {
			return res, fmt.Errorf("follow the move task: %w", err)
		}
		for _, t := range out.Results {
			if aws.ToString(t.TaskHandle) != handle && len(out.Results) > 1 {
				continue
			}
			res.Status, res.Moved, res.Failure = aws.ToString(t.Status), t.ApproximateNumberOfMessagesMoved, aws.ToString(t.FailureReason)
		}
		if res.Status != "RUNNING" && res.Status != "CANCELLING" {
			return res, nil
		}
	}
	return res, nil
}

func (o *Operator) startRedrive(ctx context.Context) (string, error) {
	dlqARN, err := o.queueARN(ctx, o.Out.OutcomesDLQURL)
	if err != nil {
		return "", err
	}
	dest := o.Out.OutcomesQueueARN
	if dest == "" {
		if dest, err = o.queueARN(ctx, o.Out.OutcomesQueueURL); err != nil {
			return "", err
		}
	}
	out, err := o.Clients.SQS.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqARN), DestinationArn: aws.String(dest)})
	if err != nil {
		return "", fmt.Errorf("start moving %s back to %s: %w", queueName(o.Out.OutcomesDLQURL), queueName(o.Out.OutcomesQueueURL), err)
	}
	return aws.ToString(out.TaskHandle), nil
}

func (o *Operator) queueARN(ctx context.Context, url string) (string, error) {
	out, err := o.Clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", fmt.Errorf("read the ARN of %s: %w", queueName(url), err)
	}
	return out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

// ErrExpired: the dead-lettered job's activation has timed out; Zeebe has
// already made it available again, so there is nothing to hand back.
var ErrExpired = errors.New("the job's activation has timed out: Zeebe has already made it available again")

// Return hands a dead-lettered job back to Zeebe: it publishes a fail
// outcome, sealed with the job's token, for the fulfiller to apply, with the
// job's retries unchanged, or with retries 0 and incident as the message
// (an incident in Operate); then it deletes the message from the DLQ.
func (o *Operator) Return(ctx context.Context, messageID, incident string) (jobmsg.Outcome, error) {
	l, err := o.Show(ctx, messageID)
	if err != nil {
		return jobmsg.Outcome{}, err
	}
	if l.Job == nil {
		return jobmsg.Outcome{}, fmt.Errorf("message %s in %s is not a job message (%s): only a function DLQ's jobs can be handed back", messageID, l.Queue, l.Kind)
	}
	job := *l.Job
	if job.Expired(o.now()) {
		return jobmsg.Outcome{}, fmt.Errorf("job %d: %w (deadline %s); delete the message", job.Key, ErrExpired, job.DeadlineTime().UTC().Format(time.RFC3339))
	}
	fail := jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: job.Retries, RetryBackoffMs: 1000,
		ErrorMessage: fmt.Sprintf("handed back by an operator from the dead-letter queue %s (reason: %s)", l.Queue, orNone(l.Reason))}
	if incident != "" {
		fail = jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 0, ErrorMessage: incident}
	}
	out, err := jobtoken.Attach(job, fail)
	if err != nil {
		return jobmsg.Outcome{}, err
	}
	msg, err := jobmsg.EncodeOutcome(out)
	if err != nil {
		return jobmsg.Outcome{}, err
	}
	if errs := snspub.New(o.Clients.SNS).Publish(ctx, o.Out.OutcomesTopicARN, []jobmsg.Message{msg}); len(errs) != 1 || errs[0] != nil {
		return jobmsg.Outcome{}, fmt.Errorf("publish the fail outcome of job %d: %v", job.Key, errs)
	}
	if _, err := o.Clients.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(l.url), ReceiptHandle: aws.String(l.receipt)}); err != nil {
		return out, fmt.Errorf("the job was handed back, but message %s stays in %s: %w", messageID, l.Queue, err)
	}
	return out, nil
}

func orNone(s string) string {
	if s == "" {
		return "none recorded"
	}
	return s
}

// RotateResult is what a rotation did.
type RotateResult struct {
	CurrentKeyID string `json:"currentKeyId"`
	// MaxTokenLifetime is the bound the rotation kept previous keys for.
	MaxTokenLifetime string `json:"maxTokenLifetime"`
	// Previous are the keys still accepted, newest first; Pruned the ids of
	// those dropped, retired longer ago than the bound.
	Previous []RetiredKey `json:"previous"`
	Pruned   []string     `json:"pruned"`
}

// RetiredKey is a previous key without its secret.
type RetiredKey struct {
	ID        string    `json:"id"`
	RetiredAt time.Time `json:"retiredAt"`
}

// MaxTokenLifetime is the longest a job token is in use, which rotate-key
// keeps retired keys for: flag when it is set, else the bridge's
// max_token_lifetime_seconds output, else jobtoken.DefaultMaxTokenLifetime.
func (o *Operator) MaxTokenLifetime(flag time.Duration) time.Duration {
	switch {
	case flag > 0:
		return flag
	case o.Out.MaxTokenLifetimeSeconds > 0:
		return time.Duration(o.Out.MaxTokenLifetimeSeconds) * time.Second
	default:
		return jobtoken.DefaultMaxTokenLifetime
	}
}

// RotateKey makes a fresh key the keyring's current one and the current key
// a previous one, retired now. Previous keys stay until every token they
// can have signed has expired (jobtoken.Keyring.Rotate): maxTokenLifetime
// (see MaxTokenLifetime) after their retirement, plus the keyring's cache
// time, so jobs signed before the rotation still complete.
func (o *Operator) RotateKey(ctx context.Context, maxTokenLifetime time.Duration) (RotateResult, error) {
	if o.Out.JobTokenSecretARN == "" {
		return RotateResult{}, errors.New("the bridge has no job token keyring (job_token_secret_arn)")
	}
	cur, err := o.Clients.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(o.Out.JobTokenSecretARN)})
	if err != nil {
		return RotateResult{}, fmt.Errorf("read the keyring: %w", err)
	}
	ring, err := jobtoken.ParseKeyring(aws.ToString(cur.SecretString))
	if err != nil {
		return RotateResult{}, err
	}
	secret := make([]byte, 48)
	if _, err := rand.Read(secret); err != nil {
		return RotateResult{}, fmt.Errorf("draw a key: %w", err)
	}
	lifetime := o.MaxTokenLifetime(maxTokenLifetime)
	next := jobtoken.Key{ID: "k" + o.now().UTC().Format("20060102T150405Z"), Secret: base64.RawURLEncoding.EncodeToString(secret)}
	rotated := ring.Rotate(next, o.now(), lifetime)
	b, err := json.Marshal(rotated)
	if err != nil {
		return RotateResult{}, fmt.Errorf("encode the keyring: %w", err)
	}
	if _, err := o.Clients.Secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(o.Out.JobTokenSecretARN), SecretString: aws.String(string(b))}); err != nil {
		return RotateResult{}, fmt.Errorf("write the keyring: %w", err)
	}
	res := RotateResult{CurrentKeyID: next.ID, MaxTokenLifetime: lifetime.String(), Pruned: []string{}}
	for _, k := range rotated.Previous {
		res.Previous = append(res.Previous, RetiredKey{ID: k.ID, RetiredAt: k.RetiredAt})
	}
	for _, k := range ring.Previous {
		if _, kept := rotated.Find(k.ID); !kept {
			res.Pruned = append(res.Pruned, k.ID)
		}
	}
	return res, nil
}
