// Package deploy puts the whole bridge into LocalStack's Lambda service: one
// function per zip in dist/ (built by `make build`), a least-privilege role
// each, the SQS event source mappings with ReportBatchItemFailures, the
// fulfiller on the zeebe_jobs2complete queue, and the poller on an
// EventBridge schedule. Names and queue settings come from package topology
// through the provisioning, so there is one copy of them. Every step is
// idempotent: deploying again updates code and configuration.
package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/provision"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/topology"
)

// Names of the bridge's own functions, from package topology.
const (
	PollerFunction    = topology.PollerFunction
	FulfillerFunction = topology.FulfillerFunction
	PollerRule        = topology.PollerRule
)

// Options configure a deployment.
type Options struct {
	// Dist holds <function>.zip files.
	Dist string
	// Functions are the target functions; each has a queue in the topology.
	Functions []provision.Function
	// Env is added to every function's environment (e.g. RETRY_BACKOFF).
	Env map[string]string
	// Zeebe is the environment of the poller and fulfiller (ZEEBE_ADDRESS, ...).
	Zeebe map[string]string
	// PollerSchedule is an EventBridge schedule expression, e.g. rate(14 minutes).
	PollerSchedule string
	// PollerTimeout is the poller Lambda's timeout; it runs until shortly before it.
	PollerTimeout time.Duration
	// PollerEnv is added to the poller's environment (SAFETY_MARGIN, JOB_TIMEOUT, ...).
	PollerEnv map[string]string
	// Architecture is x86_64 or arm64.
	Architecture lambdatypes.Architecture
}

// Deployer deploys with the given clients.
type Deployer struct {
	Lambda *lambda.Client
	IAM    *iam.Client
	Events *eventbridge.Client
}

// New returns a Deployer for cfg.
func New(cfg aws.Config) *Deployer {
	return &Deployer{Lambda: lambda.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg), Events: eventbridge.NewFromConfig(cfg)}
}

// Deploy deploys target functions, fulfiller and poller against topo.
func (d *Deployer) Deploy(ctx context.Context, topo *provision.Topology, opts Options) error {
	if opts.Architecture == "" {
		opts.Architecture = lambdatypes.ArchitectureX8664
	}
	fnEnv := map[string]string{"ZEEBE_FULFILLER_SNS_ARN": topo.OutcomesTopicARN}
	for k, v := range opts.Env {
		fnEnv[k] = v
	}
	for _, fn := range opts.Functions {
		q, ok := topo.Functions[fn.Name]
		if !ok {
			return fmt.Errorf("function %s has no queue: provision it first", fn.Name)
		}
		policy := rolePolicy(fn.Name, []stmt{
			{Actions: []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}, Resources: []string{q.Queue.ARN}},
			{Actions: []string{"sns:Publish"}, Resources: []string{topo.OutcomesTopicARN}},
		})
		arn, err := d.function(ctx, opts, fn.Name, fn.Timeout, fnEnv, policy)
		if err != nil {
			return err
		}
		if err := d.mapping(ctx, arn, q.Queue.ARN); err != nil {
			return err
		}
	}

	fulEnv := map[string]string{}
	for k, v := range opts.Zeebe {
		fulEnv[k] = v
	}
	fulArn, err := d.function(ctx, opts, FulfillerFunction, topology.FulfillerTimeout, fulEnv, rolePolicy(FulfillerFunction, []stmt{
		{Actions: []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"}, Resources: []string{topo.OutcomesQueue.ARN}},
		{Actions: []string{"sqs:GetQueueUrl", "sqs:SendMessage"}, Resources: []string{topo.OutcomesDLQ.ARN}},
	}))
	if err != nil {
		return err
	}
	if err := d.mapping(ctx, fulArn, topo.OutcomesQueue.ARN); err != nil {
		return err
	}

	pollEnv := map[string]string{"ZEEBE_JOBS_TOPIC_ARN": topo.JobsTopicARN}
	for k, v := range opts.Zeebe {
		pollEnv[k] = v
	}
	for k, v := range opts.PollerEnv {
		pollEnv[k] = v
	}
	pollArn, err := d.function(ctx, opts, PollerFunction, opts.PollerTimeout, pollEnv, rolePolicy(PollerFunction, []stmt{
		{Actions: []string{"sns:Publish"}, Resources: []string{topo.JobsTopicARN}},
		{Actions: []string{"sns:GetSubscriptionAttributes", "sns:ListSubscriptionsByTopic"}, Resources: []string{topo.JobsTopicARN, topo.JobsTopicARN + ":*"}},
	}))
	if err != nil {
		return err
	}
	return d.schedule(ctx, pollArn, opts.PollerSchedule)
}

