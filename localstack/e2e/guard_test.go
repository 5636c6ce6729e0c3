//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/fulfiller"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/activation"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
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
		publishOutcome(ctx, t, awsCfg, stack.OutcomesTopicARN, fail)
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		_, err := records.WaitFor(wctx, pik, func(r recordlog.Record) bool { return r.Is("JOB", "FAILED") })
		require.NoError(t, err, "the first fail outcome is applied")

		second := activate(t)
		require.Equal(t, first.Key, second.Key, "the same job, activated again")
		require.NotEqual(t, first.Deadline, second.Deadline)

		publishOutcome(ctx, t, awsCfg, stack.OutcomesTopicARN, fail) // SNS delivering it twice
		acknowledged(ctx, t, awsCfg, "/aws/lambda/"+stack.FulfillerFunctionName, first.Key)

		publishOutcome(ctx, t, awsCfg, stack.OutcomesTopicARN, answer(t, second, jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"answeredBy":"second"}`)}))
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

// guardBucket creates a bucket of the test's own on LocalStack's S3 and
// returns a guard on it; cleanup empties and deletes it.
func guardBucket(ctx context.Context, t *testing.T, awsCfg aws.Config) (*activation.Store, *s3.Client) {
	t.Helper()
	c := s3Client(awsCfg)
	bucket := strings.ToLower(zeebetest.UniqueID("guard"))
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	t.Cleanup(func() {
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		if err == nil {
			for _, o := range out.Contents {
				_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			}
		}
		_, _ = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	})
	return &activation.Store{API: c, Bucket: bucket}, c
}

// TestActivationClaimsOnS3: LocalStack's S3, like AWS's since 2024, honours
// If-None-Match: * on PutObject, which the guard's claims rest on: of
// answers racing for one activation, exactly one owns it.
func TestActivationClaimsOnS3(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	awsCfg, err := tfstack.AWSConfig(ctx)
	require.NoError(t, err)
	store, _ := guardBucket(ctx, t, awsCfg)

	const job, act = int64(2251799813685249), int64(1_700_000_000_000)
	first, err := store.Claim(ctx, job, act, "mac:function")
	require.NoError(t, err)
	assert.Equal(t, activation.Claim{Verdict: activation.Fresh}, first)
	second, err := store.Claim(ctx, job, act, "mac:returner")
	require.NoError(t, err)
	assert.Equal(t, activation.Answered, second.Verdict, "the conditional put refused the second answer")

	const racers = 8
	verdicts := make([]activation.Verdict, racers)
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			var cl activation.Claim
			cl, errs[i] = store.Claim(ctx, job, act+1, fmt.Sprintf("mac:%d", i))
			for errors.Is(errs[i], activation.ErrConflict) { // S3 saw two writes at once: try again, as SQS would
				cl, errs[i] = store.Claim(ctx, job, act+1, fmt.Sprintf("mac:%d", i))
			}
			verdicts[i] = cl.Verdict
		})
	}
	wg.Wait()
	count := map[activation.Verdict]int{}
	for i := range racers {
		require.NoError(t, errs[i])
		count[verdicts[i]]++
	}
	assert.Equal(t, map[activation.Verdict]int{activation.Fresh: 1, activation.Answered: racers - 1}, count)
}

// TestActivationGuardCost measures, side by side in one run, what the guard
// adds to applying an outcome: the fulfiller completes jobs on the local
// engine, alternately without and with the guard on LocalStack's S3 (a
// claim and its settlement: two puts). It logs the medians and their ratio.
func TestActivationGuardCost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	awsCfg, err := tfstack.AWSConfig(ctx)
	require.NoError(t, err)
	store, c := guardBucket(ctx, t, awsCfg)
	zb := zeebetest.Client(t)
	records := zeebetest.Records(t)

	id := zeebetest.UniqueID("guard-cost")
	zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", zeebetest.SingleTaskProcessOfType(id, "Task_Cost", id, nil, 3))
	const n = 40 // jobs per side
	piks := make([]int64, 2*n)
	for i := range piks {
		piks[i] = zeebetest.Start(t, zb.Zeebe(), id, nil)
	}
	var jobs []jobmsg.Job
	for deadline := time.Now().Add(time.Minute); len(jobs) < 2*n && time.Now().Before(deadline); {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		got, err := zb.ActivateJobs(actx, id, "guard-cost", int32(2*n-len(jobs)), 5*time.Minute, time.Second)
		cancel()
		require.NoError(t, err)
		jobs = append(jobs, got...)
	}
	require.Len(t, jobs, 2*n)

	key := jobtoken.Key{ID: "k-cost", Secret: randomSecret(t)}
	plain := fulfiller.New(zb, joblog.Discard())
	guarded := fulfiller.New(zb, joblog.Discard())
	guarded.Guard = store
	took := map[bool][]time.Duration{}
	for i, j := range jobs {
		j.CustomHeaders = map[string]string{"identifier": "echo"}
		j.Token = jobtoken.Sign(key, j.Key, j.Deadline, j.Identifier())
		o, err := jobtoken.Attach(j, jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{}`)})
		require.NoError(t, err)
		m, err := jobmsg.EncodeOutcome(o)
		require.NoError(t, err)
		h, withGuard := plain, i%2 == 1
		if withGuard {
			h = guarded
		}
		// A record the fulfiller reports as failed (the engine killed by the
		// restart test beside this one) comes back as SQS would bring it
		// back, once the engine answers again; only the attempt that
		// applies it is timed.
		for attempt := 1; ; attempt++ {
			began := time.Now()
			resp, err := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: strconv.Itoa(i), Body: string(m.Body), EventSource: "aws:sqs"}}})
			require.NoError(t, err)
			if len(resp.BatchItemFailures) == 0 {
				took[withGuard] = append(took[withGuard], time.Since(began))
				break
			}
			require.Less(t, attempt, 5, "record %d failed %d times", i, attempt)
			t.Logf("record %d failed (attempt %d): redelivered once the engine answers", i, attempt)
			engineAnswers(ctx, t, zb)
		}
	}
	for _, pik := range piks {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		end, err := records.WaitEnd(wctx, pik)
		cancel()
		require.NoError(t, err)
		assert.True(t, end.Completed)
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(store.Bucket), Prefix: aws.String(activation.PrefixClaims)})
	require.NoError(t, err)
	assert.Equal(t, int32(n), aws.ToInt32(out.KeyCount), "one claim per guarded outcome")

	median := func(d []time.Duration) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[len(s)/2]
	}
	without, with := median(took[false]), median(took[true])
	t.Logf("applying one outcome, median of %d each: without the guard %s, with it %s; ratio %.2f (local engine, LocalStack S3)",
		n, without.Round(10*time.Microsecond), with.Round(10*time.Microsecond), float64(with)/float64(without))
}

// engineAnswers waits until the engine answers a topology request with a
// partition, for at most a minute.
func engineAnswers(ctx context.Context, t *testing.T, zb *zeebeclient.Client) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		top, err := zb.Zeebe().NewTopologyCommand().Send(wctx)
		if err == nil && len(top.Brokers) > 0 && len(top.Brokers[0].Partitions) > 0 {
			return
		}
		require.NoError(t, wctx.Err(), "the engine did not answer within a minute (last error: %v)", err)
		time.Sleep(200 * time.Millisecond) // the polling interval
	}
}
