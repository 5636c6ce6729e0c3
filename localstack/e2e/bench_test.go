//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/camunda/zeebe/clients/go/v8/pkg/worker"
	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/emf"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/bench"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

// TestBench measures the bridge against its baseline in one run: for each
// size (BENCH_SIZES, "<concurrency>x<instances>,..."; a short default here,
// `make bench` the long one) the same one-task instances are completed by a
// plain Go job worker on the same engine, then through the bridge (the
// scheduled poller, SNS, SQS, the no-op function, the fulfiller), and through
// the bridge with the long-lived job-push poller instead, and by the peer, a
// job worker that invokes the same function synchronously (the design of
// Camunda's Lambda connector). It fails if the bridge or the peer loses a
// job or runs or applies one twice; the report goes to the test log and
// BENCH_REPORT_DIR (report.md and latency.png).
//
// It is not parallel: other tests' load would be measured with it.
func TestBench(t *testing.T) {
	sizesFlag := os.Getenv("BENCH_SIZES")
	if sizesFlag == "" {
		sizesFlag = "1x10,5x30"
	}
	sizes, err := bench.ParseSizes(sizesFlag)
	require.NoError(t, err, "BENCH_SIZES")
	zb := zeebetest.Client(t)
	records := zeebetest.Records(t)
	ctx := context.Background()
	awsCfg, err := tfstack.AWSConfig(ctx)
	require.NoError(t, err)
	stack := deployed(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	pollerTimeout := jobTimeoutOfPoller(ctx, t, awsCfg, stack.PollerFunctionName)

	bridgeID, directID, pushID := zeebetest.UniqueID("bench-bridge"), zeebetest.UniqueID("bench-direct"), zeebetest.UniqueID("bench-push")
	zeebetest.Deploy(t, zb.Zeebe(), bridgeID+".bpmn", zeebetest.SingleTaskProcess(bridgeID, "Task_Noop", map[string]string{"identifier": "noop"}, 3))
	// The long-lived poller with job push, for a job type of its own so the
	// scheduled poller never sees these jobs.
	zeebetest.Deploy(t, zb.Zeebe(), pushID+".bpmn", zeebetest.SingleTaskProcessOfType(pushID, "Task_Noop", pushID, map[string]string{"identifier": "noop"}, 3))
	pushLog := startPushPoller(ctx, t, awsCfg, root, stack.PollerFunctionName, pushID)
	zeebetest.Deploy(t, zb.Zeebe(), directID+".bpmn", zeebetest.SingleTaskProcessOfType(directID, "Task_Noop", directID, nil, 3))
	// The baseline: the Go client's job worker, with job push, completing
	// each job at once.
	const directTimeout = 2 * time.Minute
	w := zb.Zeebe().NewJobWorker().JobType(directID).Handler(func(c worker.JobClient, j entities.Job) {
		_, _ = c.NewCompleteJobCommand().JobKey(j.Key).Send(ctx)
	}).MaxJobsActive(32).Concurrency(4).Timeout(directTimeout).StreamEnabled(true).Open()
	defer w.Close()
	// The peer: the design of Camunda's Lambda connector and of the
	// community zeebe-lambda-connector, a job worker that invokes the
	// function synchronously and completes the job with its answer.
	peerID := zeebetest.UniqueID("bench-peer")
	zeebetest.Deploy(t, zb.Zeebe(), peerID+".bpmn", zeebetest.SingleTaskProcessOfType(peerID, "Task_Noop", peerID, nil, 3))
	const peerTimeout = 2 * time.Minute
	peer := newPeer(lambda.NewFromConfig(awsCfg), stack.Functions["noop"].FunctionName)
	pw := zb.Zeebe().NewJobWorker().JobType(peerID).Handler(peer.handle).
		MaxJobsActive(peerMaxJobs).Concurrency(peerMaxJobs).Timeout(peerTimeout).StreamEnabled(true).Open()
	defer pw.Close()

	local := os.Getenv("BRIDGE_LOCAL_DIR")
	if local == "" {
		local = filepath.Join(root, ".local")
	}
	var pairs []bench.Pair
	for _, size := range sizes {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		direct, err := bench.Load(lctx, zb.Zeebe(), records, "direct", directID, size, directTimeout)
		require.NoError(t, err, "direct %s", size)
		before := cpuOf(t, stack, root)
		bridge, err := bench.Load(lctx, zb.Zeebe(), records, "bridge", bridgeID, size, pollerTimeout)
		cancel()
		require.NoError(t, err, "bridge %s", size)
		after := cpuOf(t, stack, root)
		bridge.CPU = map[string]time.Duration{}
		for k, v := range after {
			bridge.CPU[k] = max(v-before[k], 0)
		}
		bridge.Requests, err = bench.CountRequests(filepath.Join(local, "logs", "localstack.log"), bridge.Started.UTC(), bridge.Ended.UTC())
		require.NoError(t, err)
		lctx, cancel = context.WithTimeout(ctx, 10*time.Minute)
		push, err := bench.Load(lctx, zb.Zeebe(), records, "bridge, job push", pushID, size, pollerTimeout)
		cancel()
		require.NoError(t, err, "bridge with job push %s", size)
		lctx, cancel = context.WithTimeout(ctx, 10*time.Minute)
		peerRun, err := bench.Load(lctx, zb.Zeebe(), records, "peer (sync Invoke)", peerID, size, peerTimeout)
		cancel()
		require.NoError(t, err, "peer %s", size)
		pairs = append(pairs, bench.Pair{Size: size, Bridge: bridge, Push: push, Peer: peerRun, Direct: direct})
		t.Logf("%s: bridge %.1f jobs/s, with job push %.1f jobs/s, peer %.1f jobs/s, direct %.1f jobs/s", size, bridge.Throughput(), push.Throughput(), peerRun.Throughput(), direct.Throughput())
	}
	// The peer's own count of its invocations stands in for the function's
	// log lines, which a direct invocation does not write per job.
	invokes, peerErrs := peer.counts()
	assert.Empty(t, peerErrs, "peer: failed invocations or completions")
	runtimes := benchRuntimes(ctx, t, zb.Zeebe(), records, stack, pollerTimeout)

	// The components' own times, from their log lines (the poller's reach
	// CloudWatch Logs when its run ends).
	scheduled, pushed := 0, 0
	for _, p := range pairs {
		scheduled += len(p.Bridge.Jobs)
		pushed += len(p.Push.Jobs)
	}
	// The runtimes' runs, each with its warm-up instance, went through the
	// scheduled poller too, and Go's through noop: counted, so that the
	// waits below do not end before every measured job's line is there.
	viaPoller := scheduled
	for _, r := range runtimes {
		viaPoller += len(r.Run.Jobs) + 1
	}
	published := logTimes(ctx, t, awsCfg, "/aws/lambda/"+stack.PollerFunctionName, "job published", viaPoller, 90*time.Second)
	for k, ts := range logLines(t, pushLog, "job published") {
		published[k] = ts
	}
	outcomes := logTimes(ctx, t, awsCfg, stack.Functions["noop"].LogGroupName, "outcome published", scheduled+pushed+len(runtimes[0].Run.Jobs)+1, 30*time.Second)
	for i := range runtimes {
		runtimes[i].Times = functionTimes(ctx, t, awsCfg, stack.Functions[benchRuntimeFunctions[i].function].LogGroupName, runtimes[i].Run.Jobs, i > 0, 60*time.Second)
	}
	for i := range pairs {
		for _, run := range []*bench.Run{&pairs[i].Bridge, &pairs[i].Push} {
			for k := range run.Jobs {
				j := &run.Jobs[k]
				if ts := published[j.Key]; len(ts) > 0 {
					j.Published = ts[0]
				}
				j.Runs = len(outcomes[j.Key])
				if j.Runs > 0 {
					j.Outcome = outcomes[j.Key][0]
				}
			}
		}
	}

	// The metric fields (EMF) on the components' log lines count what the
	// scheduled-poller runs did: one publish, one outcome and one completion
	// per job, and each of those lines is valid EMF.
	keys := map[int64]bool{}
	for _, p := range pairs {
		for _, j := range p.Bridge.Jobs {
			keys[j.Key] = true
		}
	}
	assert.Equal(t, float64(len(keys)), emfOfJobs(ctx, t, awsCfg, "/aws/lambda/"+stack.PollerFunctionName, keys)["JobsPublished"], "poller: JobsPublished")
	fn := emfOfJobs(ctx, t, awsCfg, stack.Functions["noop"].LogGroupName, keys)
	assert.Equal(t, float64(len(keys)), fn["OutcomesPublished"], "noop: OutcomesPublished")
	assert.Equal(t, float64(len(keys)), fn["OutcomesComplete"], "noop: OutcomesComplete")
	ff := emfOfJobs(ctx, t, awsCfg, "/aws/lambda/"+stack.FulfillerFunctionName, keys)
	assert.Equal(t, float64(len(keys)), ff["JobsCompleted"], "fulfiller: JobsCompleted")
	assert.Positive(t, ff["OutcomeToAppliedMs"], "fulfiller: OutcomeToAppliedMs")

	report := bench.Markdown(pairs, bench.Machine()) + bench.RuntimesMarkdown(runtimes)
	t.Log("\n" + report)
	dir := os.Getenv("BENCH_REPORT_DIR")
	if dir == "" {
		dir = filepath.Join(local, "bench")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "report.md"), []byte(report), 0o644))
	var runtimeRuns []bench.Run
	for _, r := range runtimes {
		runtimeRuns = append(runtimeRuns, r.Run)
	}
	require.NoError(t, bench.Chart(filepath.Join(dir, "latency.png"), pairs, runtimeRuns...))
	t.Logf("report: %s, chart: %s", filepath.Join(dir, "report.md"), filepath.Join(dir, "latency.png"))

	for _, p := range pairs {
		for _, j := range p.Peer.Jobs {
			assert.Equal(t, 1, invokes[j.Key], "peer: job %d invoked the function %d times", j.Key, invokes[j.Key])
		}
		for _, r := range []bench.Run{p.Bridge, p.Push, p.Peer, p.Direct} {
			assert.Empty(t, r.Incomplete, "%s %s: instances that did not complete", r.Name, p.Size)
			assert.Len(t, r.Jobs, p.Size.Instances, "%s %s", r.Name, p.Size)
			for _, j := range r.Jobs {
				assert.Equal(t, 1, j.Completions, "%s: job %d completed %d times", r.Name, j.Key, j.Completions)
			}
		}
		for _, r := range []bench.Run{p.Bridge, p.Push} {
			for _, j := range r.Jobs {
				assert.Equal(t, 1, j.Runs, "%s: job %d ran %d times", r.Name, j.Key, j.Runs)
				assert.False(t, j.Published.IsZero(), "%s: no \"job published\" line for job %d", r.Name, j.Key)
			}
		}
	}
	for i, r := range runtimes {
		assert.Empty(t, r.Run.Incomplete, "%s: instances that did not complete", r.Run.Name)
		assert.Len(t, r.Run.Jobs, r.Run.Size.Instances, r.Run.Name)
		for _, j := range r.Run.Jobs {
			assert.Equal(t, 1, j.Completions, "%s: job %d completed %d times", r.Run.Name, j.Key, j.Completions)
			assert.Equal(t, 1, r.Times[j.Key].Outcomes, "%s: job %d ran %d times", r.Run.Name, j.Key, r.Times[j.Key].Outcomes)
			wantAnswers := map[bool]int{true: 1, false: 0}[i > 0] // Go's noop has no layer
			assert.Equal(t, wantAnswers, r.Times[j.Key].Answers, "%s: job %d: \"runtime answered\" lines", r.Run.Name, j.Key)
		}
	}
}

