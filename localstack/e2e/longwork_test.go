//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/completion"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/emf"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

// TestLongWork runs bpmn/long-work.bpmn (task header timeout PT15S) through
// the deployed bridge: the long-work function answers pending, and
// long-work-finish heartbeats and completes the job through its completion
// token, or stops heartbeating as a dead worker would.
func TestLongWork(t *testing.T) {
	t.Parallel()
	zb := zeebetest.Client(t)
	records := zeebetest.Records(t)
	ctx := context.Background()
	awsCfg, err := tfstack.AWSConfig(ctx)
	require.NoError(t, err)
	stack := deployed(t)
	if _, ok := stack.Functions["long-work"]; !ok {
		t.Skip("long-work is not deployed (E2E_FUNCTIONS)")
	}
	require.NotEmpty(t, stack.LongWorkQueueURL, "the long-work example's queue")
	zeebetest.DeployFile(t, zb.Zeebe(), filepath.Join("..", "..", "bpmn", "long-work.bpmn"))

	jobRecords := func(t *testing.T, pik int64, intent string) []recordlog.Record {
		t.Helper()
		recs, err := records.Instance(pik)
		require.NoError(t, err)
		var out []recordlog.Record
		for _, r := range recordlog.Jobs(recs) {
			if r.Intent == intent {
				out = append(out, r)
			}
		}
		return out
	}

	// completes runs one instance to its completion, never timed out, and
	// returns how long its job took from activation to completion.
	completes := func(t *testing.T, vars map[string]any) (int64, time.Duration) {
		t.Helper()
		pik := zeebetest.Start(t, zb.Zeebe(), "long-work", vars)
		wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		end, err := records.WaitEnd(wctx, pik)
		require.NoError(t, err)
		require.Nil(t, end.Incident)
		require.True(t, end.Completed)
		// The poller applies the task header timeout when it hands the job
		// out: the first timeout update is the activation.
		activated, completed := jobRecords(t, pik, "TIMEOUT_UPDATED"), jobRecords(t, pik, "COMPLETED")
		require.NotEmpty(t, activated)
		require.Len(t, completed, 1)
		assert.Empty(t, jobRecords(t, pik, "TIMED_OUT"), "never timed out")
		return pik, completed[0].Time().Sub(activated[0].Time())
	}

	t.Run("pending job completed 30 s later through its token", func(t *testing.T) {
		t.Parallel()
		pik, took := completes(t, map[string]any{"workSeconds": 30, "heartbeatSeconds": 5})
		assert.GreaterOrEqual(t, took, 30*time.Second, "completed when the work was done")
		assert.Less(t, took, 60*time.Second)
		recs, err := records.Instance(pik)
		require.NoError(t, err)
		var lw struct {
			Heartbeats int `json:"heartbeats"`
		}
		require.NoError(t, json.Unmarshal(recordlog.Variables(recs)["longWork"], &lw))
		assert.GreaterOrEqual(t, lw.Heartbeats, 4, "the finisher's result reached the process")
		t.Logf("activated to completed: %s, %d heartbeats", took.Round(100*time.Millisecond), lw.Heartbeats)
	})

	t.Run("heartbeats every 5 s keep a 15 s job alive through 60 s of work, handed out once", func(t *testing.T) {
		t.Parallel()
		pik, took := completes(t, map[string]any{"workSeconds": 60, "heartbeatSeconds": 5})
		updates := jobRecords(t, pik, "TIMEOUT_UPDATED")
		assert.GreaterOrEqual(t, took, 60*time.Second, "four times its timeout")
		// The poller's (the task header's timeout at activation), then one
		// per heartbeat. A heartbeat comes 5 s after the previous visit plus
		// the queue's delivery, 5-6.5 s apart: the count over 60 s varies,
		// the spacing is what keeps the job alive.
		assert.GreaterOrEqual(t, len(updates), 1+8, "a heartbeat every 5 s, each an UpdateJobTimeout")
		completed := jobRecords(t, pik, "COMPLETED")
		require.Len(t, completed, 1)
		for i, u := range append(updates[1:], completed[0]) {
			gap := u.Time().Sub(updates[i].Time())
			assert.Less(t, gap, 10*time.Second, "%s %s after the previous timeout update: within the 15 s timeout, with room", u.Intent, gap)
		}
		// Each heartbeat moved the deadline to about 15 s after it.
		for _, u := range updates {
			assert.InDelta(t, 15000, u.Value.Deadline-u.Timestamp, 1000, "deadline %d at %d", u.Value.Deadline, u.Timestamp)
		}
		fnLogs, err := logs(ctx, awsCfg, stack.Functions["long-work"].LogGroupName)
		require.NoError(t, err)
		pending := linesOf(fnLogs, pik, "handler answered pending")
		require.Len(t, pending, 1, "handed out once: the function ran once")
		assert.Equal(t, 1.0, emfValues(t, pending)["OutcomesPending"])
		// The fulfiller's metrics count the heartbeats Zeebe recorded.
		var applied []string
		require.Eventually(t, func() bool {
			lines, err := logs(ctx, awsCfg, "/aws/lambda/"+stack.FulfillerFunctionName)
			applied = linesOf(lines, pik, "heartbeat applied")
			return err == nil && len(applied) >= len(updates)-1
		}, 30*time.Second, time.Second)
		assert.Equal(t, float64(len(updates)-1), emfValues(t, applied)["HeartbeatsApplied"], "one per heartbeat, the poller's update aside")
		t.Logf("activated to completed: %s, %d timeout updates", took.Round(100*time.Millisecond), len(updates))
	})

	t.Run("a job whose heartbeats stop is handed out again; the late completion is a duplicate", func(t *testing.T) {
		t.Parallel()
		// Heartbeats stop after 8 s: the job times out about 15 s after the
		// last one, and the first worker completes it at 40 s, too late.
		pik := zeebetest.Start(t, zb.Zeebe(), "long-work", map[string]any{"workSeconds": 40, "heartbeatSeconds": 5, "heartbeatForSeconds": 8})
		defer func() {
			// Every activation of this instance stops heartbeating: end it.
			_, _ = zb.Zeebe().NewCancelInstanceCommand().ProcessInstanceKey(pik).Send(ctx)
		}()
		wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		timedOut, err := records.WaitFor(wctx, pik, func(r recordlog.Record) bool { return r.Is("JOB", "TIMED_OUT") })
		require.NoError(t, err)
		first := jobRecords(t, pik, "TIMEOUT_UPDATED")[0] // the poller's, at the first activation
		assert.Equal(t, first.Key, timedOut.Key)
		second, err := records.WaitFor(wctx, pik, func(r recordlog.Record) bool {
			return r.Is("JOB", "TIMEOUT_UPDATED") && r.Timestamp > timedOut.Timestamp
		})
		require.NoError(t, err, "handed out again after its timeout")
		assert.Equal(t, first.Key, second.Key, "the same job")
		fnGroup := stack.Functions["long-work"].LogGroupName
		require.Eventually(t, func() bool {
			lines, err := logs(ctx, awsCfg, fnGroup)
			return err == nil && len(linesOf(lines, pik, "handler answered pending")) >= 2
		}, time.Minute, time.Second, "the function ran again for the second activation")

		fulfillerGroup := "/aws/lambda/" + stack.FulfillerFunctionName
		var late []string
		require.Eventually(t, func() bool {
			lines, err := logs(ctx, awsCfg, fulfillerGroup)
			if err != nil {
				return false
			}
			late = linesOf(lines, pik, "asynchronous complete for an activation that has ended")
			return len(late) > 0
		}, 2*time.Minute, time.Second, "the first worker's completion at 40 s reaches the fulfiller")
		var line struct {
			Activation int64 `json:"activation"`
			Duplicate  int   `json:"OutcomesDuplicate"`
		}
		require.NoError(t, json.Unmarshal([]byte(late[0]), &line), late[0])
		// The poller takes the deadline just before Zeebe does.
		assert.InDelta(t, first.Value.Deadline, line.Activation, 2000, "the late completion names the first activation")
		assert.Equal(t, 1, line.Duplicate, "counted as a duplicate")
		assert.Empty(t, jobRecords(t, pik, "COMPLETED"), "never applied: the job was with its second activation")
	})

	t.Run("the callback function URL completes a pending job for a caller without Go", func(t *testing.T) {
		t.Parallel()
		require.NotEmpty(t, stack.CallbackFunctionURL)
		// A job of its own type, activated by the test and signed as the
		// poller would: the test plays a function that answered pending.
		id := zeebetest.UniqueID("callback")
		jobType := id + "-worker"
		zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", zeebetest.SingleTaskProcessOfType(id, "Task_Callback", jobType, nil, 3))
		zeebetest.Start(t, zb.Zeebe(), id, nil)
		zeebetest.Start(t, zb.Zeebe(), id, nil)
		actx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		jobs, err := zb.Zeebe().NewActivateJobsCommand().JobType(jobType).MaxJobsToActivate(2).Timeout(2 * time.Minute).WorkerName("callback-test").Send(actx)
		require.NoError(t, err)
		require.Len(t, jobs, 2)
		secret, err := secretsmanager.NewFromConfig(awsCfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(stack.JobTokenSecretARN)})
		require.NoError(t, err)
		ring, err := jobtoken.ParseKeyring(aws.ToString(secret.SecretString))
		require.NoError(t, err)
		token := func(i int) string {
			job := jobmsg.Job{Key: jobs[i].Key, ProcessInstanceKey: jobs[i].ProcessInstanceKey, Deadline: jobs[i].Deadline, Retries: jobs[i].Retries,
				CustomHeaders: map[string]string{"identifier": "callback"}}
			job.Token = jobtoken.Sign(ring.Current, job.Key, job.Deadline, job.Identifier())
			tok, err := completion.NewToken(job)
			require.NoError(t, err)
			return tok.String()
		}

		status, body := postCallback(t, stack.CallbackFunctionURL, `{"token":"garbage","outcome":"complete"}`)
		assert.Equal(t, http.StatusBadRequest, status, body)
		assert.Contains(t, body, "not a completion token")
		status, body = postCallback(t, stack.CallbackFunctionURL, `{"token":"`+token(0)+`","outcome":"complete","variables":{"approved":true}}`)
		require.Equal(t, http.StatusAccepted, status, body)
		// Above SNS's 256 KiB: the callback moves it to S3, the fulfiller reads it back.
		report := strings.Repeat("r", 300*1024)
		status, body = postCallback(t, stack.CallbackFunctionURL, `{"token":"`+token(1)+`","outcome":"complete","variables":{"report":"`+report+`"}}`)
		require.Equal(t, http.StatusAccepted, status, body)

		for i, check := range []func(vars map[string]json.RawMessage){
			func(vars map[string]json.RawMessage) { assert.JSONEq(t, "true", string(vars["approved"])) },
			func(vars map[string]json.RawMessage) {
				assert.Equal(t, `"`+report+`"`, string(vars["report"]), "300 KiB through S3")
			},
		} {
			wctx, wcancel := context.WithTimeout(ctx, time.Minute)
			end, err := records.WaitEnd(wctx, jobs[i].ProcessInstanceKey)
			wcancel()
			require.NoError(t, err)
			require.True(t, end.Completed)
			recs, err := records.Instance(jobs[i].ProcessInstanceKey)
			require.NoError(t, err)
			check(recordlog.Variables(recs))
		}
	})
}

