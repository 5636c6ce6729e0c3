//go:build e2e

// Package e2e proves the bridge end to end the way it runs on AWS: the local
// Zeebe engine, and LocalStack running the real function binaries (dist/,
// from `make build`) through the bridge's runtime executor, with its own SNS
// filters, SQS event source mappings, redrive policies and the EventBridge
// schedule that starts the poller. The tests never invoke a function or the
// poller themselves.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/functions/catalog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/serverless"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebetest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/deploy"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/provision"
)

// scenario is one process instance and what must be true of it.
type scenario struct {
	name  string
	start func(t *testing.T) int64
	check func(t *testing.T, end recordlog.Ending, recs []recordlog.Record)
}

func TestServerless(t *testing.T) {
	zb := zeebetest.Client(t)
	records := zeebetest.Records(t)
	ctx := context.Background()
	awsCfg, err := provision.LocalConfig(ctx)
	require.NoError(t, err)
	dist := filepath.Join("..", "..", "dist")
	_, err = os.Stat(filepath.Join(dist, "book-hotel.zip"))
	require.NoError(t, err, "the Lambda zips are missing: run `make build` (make test does)")

	topo, err := serverless.Deploy(ctx, serverless.Options{AWS: awsCfg, Dist: dist, Functions: catalog.All(), RetryBackoff: time.Second, ZeebeAddress: zeebetest.Address()})
	require.NoError(t, err, "deploy into LocalStack at %s", provision.DefaultEndpoint)
	t.Cleanup(func() {
		// Leave a running stack quiet: no scheduled poller, no consumers.
		var names []string
		for _, f := range catalog.All() {
			names = append(names, f.Name)
		}
		assert.NoError(t, deploy.New(awsCfg).Teardown(context.Background(), names))
	})

	zeebetest.DeployFile(t, zb.Zeebe(), filepath.Join("..", "..", "bpmn", "trip-booking.bpmn"))
	single := func(prefix, element string, headers map[string]string, retries int, vars map[string]any) func(t *testing.T) int64 {
		return func(t *testing.T) int64 {
			id := zeebetest.UniqueID(prefix)
			zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", zeebetest.SingleTaskProcess(id, element, headers, retries))
			return zeebetest.Start(t, zb.Zeebe(), id, vars)
		}
	}
	trip := func(failFlight bool) func(t *testing.T) int64 {
		return func(t *testing.T) int64 {
			return zeebetest.Start(t, zb.Zeebe(), "trip-booking", map[string]any{
				"tripId": fmt.Sprintf("t-%v-%d", failFlight, time.Now().UnixNano()), "destination": "Lisbon", "failFlight": failFlight})
		}
	}
	firstFailure := func(t *testing.T, recs []recordlog.Record) recordlog.Record {
		t.Helper()
		for _, r := range recordlog.Jobs(recs) {
			if r.Intent == "FAILED" {
				return r
			}
		}
		t.Fatal("no job failure recorded")
		return recordlog.Record{}
	}

	scenarios := []scenario{
		{
			name:  "trip booking completes on the happy path",
			start: trip(false),
			check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
				require.Nil(t, end.Incident)
				assert.True(t, end.Completed)
				assert.Equal(t, "EndEvent_TripBooked", end.EndEventID)
				vars := recordlog.Variables(recs)
				for _, v := range []string{"hotelBookingId", "carBookingId", "flightBookingId"} {
					assert.Contains(t, vars, v)
				}
			},
		},
		{
			name:  "a failed flight compensates car and hotel",
			start: trip(true),
			check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
				require.Nil(t, end.Incident)
				assert.True(t, end.Completed)
				assert.Equal(t, "EndEvent_TripCancelled", end.EndEventID)
				vars := recordlog.Variables(recs)
				assert.JSONEq(t, "true", string(vars["hotelCancelled"]))
				assert.JSONEq(t, "true", string(vars["carCancelled"]))
				assert.NotContains(t, vars, "flightBookingId")
			},
		},
		{
			name:  "a failing function is retried by Zeebe exactly retries times",
			start: single("always-fail", "Task_AlwaysFail", map[string]string{"identifier": "always-fail"}, 3, nil),
			check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
				require.NotNil(t, end.Incident, "the process must stop on an incident")
				assert.Equal(t, "JOB_NO_RETRIES", end.Incident.Value.ErrorType)
				assert.Equal(t, "always-fail: simulated failure", end.Incident.Value.ErrorMessage)
				var retries []int32
				for _, r := range recordlog.Jobs(recs) {
					if r.Intent == "FAILED" {
						retries = append(retries, r.Value.Retries)
					}
				}
				assert.Equal(t, []int32{2, 1, 0}, retries)
			},
		},
		{
			name:  "a task without identifier becomes an incident naming the element",
			start: single("no-identifier", "Task_NoIdentifier", nil, 3, nil),
			check: func(t *testing.T, end recordlog.Ending, _ []recordlog.Record) {
				require.NotNil(t, end.Incident)
				assert.Equal(t, "Task_NoIdentifier", end.Incident.Value.ElementID)
				assert.Contains(t, end.Incident.Value.ErrorMessage, `"Task_NoIdentifier"`)
				assert.Contains(t, end.Incident.Value.ErrorMessage, `"identifier"`)
			},
		},
		{
			name:  "a panicking function becomes a Zeebe retry",
			start: single("panic", "Task_Panic", map[string]string{"identifier": "panic"}, 2, nil),
			check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
				f := firstFailure(t, recs)
				assert.Equal(t, int32(1), f.Value.Retries, "retries-1")
				assert.Contains(t, f.Value.ErrorMessage, "handler panicked: panic: simulated crash")
				require.NotNil(t, end.Incident)
			},
		},
		{
			name:  "a function running past its Lambda timeout becomes a Zeebe retry",
			start: single("sleep", "Task_Sleep", map[string]string{"identifier": "sleep"}, 2, map[string]any{"sleepSeconds": 30}),
			check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
				f := firstFailure(t, recs)
				assert.Equal(t, int32(1), f.Value.Retries, "retries-1")
				assert.Contains(t, f.Value.ErrorMessage, "handler timed out")
				assert.Contains(t, f.Value.ErrorMessage, "before the Lambda deadline")
				require.NotNil(t, end.Incident)
			},
		},
	}

	// Payloads that json.Marshal would inflate six-fold: they must reach the
	// function and come back byte for byte.
	markup := strings.Repeat(`<p class="x">a &amp; b</p>`, 200*1024/26)
	amps := strings.Repeat("&", 200*1024)
	echoes := func(doc string) func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
		return func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
			require.Nil(t, end.Incident)
			require.True(t, end.Completed)
			vars := recordlog.Variables(recs)
			var echo string
			require.NoError(t, json.Unmarshal(vars["echo"], &echo))
			assert.True(t, echo == doc, "the echoed document differs from the one sent (%d bytes, want %d)", len(echo), len(doc))
			assert.JSONEq(t, fmt.Sprint(len(doc)), string(vars["length"]), "the handler saw the document's exact bytes")
		}
	}
	pollerTimeout := jobTimeoutOfPoller(ctx, t, awsCfg)
	scenarios = append(scenarios,
		scenario{
			name:  "200 KiB of HTML reaches the function and comes back intact",
			start: single("echo-html", "Task_Echo", map[string]string{"identifier": "echo"}, 3, map[string]any{"doc": markup}),
			check: echoes(markup),
		},
		scenario{
			name:  "200 KiB of '&' reaches the function and comes back intact",
			start: single("echo-amp", "Task_Echo", map[string]string{"identifier": "echo"}, 3, map[string]any{"doc": amps}),
			check: echoes(amps),
		},
		scenario{
			name:  "an identifier no function is subscribed for becomes an incident naming it within 10 s",
			start: single("unroutable", "Task_Unroutable", map[string]string{"identifier": "not-deployed"}, 3, nil),
			check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
				require.NotNil(t, end.Incident)
				assert.Equal(t, "JOB_NO_RETRIES", end.Incident.Value.ErrorType)
				assert.Contains(t, end.Incident.Value.ErrorMessage, `lambdaIdentifier="not-deployed"`)
				assert.Contains(t, end.Incident.Value.ErrorMessage, "zeebe_jobs")
				f := firstFailure(t, recs)
				activated := time.UnixMilli(f.Value.Deadline).Add(-pollerTimeout)
				assert.Less(t, end.At.Sub(activated), 10*time.Second, "incident %s after the activation", end.At.Sub(activated))
				assert.Equal(t, int32(0), f.Value.Retries)
			},
		},
	)

	// All instances start at once: the scheduled poller, which runs once a
	// minute, picks them up together.
	piks := make([]int64, len(scenarios))
	for i, sc := range scenarios {
		piks[i] = sc.start(t)
	}
	type result struct {
		end  recordlog.Ending
		recs []recordlog.Record
		err  error
	}
	results := make([]result, len(scenarios))
	var wg sync.WaitGroup
	for i := range scenarios {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
			defer cancel()
			end, err := records.WaitEnd(wctx, piks[i])
			recs, _ := records.Instance(piks[i])
			results[i] = result{end, recs, err}
		}()
	}
	wg.Wait()

	for i, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			r := results[i]
			var timeline strings.Builder
			recordlog.Render(&timeline, fmt.Sprintf("instance %d", piks[i]), r.recs, r.end)
			t.Log(timeline.String())
			require.NoError(t, r.err, "instance %d did not end", piks[i])
			sc.check(t, r.end, r.recs)
		})
	}

	t.Run("SQS never retried a job: one receive per message, nothing dead-lettered", func(t *testing.T) {
		alwaysFail := piks[2]
		lines, err := serverless.Logs(ctx, awsCfg, "always-fail")
		require.NoError(t, err)
		var attempts int
		for _, l := range lines {
			var entry struct {
				Msg                string `json:"msg"`
				ProcessInstanceKey int64  `json:"processInstanceKey"`
				ReceiveCount       string `json:"receiveCount"`
			}
			if json.Unmarshal([]byte(l), &entry) != nil || entry.ProcessInstanceKey != alwaysFail || entry.Msg != "outcome published" {
				continue
			}
			attempts++
			assert.Equal(t, "1", entry.ReceiveCount, "a job message was received more than once: %s", l)
		}
		assert.Equal(t, 3, attempts, "the function ran once per Zeebe retry (its log lines reach CloudWatch Logs)")
		for _, q := range []string{topo.Functions["always-fail"].Queue.URL, topo.Functions["always-fail"].DLQ.URL} {
			assert.Equal(t, 0, depth(ctx, t, awsCfg, q), "queue %s", q)
		}
	})

	t.Run("the poller was started by the EventBridge schedule", func(t *testing.T) {
		rule, err := eventbridge.NewFromConfig(awsCfg).DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(deploy.PollerRule)})
		require.NoError(t, err)
		assert.Equal(t, "rate(1 minute)", aws.ToString(rule.ScheduleExpression))
		// The test never invokes the poller. Zeebe records the worker that
		// activated each job: the poller Lambda names itself after its function.
		var workers []string
		for _, r := range recordlog.Jobs(results[0].recs) {
			if r.Intent == "COMPLETED" {
				workers = append(workers, r.Value.Worker)
			}
		}
		require.Len(t, workers, 3)
		for _, w := range workers {
			assert.Equal(t, deploy.PollerFunction, w)
		}
	})
}

// jobTimeoutOfPoller reads JOB_TIMEOUT from the deployed poller's environment.
func jobTimeoutOfPoller(ctx context.Context, t *testing.T, cfg aws.Config) time.Duration {
	t.Helper()
	out, err := lambda.NewFromConfig(cfg).GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(deploy.PollerFunction)})
	require.NoError(t, err)
	d, err := time.ParseDuration(out.Environment.Variables["JOB_TIMEOUT"])
	require.NoError(t, err, "the poller's JOB_TIMEOUT")
	return d
}

func depth(ctx context.Context, t *testing.T, cfg aws.Config, url string) int {
	t.Helper()
	out, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	require.NoError(t, err)
	var n int
	for _, v := range out.Attributes {
		var x int
		_, _ = fmt.Sscan(v, &x)
		n += x
	}
	return n
}