// benchRuntimeFunctions are the no-op in each runtime, Go (the baseline)
// first.
var benchRuntimeFunctions = []struct{ runtime, function string }{
	{"Go (lambdakit)", "noop"}, {"Python", "noop-py"}, {"Node.js", "noop-node"},
}

// benchRuntimes runs the bridge with the no-op in each runtime at one size
// (BENCH_RUNTIME_SIZE; small by default, `make bench` sets a larger one),
// each after one warm-up instance so a cold start is not measured.
func benchRuntimes(ctx context.Context, t *testing.T, zb zbc.Client, records *recordlog.Log, stack *tfstack.Stack, pollerTimeout time.Duration) []bench.RuntimeRun {
	t.Helper()
	sizeFlag := os.Getenv("BENCH_RUNTIME_SIZE")
	if sizeFlag == "" {
		sizeFlag = "2x10"
	}
	sizes, err := bench.ParseSizes(sizeFlag)
	require.NoError(t, err, "BENCH_RUNTIME_SIZE")
	require.Len(t, sizes, 1, "BENCH_RUNTIME_SIZE: one size")
	var out []bench.RuntimeRun
	for _, rf := range benchRuntimeFunctions {
		_, ok := stack.Functions[rf.function]
		require.True(t, ok, "%s is not deployed: make bench deploys noop, noop-py and noop-node (E2E_FUNCTIONS)", rf.function)
		id := zeebetest.UniqueID("bench-" + rf.function)
		zeebetest.Deploy(t, zb, id+".bpmn", zeebetest.SingleTaskProcess(id, "Task_Noop", map[string]string{"identifier": rf.function}, 3))
		lctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		_, err := bench.Load(lctx, zb, records, "warm-up", id, bench.Size{Concurrency: 1, Instances: 1}, pollerTimeout)
		require.NoError(t, err, "%s: warm-up", rf.function)
		run, err := bench.Load(lctx, zb, records, "bridge, "+rf.function, id, sizes[0], pollerTimeout)
		cancel()
		require.NoError(t, err, "%s %s", rf.function, sizes[0])
		t.Logf("%s: bridge with %s %.1f jobs/s", sizes[0], rf.function, run.Throughput())
		out = append(out, bench.RuntimeRun{Runtime: rf.runtime, Run: run})
	}
	return out
}