// emfValues sums the metrics of log lines, each of which must be valid EMF.
func emfValues(t *testing.T, lines []string) map[string]float64 {
	t.Helper()
	sum := map[string]float64{}
	for _, l := range lines {
		values, err := emf.Parse([]byte(l))
		require.NoError(t, err, l)
		for k, v := range values {
			sum[k] += v
		}
	}
	return sum
}

// linesOf returns the log lines of a process instance that contain msg.
func linesOf(lines []string, pik int64, msg string) []string {
	var out []string
	key := fmt.Sprintf(`"processInstanceKey":%d`, pik)
	for _, l := range lines {
		if strings.Contains(l, key) && strings.Contains(l, msg) {
			out = append(out, l)
		}
	}
	return out
}

// postCallback posts body to a LocalStack function URL. Its host name,
// <id>.lambda-url.<region>.localhost.localstack.cloud, needs public DNS, so
// the request goes to LocalStack's endpoint with that host in its header.
func postCallback(t *testing.T, fnURL, body string) (int, string) {
	t.Helper()
	u, err := url.Parse(fnURL)
	require.NoError(t, err)
	ep, err := url.Parse(tfstack.Endpoint())
	require.NoError(t, err)
	host := u.Host
	u.Host = ep.Host
	u.Scheme = ep.Scheme
	req, err := http.NewRequest(http.MethodPost, u.String(), bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Host = host
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
