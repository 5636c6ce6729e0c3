//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

// TestJobTokens publishes outcomes to zeebe_jobs2complete as an attacker
// could, for jobs a worker of another type activated (jobs the bridge never
// published): none is applied, each reaches the outcomes DLQ naming the check
// that failed. Then it rotates the keyring: an outcome signed with the old
// key still completes its job, and so does a job through the whole bridge.
func TestJobTokens(t *testing.T) {
	t.Parallel()
	zb := zeebetest.Client(t)
	records := zeebetest.Records(t)
	ctx := context.Background()
	awsCfg, err := tfstack.AWSConfig(ctx)
	require.NoError(t, err)
	stack := deployed(t)

	id := zeebetest.UniqueID("tokens")
	jobType := id + "-worker"
	zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", zeebetest.SingleTaskProcessOfType(id, "Task_Other", jobType, nil, 3))
	const n = 5
	for range n {
		zeebetest.Start(t, zb.Zeebe(), id, nil)
	}
	actx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	resp, err := zb.Zeebe().NewActivateJobsCommand().JobType(jobType).MaxJobsToActivate(n).Timeout(2 * time.Minute).
		WorkerName("not-the-bridge").Send(actx)
	require.NoError(t, err)
	require.Len(t, resp, n, "jobs of another type, activated by a worker of the test")

	sm := secretsmanager.NewFromConfig(awsCfg)
	secret, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(stack.JobTokenSecretARN)})
	require.NoError(t, err)
	ring, err := jobtoken.ParseKeyring(aws.ToString(secret.SecretString))
	require.NoError(t, err, "Terraform created the keyring")

	// outcome answers job i as lambdakit would, for a token signed with key.
	outcome := func(i int, key *jobtoken.Key) jobmsg.Outcome {
		j := resp[i]
		job := jobmsg.Job{Key: j.Key, ProcessInstanceKey: j.ProcessInstanceKey, Deadline: j.Deadline, CustomHeaders: map[string]string{"identifier": "echo"}}
		if key != nil {
			job.Token = jobtoken.Sign(*key, job.Key, job.Deadline, job.Identifier())
		}
		o, err := jobtoken.Attach(job, jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"paid":100}`)})
		require.NoError(t, err)
		return o
	}
	forged := outcome(0, nil)
	madeUp := outcome(1, &jobtoken.Key{ID: ring.Current.ID, Secret: randomSecret(t)})
	tampered := outcome(2, &ring.Current)
	tampered.Variables = json.RawMessage(`{"paid":1000000}`)
	unknownKey := outcome(3, &jobtoken.Key{ID: "k-unknown", Secret: randomSecret(t)})
	oldKey := ring.Current
	want := map[int64]string{ // job key -> the check that fails
		forged.JobKey:     "missing",
		madeUp.JobKey:     "forged",
		tampered.JobKey:   "tampered",
		unknownKey.JobKey: `key id "k-unknown"`,
	}
	for _, o := range []jobmsg.Outcome{forged, madeUp, tampered, unknownKey} {
		publishOutcome(ctx, t, awsCfg, stack.OutcomesTopicARN, o)
	}

	// Rotation: a new current key; the old one stays valid.
	next := jobtoken.Key{ID: fmt.Sprintf("k-%d", time.Now().UnixNano()), Secret: randomSecret(t)}
	// Previous keys kept for the token lifetime, as zeebe-bridge rotate-key
	// does: TestOperatorCLI rotates too, and the running poller may still
	// sign with the first key.
	rotated, err := json.Marshal(ring.Rotate(next, time.Now(), jobtoken.DefaultMaxTokenLifetime))
	require.NoError(t, err)
	_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(stack.JobTokenSecretARN), SecretString: aws.String(string(rotated))})
	require.NoError(t, err)
	afterRotation := outcome(4, &oldKey)
	publishOutcome(ctx, t, awsCfg, stack.OutcomesTopicARN, afterRotation)
	echo := zeebetest.UniqueID("tokens-echo")
	zeebetest.Deploy(t, zb.Zeebe(), echo+".bpmn", zeebetest.SingleTaskProcess(echo, "Task_Echo", map[string]string{"identifier": "echo"}, 3))
	echoPik := zeebetest.Start(t, zb.Zeebe(), echo, map[string]any{"doc": "after rotation"})

	t.Run("a genuine outcome signed before the rotation completes its job", func(t *testing.T) {
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		end, err := records.WaitEnd(wctx, afterRotation.ProcessInstanceKey)
		require.NoError(t, err)
		assert.True(t, end.Completed)
		assert.JSONEq(t, "100", string(recordlog.Variables(mustInstance(t, records, afterRotation.ProcessInstanceKey))["paid"]))
	})
	t.Run("a job through the bridge after the rotation completes", func(t *testing.T) {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		end, err := records.WaitEnd(wctx, echoPik)
		require.NoError(t, err)
		assert.True(t, end.Completed)
	})
	t.Run("forged, made-up, tampered and unknown-key outcomes reach the DLQ, naming the check, and are never applied", func(t *testing.T) {
		found := map[int64]string{}
		q := sqs.NewFromConfig(awsCfg)
		for deadline := time.Now().Add(30 * time.Second); len(found) < len(want) && time.Now().Before(deadline); {
			out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(stack.OutcomesDLQURL), MaxNumberOfMessages: 10,
				WaitTimeSeconds: 1, VisibilityTimeout: 1, MessageAttributeNames: []string{"All"}})
			require.NoError(t, err)
			for _, m := range out.Messages {
				o, err := jobmsg.DecodeOutcome([]byte(aws.ToString(m.Body)))
				if err != nil {
					continue
				}
				if _, ours := want[o.JobKey]; !ours {
					continue
				}
				if r, ok := m.MessageAttributes[sqsretry.AttrReason]; ok {
					found[o.JobKey] = aws.ToString(r.StringValue)
				}
				_, _ = q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(stack.OutcomesDLQURL), ReceiptHandle: m.ReceiptHandle})
			}
		}
		for key, check := range want {
			assert.Contains(t, found[key], "job token", "job %d", key)
			assert.Contains(t, found[key], check, "job %d", key)
			for _, r := range recordlog.Jobs(mustInstanceOfJob(t, records, resp, key)) {
				assert.NotEqual(t, "COMPLETED", r.Intent, "job %d was completed by an outcome the bridge never signed", key)
			}
		}
	})
	// The instances whose jobs stay activated are cancelled, not left to time out.
	for _, j := range resp[:4] {
		_, _ = zb.Zeebe().NewCancelInstanceCommand().ProcessInstanceKey(j.ProcessInstanceKey).Send(ctx)
	}
}

func publishOutcome(ctx context.Context, t *testing.T, awsCfg aws.Config, topicARN string, o jobmsg.Outcome) {
	t.Helper()
	m, err := jobmsg.EncodeOutcome(o)
	require.NoError(t, err)
	_, err = sns.NewFromConfig(awsCfg).Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topicARN), Message: aws.String(string(m.Body))})
	require.NoError(t, err)
}

func randomSecret(t *testing.T) string {
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

func mustInstance(t *testing.T, records *recordlog.Log, pik int64) []recordlog.Record {
	t.Helper()
	recs, err := records.Instance(pik)
	require.NoError(t, err)
	return recs
}

func mustInstanceOfJob(t *testing.T, records *recordlog.Log, jobs []entities.Job, key int64) []recordlog.Record {
	t.Helper()
	for _, j := range jobs {
		if j.Key == key {
			return mustInstance(t, records, j.ProcessInstanceKey)
		}
	}
	t.Fatalf("job %d not found", key)
	return nil
}
