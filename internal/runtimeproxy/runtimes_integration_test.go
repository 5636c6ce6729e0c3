//go:build integration

package runtimeproxy

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// The real runtimes, as localstack/stack installs them for the executor
// plugin (make test starts the stack first).
func runtimeCommand(t *testing.T, runtime, dir, handler string) ([]string, []string) {
	t.Helper()
	local := os.Getenv("BRIDGE_LOCAL_DIR")
	if local == "" {
		local = filepath.Join("..", "..", ".local")
	}
	env := append(os.Environ(), "AWS_LAMBDA_FUNCTION_NAME=test", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/test", "AWS_LAMBDA_LOG_STREAM_NAME=test", "_HANDLER="+handler, "LAMBDA_TASK_ROOT="+dir)
	switch {
	case strings.HasPrefix(runtime, "python"):
		py := filepath.Join(local, "runtimes", "python", "bin", "python")
		require.FileExists(t, py, "the local Python runtime is missing: run `make up` (localstack/stack installs it)")
		return []string{py, "-m", "awslambdaric", handler}, append(env, "PYTHONPATH="+dir)
	case strings.HasPrefix(runtime, "java"):
		lib := filepath.Join(local, "runtimes", "java", "lib")
		require.DirExists(t, lib, "the local Java runtime is missing: run `make up` (localstack/stack installs it)")
		return []string{"java", "-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1", "-cp", dir + string(os.PathListSeparator) + filepath.Join(lib, "*"),
			"com.amazonaws.services.lambda.runtime.api.client.AWSLambda", handler}, env
	default:
		ric := filepath.Join(local, "runtimes", "node", "node_modules", "aws-lambda-ric", "index.mjs")
		require.FileExists(t, ric, "the local Node.js runtime is missing: run `make up` (localstack/stack installs it)")
		return []string{"node", ric, handler}, env
	}
}

// runJob runs one job through lambdakit, the proxy and a real runtime, as
// the layer does in Lambda, and returns the outcome published.
func runJob(t *testing.T, runtime, dir, handler, vars string, timeout time.Duration) jobmsg.Outcome {
	t.Helper()
	outcomes := runJobOutcomes(t, runtime, dir, handler, vars, timeout)
	require.Len(t, outcomes, 1, "one outcome per job")
	return outcomes[0]
}

func runJobOutcomes(t *testing.T, runtime, dir, handler, vars string, timeout time.Duration) []jobmsg.Outcome {
	t.Helper()
	cmd, env := runtimeCommand(t, runtime, dir, handler)
	// The runtime's own working directory is the function's, as in Lambda.
	p, err := New(Config{Command: cmd, Env: env, Dir: dir})
	require.NoError(t, err)
	t.Cleanup(p.Close)
	pub := &recordingPublisher{}
	h, err := lambdakit.New(Handler(p, joblog.Discard()), lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn:aws:sns:us-east-1:000000000000:zeebe_jobs2complete",
		DeadlineMargin: time.Second})
	require.NoError(t, err)
	ev, err := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{jobRecord(t, vars, nil)}})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "r-1", InvokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:test"})
	resp, err := h.Invoke(ctx, ev)
	require.NoError(t, err)
	assert.JSONEq(t, `{"batchItemFailures":[]}`, string(resp))
	var out []jobmsg.Outcome
	for _, m := range pub.msgs {
		o, err := jobmsg.DecodeOutcome(m.Body)
		require.NoError(t, err)
		out = append(out, o)
	}
	return out
}

// TestTheExampleFunctionsThroughTheLayer runs the trip booking's Python and
// Node.js functions, unmodified, as the layer runs them.
func TestTheExampleFunctionsThroughTheLayer(t *testing.T) {
	for _, tc := range []struct {
		name, runtime, fn, handler, vars string
		want                             jobmsg.Outcome
	}{
		{"python completes", "python3.12", "book-car", "app.handler", `{"tripId":"t1"}`,
			jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"carBookingId":"CAR-t1"}`)}},
		{"python exception fails with one retry less", "python3.12", "book-car", "app.handler", `{}`,
			jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, RetryBackoffMs: 5000, ErrorMessage: "ValueError: the process variable tripId is missing"}},
		{"node completes", "nodejs20.x", "book-flight", "index.handler", `{"tripId":"t1"}`,
			jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"flightBookingId":"FLIGHT-t1"}`)}},
		{"node BpmnError throws the BPMN error", "nodejs20.x", "book-flight", "index.handler", `{"tripId":"t1","failFlight":true,"destination":"Lisbon"}`,
			jobmsg.Outcome{Outcome: jobmsg.Error, ErrorCode: "FLIGHT_UNAVAILABLE", ErrorMessage: "no seats left on the flight to Lisbon",
				Variables: json.RawMessage(`{"flightFailureReason":"no seats"}`)}},
		{"node error fails with one retry less", "nodejs20.x", "book-flight", "index.handler", `{}`,
			jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, RetryBackoffMs: 5000, ErrorMessage: "Error: the process variable tripId is missing"}},
		{"python no-op completes with no variables", "python3.12", "noop-py", "app.handler", `{"x":1}`,
			jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{}`)}},
		{"node no-op completes with no variables", "nodejs20.x", "noop-node", "index.handler", `{"x":1}`,
			jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{}`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, err := filepath.Abs(filepath.Join("..", "..", "functions", tc.fn))
			require.NoError(t, err)
			got := runJob(t, tc.runtime, dir, tc.handler, tc.vars, 30*time.Second)
			assertOutcome(t, tc.want, got)
		})
	}
}