// functionTimes reads a function's times per job from its log group,
// waiting up to wait until every job has its outcome line (and, for a
// script function, its "runtime answered" line).
func functionTimes(ctx context.Context, t *testing.T, cfg aws.Config, group string, jobs []bench.Job, script bool, wait time.Duration) map[int64]bench.FunctionTimes {
	t.Helper()
	for deadline := time.Now().Add(wait); ; time.Sleep(2 * time.Second) {
		lines, err := logs(ctx, cfg, group)
		require.NoError(t, err)
		times := bench.ParseFunctionLines(lines)
		all := true
		for _, j := range jobs {
			ft := times[j.Key]
			all = all && ft.Outcomes > 0 && (!script || ft.Answers > 0)
		}
		if all || time.Now().After(deadline) {
			return times
		}
	}
}

// logTimes reads the "time" of the log lines with this message per job key,
// waiting up to wait for at least want keys.
func logTimes(ctx context.Context, t *testing.T, cfg aws.Config, group, msg string, want int, wait time.Duration) map[int64][]time.Time {
	t.Helper()
	var out map[int64][]time.Time
	for deadline := time.Now().Add(wait); ; time.Sleep(2 * time.Second) {
		lines, err := logs(ctx, cfg, group)
		require.NoError(t, err)
		out = timesByJob(lines, msg)
		if len(out) >= want || time.Now().After(deadline) {
			return out
		}
	}
}

