//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/require"
)

// startPushPoller runs poller/cmd/poller, the long-lived poller that takes
// jobs by job push, as a process on this host for jobType, configured as the
// deployed poller Lambda is (its environment, read from LocalStack) and
// publishing to the same topic. It stops at the end of the test; its JSON
// log lines go to the returned file.
func startPushPoller(ctx context.Context, t *testing.T, cfg aws.Config, root, pollerFunction, jobType string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "poller")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./poller/cmd/poller")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./poller/cmd/poller: %s", out)

	fn, err := lambda.NewFromConfig(cfg).GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(pollerFunction)})
	require.NoError(t, err)
	env := os.Environ()
	for k, v := range fn.Environment.Variables {
		env = append(env, k+"="+v)
	}
	env = append(env, "JOB_TYPE="+jobType, "WORKER_NAME=bench-push-poller", "SAFETY_MARGIN=5s")

	logPath := filepath.Join(dir, "push-poller.log")
	f, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, f, f
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		_ = f.Close()
	})
	// Ready when it says so: the stream is open from then on.
	require.Eventually(t, func() bool { return len(logLines(t, logPath, "poller started")) > 0 }, 30*time.Second, 50*time.Millisecond,
		"the push poller did not start; its log: %s", logPath)
	return logPath
}

// logLines returns the "time" and "jobKey" of the JSON lines in a log file
// whose msg is msg, per job key.
func logLines(t *testing.T, path, msg string) map[int64][]time.Time {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[int64][]time.Time{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e struct {
			Time   time.Time `json:"time"`
			Msg    string    `json:"msg"`
			JobKey int64     `json:"jobKey"`
		}
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Msg == msg {
			out[e.JobKey] = append(out[e.JobKey], e.Time)
		}
	}
	require.NoError(t, sc.Err())
	return out
}