func assertOutcome(t *testing.T, want, got jobmsg.Outcome) {
	t.Helper()
	want.V, want.JobKey, want.ProcessInstanceKey = 1, 2251799813685249, 2251799813685250
	if want.Variables != nil {
		assert.JSONEq(t, string(want.Variables), string(got.Variables))
		got.Variables, want.Variables = nil, nil
	}
	assert.Equal(t, want, got)
}

// TestRuntimeEdges covers what the examples do not: exact big integers in
// Python, a handler still running at the deadline margin, and a handler
// that hands the job to its completion token.
func TestRuntimeEdges(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "edges.py"), []byte(`
import time
class ResultPending(Exception):
    pass
def echo(event, context):
    return event
def slow(event, context):
    time.sleep(60)
def pending(event, context):
    token = context.client_context.custom["completionToken"]
    assert token
    raise ResultPending()
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "edges.mjs"), []byte(`
export const slow = () => new Promise((resolve) => setTimeout(resolve, 60000));
`), 0o644))
	for _, tc := range []struct {
		name, runtime, handler, vars string
		timeout                      time.Duration
		want                         jobmsg.Outcome
		message                      string
	}{
		{name: "python keeps integers beyond 2^53 exact", runtime: "python3.12", handler: "edges.echo",
			vars: `{"id":9007199254740993,"neg":-9007199254740993}`, timeout: 30 * time.Second,
			want: jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"id":9007199254740993,"neg":-9007199254740993}`)}},
		{name: "python still running at the margin fails with one retry less", runtime: "python3.12", handler: "edges.slow",
			vars: `{}`, timeout: 4 * time.Second, message: "handler timed out: still running 1s before the Lambda deadline",
			want: jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, RetryBackoffMs: 5000}},
		{name: "node still running at the margin fails with one retry less", runtime: "nodejs20.x", handler: "edges.slow",
			vars: `{}`, timeout: 4 * time.Second, message: "handler timed out: still running 1s before the Lambda deadline",
			want: jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, RetryBackoffMs: 5000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runJob(t, tc.runtime, dir, tc.handler, tc.vars, tc.timeout)
			if tc.message != "" {
				assert.Contains(t, got.ErrorMessage, tc.message)
				got.ErrorMessage = ""
			}
			assertOutcome(t, tc.want, got)
		})
	}
	t.Run("python ResultPending leaves the job to its completion token", func(t *testing.T) {
		assert.Empty(t, runJobOutcomes(t, "python3.12", dir, "edges.pending", `{}`, 30*time.Second), "nothing is published: the token's holder answers")
	})
}

// TestJavaThroughTheLayer: a Java handler (compiled here with javac) as the
// layer runs it with the Java runtime interface client.
func TestJavaThroughTheLayer(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src", "example", "Handler.java")
	require.NoError(t, os.MkdirAll(filepath.Dir(src), 0o755))
	require.NoError(t, os.WriteFile(src, []byte(`package example;

import java.util.HashMap;
import java.util.Map;

public class Handler {
    public static class BpmnError extends RuntimeException {
        public BpmnError(String message) { super(message); }
    }

    public Map<String, Object> handle(Map<String, Object> event) throws InterruptedException {
        String mode = String.valueOf(event.get("mode"));
        if (mode.equals("bpmn")) throw new BpmnError("NO_SEATS: flight full");
        if (mode.equals("fail")) throw new IllegalStateException("boom");
        if (mode.equals("slow")) Thread.sleep(60_000);
        Map<String, Object> out = new HashMap<>();
        out.put("echo", event.get("n"));
        return out;
    }
}
`), 0o644))
	javac, err := exec.LookPath("javac")
	require.NoError(t, err, "javac (a JDK 17 or newer) is needed to compile the test's Java handler")
	out, err := exec.Command(javac, "-d", dir, src).CombinedOutput()
	require.NoError(t, err, string(out))

	for _, tc := range []struct {
		name, vars string
		timeout    time.Duration
		want       jobmsg.Outcome
		message    string
	}{
		{name: "completes, integers beyond 2^53 exact", vars: `{"mode":"echo","n":9007199254740993}`, timeout: 30 * time.Second,
			want: jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"echo":9007199254740993}`)}},
		{name: "a nested BpmnError class throws the BPMN error", vars: `{"mode":"bpmn"}`, timeout: 30 * time.Second,
			want: jobmsg.Outcome{Outcome: jobmsg.Error, ErrorCode: "NO_SEATS", ErrorMessage: "flight full", Variables: json.RawMessage(`{}`)}},
		{name: "an exception fails with one retry less", vars: `{"mode":"fail"}`, timeout: 30 * time.Second,
			want: jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, RetryBackoffMs: 5000, ErrorMessage: "java.lang.IllegalStateException: boom"}},
		{name: "still running at the margin fails with one retry less", vars: `{"mode":"slow"}`, timeout: 6 * time.Second,
			message: "handler timed out: still running 1s before the Lambda deadline",
			want:    jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, RetryBackoffMs: 5000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runJob(t, "java17", dir, "example.Handler::handle", tc.vars, tc.timeout)
			if tc.message != "" {
				assert.Contains(t, got.ErrorMessage, tc.message)
				got.ErrorMessage = ""
			}
			assertOutcome(t, tc.want, got)
		})
	}
}
