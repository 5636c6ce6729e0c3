//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/operator"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

// TestOperatorCLI runs every subcommand of zeebe-bridge against the deployed
// stack, naming it by the Terraform root (--tf-dir), and checks what it
// prints and what it does: two dead-lettered jobs of cancel-flight (whose DLQ
// the returner is kept off for the test) are handed back, one with its
// retries unchanged and one as an incident; two outcomes in the outcomes DLQ
// are redriven and complete their jobs; the keyring is rotated.
func TestOperatorCLI(t *testing.T) {
	t.Parallel()
	zb := zeebetest.Client(t)
	records := zeebetest.Records(t)
	ctx := context.Background()
	awsCfg, err := tfstack.AWSConfig(ctx)
	require.NoError(t, err)
	stack := deployed(t)
	fn := stack.Functions["cancel-flight"]
	q := sqs.NewFromConfig(awsCfg)

	bin := filepath.Join(t.TempDir(), "zeebe-bridge")
	build := exec.Command("go", "build", "-o", bin, "./cmd/zeebe-bridge")
	build.Dir = filepath.Join("..", "..")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/zeebe-bridge: %s", out)
	// Other tests of the package peek at the outcomes DLQ as well, which
	// hides a message for a second: a command that did not find what it
	// looks for is run again, a few times.
	cli := func(t *testing.T, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		for try := 0; ; try++ {
			cmd := exec.Command(bin, append(args, "--tf-dir", shared.root.WorkingDir())...)
			cmd.Env = append(os.Environ(), "TF_DATA_DIR="+shared.root.DataDir())
			stdout.Reset()
			stderr.Reset()
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if err == nil || try == 4 || !strings.Contains(stderr.String(), "try again in a second") {
				require.NoError(t, err, "zeebe-bridge %s: %s", strings.Join(args, " "), stderr.String())
				return stdout.String()
			}
			time.Sleep(time.Second)
		}
	}

	// The returner would hand the jobs back itself: off for this DLQ.
	returnerOff(ctx, t, awsCfg, stack.ReturnerFunctionName, fn.DLQURL)

	// Four jobs of a type of the test's own; their messages are made as the
	// poller would make them, signed with the keyring.
	id := zeebetest.UniqueID("operator")
	jobType := id + "-worker"
	zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", zeebetest.SingleTaskProcessOfType(id, "Task_CancelFlight", jobType, map[string]string{"identifier": "cancel-flight"}, 3))
	for range 4 {
		zeebetest.Start(t, zb.Zeebe(), id, nil)
	}
	actx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	activated, err := zb.Zeebe().NewActivateJobsCommand().JobType(jobType).MaxJobsToActivate(4).Timeout(3 * time.Minute).WorkerName(stack.PollerFunctionName).Send(actx)
	require.NoError(t, err)
	require.Len(t, activated, 4)
	secret, err := secretsmanager.NewFromConfig(awsCfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(stack.JobTokenSecretARN)})
	require.NoError(t, err)
	ring, err := jobtoken.ParseKeyring(aws.ToString(secret.SecretString))
	require.NoError(t, err)
	jobs := make([]jobmsg.Job, 4)
	for i, a := range activated {
		vars := json.RawMessage(a.Variables)
		jobs[i] = jobmsg.Job{Key: a.Key, Type: a.Type, ProcessInstanceKey: a.ProcessInstanceKey, BPMNProcessID: a.BpmnProcessId, ElementID: a.ElementId,
			CustomHeaders: map[string]string{"identifier": "cancel-flight"}, Retries: a.Retries, Deadline: a.Deadline, Variables: vars}
		jobs[i].Token = jobtoken.Sign(ring.Current, a.Key, a.Deadline, "cancel-flight")
	}
	send := func(url string, body []byte, reason string) string {
		out, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(string(body)),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{sqsretry.AttrReason: {DataType: aws.String("String"), StringValue: aws.String(reason)}}})
		require.NoError(t, err)
		return aws.ToString(out.MessageId)
	}
	var jobIDs []string
	for _, j := range jobs[:2] {
		m, err := jobmsg.EncodeJob(j)
		require.NoError(t, err)
		jobIDs = append(jobIDs, send(fn.DLQURL, m.Body, "the function ran, but its outcome could not be published: test"))
	}
	for _, j := range jobs[2:] {
		o, err := jobtoken.Attach(j, jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"redriven":true}`)})
		require.NoError(t, err)
		m, err := jobmsg.EncodeOutcome(o)
		require.NoError(t, err)
		send(stack.OutcomesDLQURL, m.Body, "Zeebe unavailable for a while: test")
	}

	t.Run("--help on every subcommand", func(t *testing.T) {
		for _, args := range [][]string{{"status"}, {"dlq", "list"}, {"dlq", "show"}, {"dlq", "redrive"}, {"dlq", "return"}, {"rotate-key"}} {
			cmd := exec.Command(bin, append(args, "--help")...)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%v --help", args)
			assert.Contains(t, string(out), "usage: zeebe-bridge "+strings.Join(args, " "))
			assert.Contains(t, string(out), "-tf-dir")
		}
		out, err := exec.Command(bin, "nonsense").CombinedOutput()
		assert.Error(t, err)
		assert.Contains(t, string(out), `unknown command "nonsense"`)
	})

	t.Run("status shows the queues and the poller's last run", func(t *testing.T) {
		var st operator.Status
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(5 * time.Second) {
			require.NoError(t, json.Unmarshal([]byte(cli(t, "status", "--json")), &st))
			if st.LastPoller != nil || time.Now().After(deadline) {
				break
			}
		}
		require.NotNil(t, st.LastPoller, "the scheduled poller finished a run")
		assert.WithinDuration(t, time.Now(), st.LastPoller.At, 3*time.Minute)
		byName := map[string]operator.Queue{}
		for _, q := range st.Queues {
			byName[q.Name] = q
		}
		assert.GreaterOrEqual(t, byName["zeebe_cancel-flight_dlq"].Visible+byName["zeebe_cancel-flight_dlq"].InFlight, 2)
		assert.Equal(t, "function-dlq", byName["zeebe_cancel-flight_dlq"].Kind)
		assert.Contains(t, byName, "zeebe_jobs2complete")
		assert.Len(t, st.Queues, 2+2*len(stack.Functions), "the outcomes queue and DLQ, and each function's")
		text := cli(t, "status")
		assert.Contains(t, text, "zeebe_cancel-flight_dlq")
		assert.Contains(t, text, "poller: last run finished")
	})

	t.Run("dlq list and show decode what is dead-lettered", func(t *testing.T) {
		got := map[int64]operator.Letter{}
		for try := 0; try < 10 && len(got) < len(jobs); try++ {
			var letters []operator.Letter
			require.NoError(t, json.Unmarshal([]byte(cli(t, "dlq", "list", "--json")), &letters))
			for _, l := range letters {
				switch {
				case l.Job != nil:
					got[l.Job.Key] = l
				case l.Outcome != nil:
					got[l.Outcome.JobKey] = l
				}
			}
			for _, j := range jobs {
				if _, ok := got[j.Key]; !ok {
					got = map[int64]operator.Letter{} // all four in one listing
					time.Sleep(time.Second)
					break
				}
			}
		}
		for i, j := range jobs {
			l, ok := got[j.Key]
			require.True(t, ok, "job %d listed", j.Key)
			if i < 2 {
				assert.Equal(t, "job", l.Kind)
				assert.Equal(t, "zeebe_cancel-flight_dlq", l.Queue)
				assert.Equal(t, "cancel-flight", l.Function)
				assert.Equal(t, j.ProcessInstanceKey, l.Job.ProcessInstanceKey)
				assert.Contains(t, l.Reason, "could not be published")
			} else {
				assert.Equal(t, "outcome", l.Kind)
				assert.Equal(t, "zeebe_jobs2complete_dlq", l.Queue)
			}
		}
		text := cli(t, "dlq", "list", "--queue", "zeebe_cancel-flight_dlq")
		assert.Contains(t, text, jobIDs[0])
		assert.Contains(t, text, "cancel-flight Task_CancelFlight retries=3")
		var shown operator.Letter
		require.NoError(t, json.Unmarshal([]byte(cli(t, "dlq", "show", jobIDs[0])), &shown))
		require.NotNil(t, shown.Job)
		assert.Equal(t, jobs[0].Key, shown.Job.Key)
	})

	t.Run("dlq return hands a job back with its retries, or as an incident", func(t *testing.T) {
		assert.Contains(t, cli(t, "dlq", "return", jobIDs[0]), "handed back: fail with retries 3")
		assert.Contains(t, cli(t, "dlq", "return", jobIDs[1], "--incident", "operator: the flight data is wrong"), "handed back: fail with retries 0")
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		failed, err := records.WaitFor(wctx, jobs[0].ProcessInstanceKey, func(r recordlog.Record) bool { return r.Is("JOB", "FAILED") })
		require.NoError(t, err)
		assert.Equal(t, int32(3), failed.Value.Retries, "retries unchanged")
		assert.Contains(t, failed.Value.ErrorMessage, "handed back by an operator")
		end, err := records.WaitEnd(wctx, jobs[1].ProcessInstanceKey)
		require.NoError(t, err)
		require.NotNil(t, end.Incident)
		assert.Equal(t, "operator: the flight data is wrong", end.Incident.Value.ErrorMessage)
		assert.Equal(t, 0, depth(ctx, t, awsCfg, fn.DLQURL), "both left the DLQ")
	})

	t.Run("dlq redrive sends the outcomes back and completes their jobs", func(t *testing.T) {
		// Other tests peek at the outcomes DLQ too, hiding a message for a
		// second: what a task does not see, the next one moves.
		var moved int64
		for try := 0; try < 5 && moved < 2; try++ {
			var res operator.RedriveResult
			require.NoError(t, json.Unmarshal([]byte(cli(t, "dlq", "redrive", "--json")), &res))
			assert.Equal(t, "COMPLETED", res.Status)
			moved += res.Moved
			if moved < 2 {
				time.Sleep(time.Second)
			}
		}
		assert.GreaterOrEqual(t, moved, int64(2))
		assert.Contains(t, cli(t, "dlq", "redrive"), "back to the outcomes queue (task")
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		for _, j := range jobs[2:] {
			end, err := records.WaitEnd(wctx, j.ProcessInstanceKey)
			require.NoError(t, err, "job %d", j.Key)
			assert.True(t, end.Completed)
			assert.JSONEq(t, "true", string(recordlog.Variables(mustInstance(t, records, j.ProcessInstanceKey))["redriven"]))
		}
	})

	t.Run("rotate-key makes a new current key and keeps the old one", func(t *testing.T) {
		var res operator.RotateResult
		require.NoError(t, json.Unmarshal([]byte(cli(t, "rotate-key", "--json")), &res))
		assert.Equal(t, "168h0m0s", res.MaxTokenLifetime, "modules/bridge's default max_token_lifetime_seconds")
		secret, err := secretsmanager.NewFromConfig(awsCfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(stack.JobTokenSecretARN)})
		require.NoError(t, err)
		rotated, err := jobtoken.ParseKeyring(aws.ToString(secret.SecretString))
		require.NoError(t, err)
		assert.Equal(t, res.CurrentKeyID, rotated.Current.ID)
		_, kept := rotated.Find(ring.Current.ID)
		assert.True(t, kept, "the key in use before stays valid")
	})

	for _, j := range jobs[:2] {
		_, _ = zb.Zeebe().NewCancelInstanceCommand().ProcessInstanceKey(j.ProcessInstanceKey).Send(ctx)
	}
	_ = os.Remove(bin)
}

func queueARN(ctx context.Context, t *testing.T, cfg aws.Config, url string) string {
	t.Helper()
	out, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	require.NoError(t, err)
	return out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
}

// returnerOff disables the returner's mapping of one DLQ until the test
// ends, so that only the test reads that DLQ; the cleanup enables it again
// and waits until it is.
func returnerOff(ctx context.Context, t *testing.T, awsCfg aws.Config, returner, dlqURL string) {
	t.Helper()
	lc := lambda.NewFromConfig(awsCfg)
	esms, err := lc.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(returner), EventSourceArn: aws.String(queueARN(ctx, t, awsCfg, dlqURL))})
	require.NoError(t, err)
	require.Len(t, esms.EventSourceMappings, 1)
	esm := esms.EventSourceMappings[0].UUID
	_, err = lc.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: esm, Enabled: aws.Bool(false)})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := lc.UpdateEventSourceMapping(context.Background(), &lambda.UpdateEventSourceMappingInput{UUID: esm, Enabled: aws.Bool(true)})
		assert.NoError(t, err)
		waitESMState(context.Background(), t, lc, esm, "Enabled")
	})
	waitESMState(ctx, t, lc, esm, "Disabled")
}

func waitESMState(ctx context.Context, t *testing.T, lc *lambda.Client, uuid *string, state string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		m, err := lc.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: uuid})
		require.NoError(t, err)
		if aws.ToString(m.State) == state {
			return
		}
	}
	t.Fatalf("event source mapping %s did not become %s", aws.ToString(uuid), state)
}