type stmt struct {
	Actions   []string
	Resources []string
}

// rolePolicy is least privilege: the function's own log group, plus stmts.
func rolePolicy(fn string, stmts []stmt) string {
	all := []map[string]any{{
		"Effect":   "Allow",
		"Action":   []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"},
		"Resource": []string{fmt.Sprintf("arn:aws:logs:*:*:log-group:/aws/lambda/%s:*", fn)},
	}}
	for _, s := range stmts {
		all = append(all, map[string]any{"Effect": "Allow", "Action": s.Actions, "Resource": s.Resources})
	}
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": all})
	return string(b)
}

const trustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func (d *Deployer) role(ctx context.Context, fn, policy string) (string, error) {
	name := "zeebe-" + fn + "-role"
	var arn string
	out, err := d.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trustPolicy)})
	var exists *iamtypes.EntityAlreadyExistsException
	switch {
	case err == nil:
		arn = aws.ToString(out.Role.Arn)
	case errors.As(err, &exists):
		got, gerr := d.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if gerr != nil {
			return "", fmt.Errorf("read role %s: %w", name, gerr)
		}
		arn = aws.ToString(got.Role.Arn)
	default:
		return "", fmt.Errorf("create role %s: %w", name, err)
	}
	if _, err := d.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("zeebe-bridge"), PolicyDocument: aws.String(policy)}); err != nil {
		return "", fmt.Errorf("put policy of role %s: %w", name, err)
	}
	return arn, nil
}

// function creates or updates a function from <Dist>/<name>.zip and waits until it is active.
func (d *Deployer) function(ctx context.Context, opts Options, name string, timeout time.Duration, env map[string]string, policy string) (string, error) {
	zip, err := os.ReadFile(filepath.Join(opts.Dist, name+".zip"))
	if err != nil {
		return "", fmt.Errorf("function %s: %w (run `make build` first)", name, err)
	}
	roleArn, err := d.role(ctx, name, policy)
	if err != nil {
		return "", err
	}
	secs := int32(timeout / time.Second)
	var arn string
	out, err := d.Lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Runtime:       lambdatypes.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Role:          aws.String(roleArn),
		Code:          &lambdatypes.FunctionCode{ZipFile: zip},
		Timeout:       aws.Int32(secs),
		MemorySize:    aws.Int32(128),
		Architectures: []lambdatypes.Architecture{opts.Architecture},
		Environment:   &lambdatypes.Environment{Variables: env},
	})
	var conflict *lambdatypes.ResourceConflictException
	switch {
	case err == nil:
		arn = aws.ToString(out.FunctionArn)
	case errors.As(err, &conflict):
		if err := d.waitReady(ctx, name); err != nil {
			return "", err
		}
		if _, err := d.Lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: zip}); err != nil {
			return "", fmt.Errorf("update code of %s: %w", name, err)
		}
		if err := d.waitReady(ctx, name); err != nil {
			return "", err
		}
		cfg, err := d.Lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
			FunctionName: aws.String(name), Role: aws.String(roleArn), Timeout: aws.Int32(secs),
			Environment: &lambdatypes.Environment{Variables: env},
		})
		if err != nil {
			return "", fmt.Errorf("update configuration of %s: %w", name, err)
		}
		arn = aws.ToString(cfg.FunctionArn)
	default:
		return "", fmt.Errorf("create function %s: %w", name, err)
	}
	return arn, d.waitReady(ctx, name)
}