// timesByJob returns the "time" of the JSON log lines whose msg is msg, per
// job key.
func timesByJob(lines []string, msg string) map[int64][]time.Time {
	out := map[int64][]time.Time{}
	for _, l := range lines {
		var e struct {
			Time   time.Time `json:"time"`
			Msg    string    `json:"msg"`
			JobKey int64     `json:"jobKey"`
		}
		if json.Unmarshal([]byte(l), &e) == nil && e.Msg == msg {
			out[e.JobKey] = append(out[e.JobKey], e.Time)
		}
	}
	return out
}

// cpuOf sums the CPU time of the processes behind each component now.
func cpuOf(t *testing.T, stack *tfstack.Stack, root string) map[string]time.Duration {
	t.Helper()
	out := map[string]time.Duration{}
	add := func(name string, pids ...int) {
		for _, pid := range pids {
			if d, err := bench.CPUTime(pid); err == nil {
				out[name] += d
			}
		}
	}
	add("poller", lambdaProcesses(t, stack.PollerFunctionName)...)
	add("function", lambdaProcesses(t, "noop")...)
	add("fulfiller", lambdaProcesses(t, stack.FulfillerFunctionName)...)
	add("engine", enginePID(t, root))
	local := os.Getenv("BRIDGE_LOCAL_DIR")
	if local == "" {
		local = filepath.Join(root, ".local")
	}
	if b, err := os.ReadFile(filepath.Join(local, "run", "localstack.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			add("localstack", pid)
		}
	}
	return out
}

