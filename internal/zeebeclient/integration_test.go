//go:build integration

package zeebeclient_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

// These tests run the adapter against the local engine (ZEEBE_ADDRESS, by
// default 127.0.0.1:26500; `localstack/stack up` starts it). Each deploys
// testdata/task.bpmn under a process id and job type of its own.

// newFromEnv builds the client the way the mains do, but from an explicit
// environment: the Zeebe client ignores the process environment in tests, so
// this also proves that New passes ZEEBE_INSECURE_CONNECTION on itself.
func newFromEnv(t *testing.T) *zeebeclient.Client {
	t.Helper()
	zeebetest.Client(t) // fails the test with a hint when no engine runs
	c, err := zeebeclient.New(context.Background(), envconfig.Map(map[string]string{
		"ZEEBE_ADDRESS":             zeebetest.Address(),
		"ZEEBE_INSECURE_CONNECTION": "true",
	}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// deployAndStart deploys the model under a fresh id and starts an instance;
// it returns the job type and the process instance key.
func deployAndStart(t *testing.T, c *zeebeclient.Client, vars map[string]any) (string, int64) {
	t.Helper()
	id := zeebetest.UniqueID("zeebeclient-it")
	b, err := os.ReadFile(filepath.Join("testdata", "task.bpmn"))
	require.NoError(t, err)
	zeebetest.Deploy(t, c.Zeebe(), id+".bpmn", []byte(strings.NewReplacer("PROCESS_ID", id, "JOB_TYPE", id).Replace(string(b))))
	return id, zeebetest.Start(t, c.Zeebe(), id, vars)
}

func activateOne(t *testing.T, c *zeebeclient.Client, jobType string, timeout time.Duration) jobmsg.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		jobs, err := c.ActivateJobs(ctx, jobType, "zeebeclient-it", 1, timeout, 5*time.Second)
		require.NoError(t, err)
		if len(jobs) == 1 {
			return jobs[0]
		}
	}
	t.Fatalf("no %s job became activatable within 30s", jobType)
	return jobmsg.Job{}
}

func TestActivateConvertsTheJob(t *testing.T) {
	c := newFromEnv(t)
	jobType, pik := deployAndStart(t, c, map[string]any{"tripId": "t-1", "n": 2})
	before := time.Now()
	j := activateOne(t, c, jobType, 2*time.Minute)

	assert.NotZero(t, j.Key)
	assert.Equal(t, jobType, j.Type)
	assert.Equal(t, pik, j.ProcessInstanceKey)
	assert.Equal(t, jobType, j.BPMNProcessID)
	assert.NotZero(t, j.ProcessDefinitionKey)
	assert.Equal(t, int32(1), j.ProcessDefinitionVersion)
	assert.Equal(t, "Task_A", j.ElementID)
	assert.NotZero(t, j.ElementInstanceKey)
	assert.Equal(t, map[string]string{"identifier": "fn-a", "resultVariable": "out"}, j.CustomHeaders)
	assert.Equal(t, "zeebeclient-it", j.Worker)
	assert.Equal(t, int32(2), j.Retries)
	assert.Equal(t, "<default>", j.TenantID)
	assert.WithinDuration(t, before.Add(2*time.Minute), j.DeadlineTime(), 10*time.Second)
	assert.JSONEq(t, `{"tripId":"t-1","n":2}`, string(j.Variables))

	// The converted job encodes as a contract message as it is.
	_, err := jobmsg.EncodeJob(j)
	require.NoError(t, err)

	require.NoError(t, c.CompleteJob(context.Background(), j.Key, json.RawMessage("null")), "null variables mean none")
}

// An empty long poll is not an error, and it lasts about as long as asked.
func TestEmptyLongPoll(t *testing.T) {
	c := newFromEnv(t)
	start := time.Now()
	jobs, err := c.ActivateJobs(context.Background(), zeebetest.UniqueID("nobody-creates-these"), "it", 5, time.Minute, 2*time.Second)
	require.NoError(t, err)
	assert.Empty(t, jobs)
	assert.InDelta(t, 2*time.Second, time.Since(start), float64(1500*time.Millisecond))
}

// UpdateJobTimeout really moves the deadline: with a 1s timeout the job comes
// back long before the 10-minute timeout it was activated with.
func TestUpdateJobTimeout(t *testing.T) {
	c := newFromEnv(t)
	jobType, _ := deployAndStart(t, c, nil)
	j := activateOne(t, c, jobType, 10*time.Minute)
	require.NoError(t, c.UpdateJobTimeout(context.Background(), j.Key, time.Second))
	again := activateOne(t, c, jobType, time.Minute)
	assert.Equal(t, j.Key, again.Key)
	assert.Equal(t, j.Retries, again.Retries, "a timeout does not use up a retry")
}

// Errors keep their gRPC status through the adapter's wrapping.
func TestErrorsKeepTheirGRPCStatus(t *testing.T) {
	c := newFromEnv(t)
	jobType, _ := deployAndStart(t, c, nil)
	j := activateOne(t, c, jobType, time.Minute)
	require.NoError(t, c.CompleteJob(context.Background(), j.Key, json.RawMessage(`{"x":1}`)))

	ctx := context.Background()
	for name, err := range map[string]error{
		"complete": c.CompleteJob(ctx, j.Key, nil),
		"fail":     c.FailJob(ctx, j.Key, 1, "x", 0),
		"throw":    c.ThrowError(ctx, j.Key, "E", "x", nil),
		"timeout":  c.UpdateJobTimeout(ctx, j.Key, time.Minute),
	} {
		require.Error(t, err, name)
		assert.Equal(t, codes.NotFound, status.Code(err), "%s: %v", name, err)
		assert.True(t, zeebeclient.IsNotFound(err), name)
		assert.False(t, zeebeclient.IsTransient(err), name)
	}
}

// A gateway that is not there is a transient error.
func TestUnreachableGatewayIsTransient(t *testing.T) {
	c, err := zeebeclient.New(context.Background(), envconfig.Map(map[string]string{
		"ZEEBE_ADDRESS": "127.0.0.1:1", "ZEEBE_INSECURE_CONNECTION": "true",
	}))
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err = c.CompleteJob(ctx, 1, nil)
	require.Error(t, err)
	assert.True(t, zeebeclient.IsTransient(err), "%v", err)
}

// Tenants: naming the default tenant activates its jobs as naming none does;
// the local engine, like Zeebe with multi-tenancy off, refuses any other.
func TestTenantIDsAgainstTheLocalEngine(t *testing.T) {
	tests := []struct {
		name     string
		tenants  string
		wantCode codes.Code // codes.OK: the job is activated
	}{
		{name: "default tenant named", tenants: "<default>"},
		{name: "another tenant: multi-tenancy is off", tenants: "tenant-a", wantCode: codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain := newFromEnv(t)
			jobType, _ := deployAndStart(t, plain, nil)
			c, err := zeebeclient.New(context.Background(), envconfig.Map(map[string]string{
				"ZEEBE_ADDRESS":                       zeebetest.Address(),
				"ZEEBE_INSECURE_CONNECTION":           "true",
				"ZEEBE_DEFAULT_JOB_WORKER_TENANT_IDS": tt.tenants,
			}))
			require.NoError(t, err)
			defer c.Close()
			if tt.wantCode != codes.OK {
				_, err := c.ActivateJobs(context.Background(), jobType, "it", 1, time.Minute, 5*time.Second)
				assert.Equal(t, tt.wantCode, status.Code(err), "%v", err)
				return
			}
			j := activateOne(t, c, jobType, time.Minute)
			assert.Equal(t, "<default>", j.TenantID)
			require.NoError(t, c.CompleteJob(context.Background(), j.Key, nil))
		})
	}
}