func (d *Deployer) waitReady(ctx context.Context, name string) error {
	for i := 0; i < 120; i++ {
		out, err := d.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("read function %s: %w", name, err)
		}
		c := out.Configuration
		if c.State == lambdatypes.StateFailed {
			return fmt.Errorf("function %s failed: %s", name, aws.ToString(c.StateReason))
		}
		if c.State == lambdatypes.StateActive && c.LastUpdateStatus != lambdatypes.LastUpdateStatusInProgress {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("function %s did not become active within 60s", name)
}

// mapping makes sure one SQS event source mapping with ReportBatchItemFailures
// connects the queue to the function.
func (d *Deployer) mapping(ctx context.Context, fnArn, queueArn string) error {
	list, err := d.Lambda.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(fnArn), EventSourceArn: aws.String(queueArn)})
	if err != nil {
		return fmt.Errorf("list event source mappings of %s: %w", fnArn, err)
	}
	if len(list.EventSourceMappings) > 0 {
		m := list.EventSourceMappings[0]
		_, err := d.Lambda.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: m.UUID, BatchSize: aws.Int32(topology.EventSourceBatchSize),
			Enabled: aws.Bool(true), FunctionResponseTypes: []lambdatypes.FunctionResponseType{topology.FunctionResponseType}})
		if err != nil {
			return fmt.Errorf("update event source mapping %s: %w", aws.ToString(m.UUID), err)
		}
		return nil
	}
	_, err = d.Lambda.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String(fnArn), EventSourceArn: aws.String(queueArn), BatchSize: aws.Int32(topology.EventSourceBatchSize), Enabled: aws.Bool(true),
		FunctionResponseTypes: []lambdatypes.FunctionResponseType{topology.FunctionResponseType},
	})
	if err != nil {
		return fmt.Errorf("map %s to %s: %w", queueArn, fnArn, err)
	}
	return nil
}

// schedule runs the poller on an EventBridge schedule.
func (d *Deployer) schedule(ctx context.Context, pollerArn, expr string) error {
	rule, err := d.Events.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(PollerRule), ScheduleExpression: aws.String(expr), State: ebtypes.RuleStateEnabled})
	if err != nil {
		return fmt.Errorf("put rule %s (%s): %w", PollerRule, expr, err)
	}
	if _, err := d.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(PollerRule),
		Targets: []ebtypes.Target{{Id: aws.String("poller"), Arn: aws.String(pollerArn)}}}); err != nil {
		return fmt.Errorf("put target of rule %s: %w", PollerRule, err)
	}
	_, err = d.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(PollerFunction), StatementId: aws.String("eventbridge-schedule"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com"), SourceArn: rule.RuleArn})
	var conflict *lambdatypes.ResourceConflictException
	if err != nil && !errors.As(err, &conflict) {
		return fmt.Errorf("allow EventBridge to invoke %s: %w", PollerFunction, err)
	}
	return nil
}

// Seconds formats a duration for environment variables read with time.ParseDuration.
func Seconds(d time.Duration) string { return strconv.Itoa(int(d/time.Second)) + "s" }

// Teardown stops LocalStack from feeding the deployed bridge: it deletes the
// event source mappings of the given functions and the fulfiller and disables
// the poller's schedule. Functions and queues stay. It is idempotent.
func (d *Deployer) Teardown(ctx context.Context, functions []string) error {
	var errs []error
	for _, fn := range append(functions, FulfillerFunction) {
		list, err := d.Lambda.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(fn)})
		var missing *lambdatypes.ResourceNotFoundException
		if errors.As(err, &missing) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("list event source mappings of %s: %w", fn, err))
			continue
		}
		for _, m := range list.EventSourceMappings {
			if _, err := d.Lambda.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: m.UUID}); err != nil && !errors.As(err, &missing) {
				errs = append(errs, fmt.Errorf("delete event source mapping %s: %w", aws.ToString(m.UUID), err))
			}
		}
	}
	_, err := d.Events.DisableRule(ctx, &eventbridge.DisableRuleInput{Name: aws.String(PollerRule)})
	var missingRule *ebtypes.ResourceNotFoundException
	if err != nil && !errors.As(err, &missingRule) {
		errs = append(errs, fmt.Errorf("disable rule %s: %w", PollerRule, err))
	}
	return errors.Join(errs...)
}
