// Package serverless deploys the bridge into LocalStack's Lambda service the
// way it runs on AWS: the topology from package provision, then every
// function from dist/ (see `make build`) with its event source mapping, the
// fulfiller, and the poller on an EventBridge schedule. LocalStack runs the
// functions through the bridge's host-process runtime executor
// (localstack/plugin), so its own SNS filters, event source mappings,
// redrive policies and schedules drive the real binaries.
package serverless

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/functions/catalog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/deploy"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/provision"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/zeebeclient"
)

// Options configure a deployment to LocalStack.
type Options struct {
	AWS       aws.Config
	Dist      string
	Functions []catalog.Function
	// ZeebeAddress is where the poller and fulfiller find Zeebe.
	ZeebeAddress string
	// RetryBackoff is lambdakit's backoff for failed jobs.
	RetryBackoff time.Duration
	// PollerTimeout and PollerSafetyMargin shape each scheduled poller run;
	// LocalStack's shortest schedule is one minute.
	PollerTimeout      time.Duration
	PollerSafetyMargin time.Duration
}

// Deploy provisions and deploys everything; it is idempotent.
func Deploy(ctx context.Context, opts Options) (*provision.Topology, error) {
	if opts.ZeebeAddress == "" {
		opts.ZeebeAddress = zeebeclient.DefaultAddress
	}
	if opts.PollerTimeout == 0 {
		opts.PollerTimeout = time.Minute
	}
	if opts.PollerSafetyMargin == 0 {
		opts.PollerSafetyMargin = 10 * time.Second
	}
	var fns []provision.Function
	for _, f := range opts.Functions {
		fns = append(fns, provision.Function{Name: f.Name, Timeout: f.Timeout})
	}
	topo, err := provision.New(opts.AWS).Apply(ctx, fns)
	if err != nil {
		return nil, fmt.Errorf("provision LocalStack (is it running? `localstack/stack up`): %w", err)
	}
	err = deploy.New(opts.AWS).Deploy(ctx, topo, deploy.Options{
		Dist:      opts.Dist,
		Functions: fns,
		Env:       map[string]string{"RETRY_BACKOFF": opts.RetryBackoff.String()},
		Zeebe:     map[string]string{"ZEEBE_ADDRESS": opts.ZeebeAddress, "ZEEBE_INSECURE_CONNECTION": "true"},
		// The shortest schedule LocalStack (and AWS) accepts.
		PollerSchedule: "rate(1 minute)",
		PollerTimeout:  opts.PollerTimeout,
		PollerEnv: map[string]string{
			"SAFETY_MARGIN": opts.PollerSafetyMargin.String(),
			"LONG_POLL":     "10s",
			"JOB_TIMEOUT":   "2m",
		},
	})
	if err != nil {
		return nil, err
	}
	return topo, nil
}

// Logs returns the CloudWatch log lines of a function, oldest first.
func Logs(ctx context.Context, cfg aws.Config, function string) ([]string, error) {
	cw := cloudwatchlogs.NewFromConfig(cfg)
	group := "/aws/lambda/" + function
	var lines []string
	var token *string
	for {
		out, err := cw.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("read log group %s: %w", group, err)
		}
		for _, e := range out.Events {
			lines = append(lines, fmt.Sprintf("%020d %s", aws.ToInt64(e.Timestamp), strings.TrimRight(aws.ToString(e.Message), "\n")))
		}
		if out.NextToken == nil || aws.ToString(out.NextToken) == aws.ToString(token) {
			break
		}
		token = out.NextToken
	}
	sort.Strings(lines)
	for i, l := range lines {
		lines[i] = l[21:]
	}
	return lines, nil
}
