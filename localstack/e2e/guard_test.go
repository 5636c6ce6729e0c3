//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/activation"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

// TestActivationGuard plays issue 20 against the deployed fulfiller: a fail
// outcome that SNS delivers a second time, after Zeebe has handed the job
// out again, must leave the new activation untouched. The test is the
// job's worker (a job type of its own, so the bridge's poller never takes
// it) and answers as lambdakit does, with outcomes sealed under tokens the
// bridge's keyring signs.
func TestActivationGuard(t *testing.T) {
	t.Parallel()
	zb := zeebetest.Client(t)
	records := zeebetest.Records(t)
	ctx := context.Background()
	awsCfg, err := tfstack.AWSConfig(ctx)
	require.NoError(t, err)
	stack := deployed(t)

	secret, err := secretsmanager.NewFromConfig(awsCfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(stack.JobTokenSecretARN)})
	require.NoError(t, err)
	ring, err := jobtoken.ParseKeyring(aws.ToString(secret.SecretString))
	require.NoError(t, err)

	id := zeebetest.UniqueID("guard")
	jobType := id + "-worker"
	zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", zeebetest.SingleTaskProcessOfType(id, "Task_Guarded", jobType, nil, 3))
	pik := zeebetest.Start(t, zb.Zeebe(), id, nil)

	activate := func(t *testing.T) entities.Job {
		t.Helper()
		actx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		resp, err := zb.Zeebe().NewActivateJobsCommand().JobType(jobType).MaxJobsToActivate(1).Timeout(5 * time.Minute).
			WorkerName("guard-test").Send(actx)
		require.NoError(t, err)
		require.Len(t, resp, 1)
		return resp[0]
	}
	// answer is what lambdakit publishes for activation j.
	answer := func(t *testing.T, j entities.Job, o jobmsg.Outcome) jobmsg.Outcome {
		t.Helper()
		job := jobmsg.Job{Key: j.Key, ProcessInstanceKey: j.ProcessInstanceKey, Deadline: j.Deadline, CustomHeaders: map[string]string{"identifier": "echo"}}
		job.Token = jobtoken.Sign(ring.Current, job.Key, job.Deadline, job.Identifier())
		o, err := jobtoken.Attach(job, o)
		require.NoError(t, err)
		return o
	}

	t.Run("a duplicate fail outcome delivered after the job was activated again leaves the new activation untouched", func(t *testing.T) {
		first := activate(t)
		// No backoff: Zeebe may hand the job out again at once, as job push does.
		fail := answer(t, first, jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, ErrorMessage: "first run failed"})
		publishOutcome(ctx, t, awsCfg, stack, fail)
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		_, err := records.WaitFor(wctx, pik, func(r recordlog.Record) bool { return r.Is("JOB", "FAILED") })
		require.NoError(t, err, "the first fail outcome is applied")

		second := activate(t)
		require.Equal(t, first.Key, second.Key, "the same job, activated again")
		require.NotEqual(t, first.Deadline, second.Deadline)

		publishOutcome(ctx, t, awsCfg, stack, fail) // SNS delivering it twice
		acknowledged(ctx, t, awsCfg, "/aws/lambda/"+stack.FulfillerFunctionName, first.Key)

		publishOutcome(ctx, t, awsCfg, stack, answer(t, second, jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"answeredBy":"second"}`)}))
		end, err := records.WaitEnd(wctx, pik)
		require.NoError(t, err)
		assert.True(t, end.Completed)
		recs := mustInstance(t, records, pik)
		var intents []string
		for _, r := range recordlog.Jobs(recs) {
			intents = append(intents, r.Intent)
			if r.Intent == "FAILED" {
				assert.Equal(t, int32(2), r.Value.Retries)
				assert.Equal(t, "first run failed", r.Value.ErrorMessage)
			}
		}
		assert.Equal(t, []string{"CREATED", "FAILED", "COMPLETED"}, intents, "one fail, then the second activation's complete; the duplicate never reached Zeebe")
		for _, r := range recs {
			assert.NotEqual(t, "COMMAND_REJECTION", r.RecordType, "Zeebe rejected a command: %s %s", r.Intent, r.RejectionReason)
		}
		assert.JSONEq(t, `"second"`, string(recordlog.Variables(recs)["answeredBy"]))

		// The first activation's claim names the fail, applied.
		out, err := s3Client(awsCfg).GetObject(ctx, &s3.GetObjectInput{
			Bucket: aws.String(stack.PayloadBucket), Key: aws.String(activation.ClaimKey(first.Key, first.Deadline))})
		require.NoError(t, err)
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		require.NoError(t, err)
		var claim struct{ Owner, State string }
		require.NoError(t, json.Unmarshal(b, &claim))
		assert.Equal(t, activation.Owner(fail), claim.Owner)
		assert.Equal(t, "applied", claim.State)
	})
}

// acknowledged waits for the fulfiller's line saying it acknowledged an
// outcome of the job as answered already, with its metric.
func acknowledged(ctx context.Context, t *testing.T, awsCfg aws.Config, group string, jobKey int64) {
	t.Helper()
	want := strconv.FormatInt(jobKey, 10)
	for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		lines, err := logs(ctx, awsCfg, group)
		require.NoError(t, err)
		for _, l := range lines {
			var e struct {
				Msg      string      `json:"msg"`
				JobKey   json.Number `json:"jobKey"`
				Answered float64     `json:"OutcomesAlreadyAnswered"`
			}
			if json.Unmarshal([]byte(l), &e) == nil && e.JobKey.String() == want && e.Answered == 1 {
				assert.Equal(t, "outcome for an activation that has been answered: a duplicate, acknowledged and not applied", e.Msg)
				return
			}
		}
	}
	t.Fatalf("the fulfiller never acknowledged the duplicate outcome of job %d", jobKey)
}
