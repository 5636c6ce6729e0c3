//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

// engineKilledMidFlight kills the engine with SIGKILL while 20 jobs are in
// flight through LocalStack and restarts it within seconds: every instance
// completes, and every function ran exactly once (the fulfiller brings the
// outcomes that met the dead engine back within seconds of its return, well
// before the jobs time out).
func engineKilledMidFlight(ctx context.Context, t *testing.T, awsCfg aws.Config, stack *tfstack.Stack, zb *zeebeclient.Client, records *recordlog.Log) {
	id := zeebetest.UniqueID("restart")
	zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", zeebetest.SingleTaskProcess(id, "Task_Echo", map[string]string{"identifier": "echo"}, 3))
	const n = 20
	piks := make([]int64, n)
	for i := range piks {
		piks[i] = zeebetest.Start(t, zb.Zeebe(), id, map[string]any{"doc": "restart-" + strconv.Itoa(i)})
	}

	// Kill the engine as soon as the first job completes: the rest are
	// published, running or waiting in the outcomes queue.
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	first := make(chan struct{})
	var once sync.Once
	for _, pik := range piks {
		go func() {
			if _, err := records.WaitFor(wctx, pik, func(r recordlog.Record) bool { return r.Is("JOB", "COMPLETED") }); err == nil {
				once.Do(func() { close(first) })
			}
		}()
	}
	select {
	case <-first:
	case <-wctx.Done():
		t.Fatal("no job completed before the engine was to be killed")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	killEngine(t, root)
	killed := time.Now()
	time.Sleep(5 * time.Second) // outcomes meet a dead engine meanwhile
	up := exec.Command(filepath.Join(root, "localstack", "stack"), "up")
	up.Dir, up.Stdout, up.Stderr = root, os.Stderr, os.Stderr
	require.NoError(t, up.Run(), "restart the engine")
	t.Logf("engine down for %s", time.Since(killed).Round(100*time.Millisecond))
	// The outage must end within the outcomes' retry budget (ten receives
	// with the fulfiller's backoff, about a minute); restarting takes a few
	// seconds, more on a loaded machine.
	assert.Less(t, time.Since(killed), 40*time.Second)

	for _, pik := range piks {
		end, err := records.WaitEnd(wctx, pik)
		require.NoError(t, err, "instance %d did not end after the restart", pik)
		assert.True(t, end.Completed, "instance %d", pik)
		assert.Nil(t, end.Incident)
	}

	// Each function ran exactly once per instance: one published outcome each.
	var runs map[int64]int
	deadline := time.Now().Add(30 * time.Second)
	for {
		lines, err := logs(ctx, awsCfg, stack.Functions["echo"].LogGroupName)
		require.NoError(t, err)
		runs = map[int64]int{}
		for _, l := range lines {
			var e struct {
				Msg                string `json:"msg"`
				ProcessInstanceKey int64  `json:"processInstanceKey"`
			}
			if json.Unmarshal([]byte(l), &e) == nil && e.Msg == "outcome published" {
				runs[e.ProcessInstanceKey]++
			}
		}
		complete := true
		for _, pik := range piks {
			complete = complete && runs[pik] >= 1
		}
		if complete || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	for _, pik := range piks {
		assert.Equal(t, 1, runs[pik], "instance %d: the function ran %d times", pik, runs[pik])
	}

	// The test proves what it claims only if outcomes did meet the dead
	// engine and came back after the fulfiller's short backoff.
	lines, err := logs(ctx, awsCfg, "/aws/lambda/"+stack.FulfillerFunctionName)
	require.NoError(t, err)
	ours := map[int64]bool{}
	for _, pik := range piks {
		ours[pik] = true
	}
	var backedOff int
	for _, l := range lines {
		var e struct {
			Msg                string `json:"msg"`
			ProcessInstanceKey int64  `json:"processInstanceKey"`
		}
		if json.Unmarshal([]byte(l), &e) == nil && e.Msg == "the outcome comes back after a backoff" && ours[e.ProcessInstanceKey] {
			backedOff++
		}
	}
	assert.Positive(t, backedOff, "no outcome met the dead engine: the kill came too late to test anything")
	t.Logf("%d outcomes met the dead engine and came back after a backoff", backedOff)
}

// enginePID is the process id of the engine that localstack/stack started.
func enginePID(t *testing.T, root string) int {
	t.Helper()
	local := os.Getenv("BRIDGE_LOCAL_DIR")
	if local == "" {
		local = filepath.Join(root, ".local")
	}
	b, err := os.ReadFile(filepath.Join(local, "run", "zeebe.pid"))
	require.NoError(t, err, "the engine's pid file: was the stack started by localstack/stack?")
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	return pid
}

// killEngine sends SIGKILL to the engine that localstack/stack started.
func killEngine(t *testing.T, root string) {
	t.Helper()
	pid := enginePID(t, root)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	for i := 0; i < 50 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(100 * time.Millisecond)
	}
}
