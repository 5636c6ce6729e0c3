//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/require"
)

// startPushPoller runs cmd/zeebe-poller-daemon, the long-lived poller that takes
// jobs by job push, as a process on this host for jobType, configured as the
// deployed poller Lambda is (its environment, read from LocalStack) and
// publishing to the same topic. It stops at the end of the test; its JSON
// log lines go to the returned file.
func startPushPoller(ctx context.Context, t *testing.T, cfg aws.Config, root, pollerFunction, jobType string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "poller")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/zeebe-poller-daemon")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/zeebe-poller-daemon: %s", out)

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

// logLines returns the "time" of the JSON lines in a log file whose msg is
// msg, per job key.
func logLines(t *testing.T, path, msg string) map[int64][]time.Time {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return timesByJob(strings.Split(string(b), "\n"), msg)
}