// emfOfJobs sums the EMF metrics of the log lines of a group that belong to
// the given jobs, failing on a line that is not valid EMF.
func emfOfJobs(ctx context.Context, t *testing.T, cfg aws.Config, group string, keys map[int64]bool) map[string]float64 {
	t.Helper()
	lines, err := logs(ctx, cfg, group)
	require.NoError(t, err)
	sum := map[string]float64{}
	for _, l := range lines {
		var e struct {
			JobKey int64 `json:"jobKey"`
		}
		if json.Unmarshal([]byte(l), &e) != nil || !keys[e.JobKey] {
			continue
		}
		values, err := emf.Parse([]byte(l))
		if errors.Is(err, emf.ErrNotEMF) {
			continue
		}
		require.NoError(t, err, "%s: %s", group, l)
		for k, v := range values {
			sum[k] += v
		}
	}
	return sum
}

// peerMaxJobs is the peer's jobs in flight and handler goroutines: the Go
// client's default of 32 active jobs, each handled at once, since a handler
// blocks for its whole Invoke.
const peerMaxJobs = 32

// peer is the synchronous Lambda-invoking job worker the bridge is measured
// against, written here from the connectors' documented behaviour: invoke
// the function (RequestResponse) with the job's variables as the payload
// and complete the job with its answer as variables.
type peer struct {
	lc       *lambda.Client
	function string

	mu      sync.Mutex
	invokes map[int64]int
	errs    []error
}

func newPeer(lc *lambda.Client, function string) *peer {
	return &peer{lc: lc, function: function, invokes: map[int64]int{}}
}

func (p *peer) handle(c worker.JobClient, j entities.Job) {
	ctx := context.Background()
	p.mu.Lock()
	p.invokes[j.Key]++
	p.mu.Unlock()
	err := p.run(ctx, c, j)
	if err != nil {
		p.mu.Lock()
		p.errs = append(p.errs, err)
		p.mu.Unlock()
		// As the connectors do: fail the job with one retry fewer.
		_, _ = c.NewFailJobCommand().JobKey(j.Key).Retries(j.Retries - 1).ErrorMessage(err.Error()).Send(ctx)
	}
}

func (p *peer) run(ctx context.Context, c worker.JobClient, j entities.Job) error {
	out, err := p.lc.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(p.function),
		InvocationType: lambdatypes.InvocationTypeRequestResponse,
		Payload:        []byte(j.Variables),
	})
	if err != nil {
		return fmt.Errorf("job %d: invoke %s: %w", j.Key, p.function, err)
	}
	if out.FunctionError != nil {
		return fmt.Errorf("job %d: %s answered %s: %s", j.Key, p.function, aws.ToString(out.FunctionError), out.Payload)
	}
	cmd, err := c.NewCompleteJobCommand().JobKey(j.Key).VariablesFromString(answerVariables(out.Payload))
	if err != nil {
		return fmt.Errorf("job %d: answer as variables: %w", j.Key, err)
	}
	if _, err := cmd.Send(ctx); err != nil {
		return fmt.Errorf("job %d: complete: %w", j.Key, err)
	}
	return nil
}

// counts are the invocations per job key and the errors so far.
func (p *peer) counts() (map[int64]int, []error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.invokes), slices.Clone(p.errs)
}

// answerVariables is the function's answer as job variables: an object as
// it is, anything else (null, a scalar) as no variables.
func answerVariables(payload []byte) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(payload, &obj) != nil || obj == nil {
		return "{}"
	}
	return string(payload)
}
