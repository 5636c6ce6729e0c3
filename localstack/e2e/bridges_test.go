//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

// secondBridge is what localstack/terraform/second-bridge created.
type secondBridge struct {
	BridgeName         string `json:"bridge_name"`
	OutcomesTopicARN   string `json:"outcomes_topic_arn"`
	OutcomesDLQURL     string `json:"outcomes_dlq_url"`
	JobTokenSecretARN  string `json:"job_token_secret_arn"`
	PollerFunctionName string `json:"poller_function_name"`
	Functions          map[string]struct {
		FunctionName string `json:"function_name"`
		LogGroupName string `json:"log_group_name"`
		QueueName    string `json:"queue_name"`
	} `json:"functions"`
}

// secondBridgeFunctions is how many functions the second bridge gets: more
// than the roughly 30 at which the returner's policy outgrew IAM's limit
// when each function added its own statement to it.
const secondBridgeFunctions = 40

// TestTwoBridges applies a second bridge (prefix b-, job type lambda-b) with
// 40 functions beside the first, in the same LocalStack, with the same BPMN
// identifier noop in both: each bridge's jobs run only its own functions, an
// outcome a function of one bridge seals is refused by the other, and each
// bridge's metrics carry its name.
func TestTwoBridges(t *testing.T) {
	t.Parallel()
	zb := zeebetest.Client(t)
	records := zeebetest.Records(t)
	ctx := context.Background()
	awsCfg, err := tfstack.AWSConfig(ctx)
	require.NoError(t, err)
	stack := deployed(t)
	require.Contains(t, stack.Functions, "noop", "TestTwoBridges needs noop in the first bridge: add it to E2E_FUNCTIONS")

	ids := []string{"noop"}
	for i := 1; i < secondBridgeFunctions; i++ {
		ids = append(ids, fmt.Sprintf("fn-%02d", i))
	}
	distAbs, err := filepath.Abs(dist)
	require.NoError(t, err)
	root := tfstack.Root{Dir: filepath.Join("localstack", "terraform", "second-bridge"), Name: "second-bridge", Log: tfLog(t),
		Vars: map[string]any{"localstack_endpoint": tfstack.Endpoint(), "dist": distAbs, "architectures": []string{tfstack.Architecture()},
			"zeebe_address": zeebetest.Address(), "identifiers": ids}}
	t.Cleanup(func() {
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		assert.NoError(t, root.Destroy(dctx), "terraform destroy of the second bridge")
	})
	start := time.Now()
	out, err := root.Apply(ctx)
	require.NoError(t, err, "terraform apply of a second bridge with %d functions", len(ids))
	t.Logf("applied the second bridge with %d functions in %s", len(ids), time.Since(start).Round(time.Second))
	var b secondBridge
	for k, v := range map[string]any{"bridge_name": &b.BridgeName, "outcomes_topic_arn": &b.OutcomesTopicARN, "outcomes_dlq_url": &b.OutcomesDLQURL,
		"job_token_secret_arn": &b.JobTokenSecretARN, "poller_function_name": &b.PollerFunctionName, "functions": &b.Functions} {
		require.NoError(t, json.Unmarshal(out[k], v), k)
	}
	require.Len(t, b.Functions, secondBridgeFunctions)
	assert.Equal(t, "b-zeebe-bridge", b.BridgeName)
	assert.Equal(t, "b-noop", b.Functions["noop"].FunctionName)
	assert.Equal(t, "b-zeebe_noop", b.Functions["noop"].QueueName)

	t.Run("each bridge's jobs run only its own functions", func(t *testing.T) {
		piks := map[string]int64{}
		for _, bt := range []struct{ bridge, jobType string }{{"a", "lambda"}, {"b", "lambda-b"}} {
			id := zeebetest.UniqueID("bridges-" + bt.bridge)
			zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", zeebetest.SingleTaskProcessOfType(id, "Task_Noop", bt.jobType, map[string]string{"identifier": "noop"}, 3))
			piks[bt.bridge] = zeebetest.Start(t, zb.Zeebe(), id, nil)
		}
		// The second bridge's poller runs once a minute from its apply.
		wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		for bridge, pik := range piks {
			end, err := records.WaitEnd(wctx, pik)
			require.NoError(t, err, "bridge %s's instance", bridge)
			assert.True(t, end.Completed, "bridge %s's instance completed", bridge)
		}
		groups := map[string]string{"a": stack.Functions["noop"].LogGroupName, "b": b.Functions["noop"].LogGroupName}
		for ran, group := range groups {
			for bridge, pik := range piks {
				want := 0
				if ran == bridge {
					want = 1
				}
				got := 0
				// The lines of a run arrive with it; wait for the one expected.
				for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
					got = countLines(ctx, t, awsCfg, group, "outcome published", map[int64]bool{pik: true})
					if got >= want || time.Now().After(deadline) {
						break
					}
				}
				assert.Equal(t, want, got, "bridge %s's job in %s", bridge, group)
			}
		}
	})

	t.Run("an outcome a function of the second bridge seals is refused by the first and applied by its own", func(t *testing.T) {
		id := zeebetest.UniqueID("bridges-cross")
		jobType := id + "-worker"
		zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", zeebetest.SingleTaskProcessOfType(id, "Task_Other", jobType, nil, 3))
		pik := zeebetest.Start(t, zb.Zeebe(), id, nil)
		actx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		jobs, err := zb.Zeebe().NewActivateJobsCommand().JobType(jobType).MaxJobsToActivate(1).Timeout(2 * time.Minute).
			WorkerName("test-as-second-bridge").Send(actx)
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		// Sealed as b-noop would seal it: with the token the second
		// bridge's poller signs with its keyring.
		secret, err := secretsmanager.NewFromConfig(awsCfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(b.JobTokenSecretARN)})
		require.NoError(t, err)
		ring, err := jobtoken.ParseKeyring(aws.ToString(secret.SecretString))
		require.NoError(t, err)
		j := jobs[0]
		job := jobmsg.Job{Key: j.Key, ProcessInstanceKey: j.ProcessInstanceKey, Deadline: j.Deadline, CustomHeaders: map[string]string{"identifier": "noop"}}
		job.Token = jobtoken.Sign(ring.Current, job.Key, job.Deadline, job.Identifier())
		o, err := jobtoken.Attach(job, jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"answeredBy":"b-noop"}`)})
		require.NoError(t, err)

		publishOutcome(ctx, t, awsCfg, stack.OutcomesTopicARN, o)
		reason := ""
		q := sqs.NewFromConfig(awsCfg)
		for deadline := time.Now().Add(30 * time.Second); reason == "" && time.Now().Before(deadline); {
			msgs, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(stack.OutcomesDLQURL), MaxNumberOfMessages: 10,
				WaitTimeSeconds: 1, VisibilityTimeout: 1, MessageAttributeNames: []string{"All"}})
			require.NoError(t, err)
			for _, m := range msgs.Messages {
				got, err := jobmsg.DecodeOutcome([]byte(aws.ToString(m.Body)))
				if err != nil || got.JobKey != o.JobKey {
					continue
				}
				if r, ok := m.MessageAttributes[sqsretry.AttrReason]; ok {
					reason = aws.ToString(r.StringValue)
				}
				_, _ = q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(stack.OutcomesDLQURL), ReceiptHandle: m.ReceiptHandle})
			}
		}
		// Both keyrings call their first key k1: the signature tells them apart.
		assert.Contains(t, reason, "forged", "the first bridge's fulfiller refused the second bridge's outcome")
		assert.Empty(t, recordlog.Variables(mustInstance(t, records, pik))["answeredBy"], "and applied nothing")

		publishOutcome(ctx, t, awsCfg, b.OutcomesTopicARN, o)
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		end, err := records.WaitEnd(wctx, pik)
		require.NoError(t, err)
		assert.True(t, end.Completed, "the second bridge's fulfiller applied it")
		assert.JSONEq(t, `"b-noop"`, string(recordlog.Variables(mustInstance(t, records, pik))["answeredBy"]))
	})

	t.Run("each bridge's metrics carry its name", func(t *testing.T) {
		for _, tt := range []struct{ group, bridge string }{
			{"/aws/lambda/" + stack.PollerFunctionName, "zeebe-bridge"},
			{"/aws/lambda/" + b.PollerFunctionName, "b-zeebe-bridge"},
			{stack.Functions["noop"].LogGroupName, "zeebe-bridge"},
			{b.Functions["noop"].LogGroupName, "b-zeebe-bridge"},
		} {
			// A poller's run lasts a minute, and its lines reach CloudWatch
			// when it ends: wait for one.
			var lines []string
			for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(2 * time.Second) {
				lines, err = logsSince(ctx, awsCfg, tt.group, start)
				require.NoError(t, err)
				if strings.Contains(strings.Join(lines, "\n"), `"_aws"`) || time.Now().After(deadline) {
					break
				}
			}
			metricLines, named := 0, 0
			for _, l := range lines {
				var e struct {
					AWS *struct {
						CloudWatchMetrics []struct{ Dimensions [][]string }
					} `json:"_aws"`
					Bridge string
				}
				if json.Unmarshal([]byte(l), &e) != nil || e.AWS == nil {
					continue
				}
				metricLines++
				if e.Bridge == tt.bridge && len(e.AWS.CloudWatchMetrics) == 1 &&
					strings.Join(e.AWS.CloudWatchMetrics[0].Dimensions[0], ",") == "Bridge,Component" {
					named++
				}
			}
			require.Positive(t, metricLines, "%s wrote metric lines (the subtests above ran jobs through it)", tt.group)
			assert.Equal(t, metricLines, named, "every metric line of %s has the dimension Bridge = %s", tt.group, tt.bridge)
		}
	})

	t.Run("resource policies", func(t *testing.T) {
		resourcePoliciesHold(ctx, t, awsCfg, stack, b.Functions["noop"].FunctionName)
	})
}
