//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/chaos"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

// TestSoak is the echo-loop soak test: SOAK_INSTANCES chains (default 10)
// each run the loop function SOAK_TURNS times (default 20), one turn starting
// the next, while faults are injected: handler errors and panics and lost
// outcomes (SNS publish failures) on fixed turns, the function throttled to a
// reserved concurrency of 1 and for a moment to 0, the fulfiller killed with
// SIGKILL in the middle of a batch, and the engine killed with SIGKILL and
// restarted. Every chain must end after exactly its turns, no job may be
// lost. `make soak` runs a long version.
//
// It is not parallel: it kills the engine that the other tests use.
func TestSoak(t *testing.T) {
	n := envInt(t, "SOAK_INSTANCES", 10)
	turns := envInt(t, "SOAK_TURNS", 20)
	zb := zeebetest.Client(t)
	records := zeebetest.Records(t)
	ctx := context.Background()
	awsCfg, err := tfstack.AWSConfig(ctx)
	require.NoError(t, err)
	stack := deployed(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)

	lc := lambda.NewFromConfig(awsCfg)
	setConcurrency := func(c int32) {
		_, err := lc.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("loop"), ReservedConcurrentExecutions: aws.Int32(c)})
		require.NoError(t, err)
	}
	setConcurrency(1)
	t.Cleanup(func() {
		_, err := lc.DeleteFunctionConcurrency(context.Background(), &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String("loop")})
		assert.NoError(t, err)
	})

	zeebetest.DeployFile(t, zb.Zeebe(), filepath.Join("..", "..", "bpmn", "echo-loop.bpmn"))
	faults := chaos.LoopFaults{ErrorEvery: 7, PanicEvery: 11, LoseEvery: 9, FirstRetries: 3}
	started := time.Now()
	piks := make([]int64, n)
	for i := range piks {
		piks[i] = zeebetest.Start(t, zb.Zeebe(), "echo-loop", map[string]any{"i": 0, "n": turns, "faults": faults})
	}
	total := n * turns
	t.Logf("soak: %d chains x %d turns = %d jobs, faults %+v, the loop function at reserved concurrency 1", n, turns, total, faults)

	// The faults that hit the whole stack, each once, as the turns go by.
	progress := func() int {
		done := 0
		for _, pik := range piks {
			recs, err := records.Instance(pik)
			require.NoError(t, err)
			for _, r := range recordlog.Jobs(recs) {
				if r.Intent == "COMPLETED" {
					done++
				}
			}
		}
		return done
	}
	// A step of the soak may take a while at LocalStack's pace (5 to 6 jobs a
	// second here), more where a fault stalls chains for a visibility timeout.
	stepLimit := max(10*time.Minute, time.Duration(total)*150*time.Millisecond)
	waitProgress := func(frac float64) {
		t.Helper()
		for deadline := time.Now().Add(stepLimit); progress() < int(frac*float64(total)); time.Sleep(time.Second) {
			require.True(t, time.Now().Before(deadline), "the soak made no progress to %.0f%% in %s", frac*100, stepLimit)
		}
	}
	var injected []string
	note := func(format string, args ...any) {
		msg := fmt.Sprintf("%6.1fs %s", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
		injected = append(injected, msg)
		t.Log("fault: " + msg)
	}

	waitProgress(0.15)
	setConcurrency(0)
	time.Sleep(4 * time.Second) // deliveries meanwhile are throttled: SQS counts them as the one receive
	setConcurrency(1)
	note("the loop function throttled to concurrency 0 for 4 s, then back to 1")

	waitProgress(0.35)
	inflight := killFulfillerMidBatch(ctx, t, awsCfg, stack, root)
	note("the fulfiller killed with SIGKILL while %d outcomes were in its batch (the engine stopped meanwhile, so it could not finish)", inflight)

	waitProgress(0.6)
	killEngine(t, root)
	killed := time.Now()
	time.Sleep(3 * time.Second)
	up := exec.Command(filepath.Join(root, "localstack", "stack"), "up")
	up.Dir, up.Stdout, up.Stderr = root, os.Stderr, os.Stderr
	require.NoError(t, up.Run(), "restart the engine")
	note("the engine killed with SIGKILL and restarted, down %s", time.Since(killed).Round(100*time.Millisecond))

	// Every chain to its end.
	wctx, cancel := context.WithTimeout(ctx, time.Duration(turns)*20*time.Second+5*time.Minute)
	defer cancel()
	ends := make([]recordlog.Ending, n)
	for i, pik := range piks {
		ends[i], err = records.WaitEnd(wctx, pik)
		if err != nil {
			t.Errorf("chain %d (instance %d) did not end: %v", i, pik, err)
		}
	}
	took := time.Since(started)

	r := soakReport{chains: n, turns: turns, took: took, injected: injected, faults: map[string]int{}}
	for i, pik := range piks {
		recs, err := records.Instance(pik)
		require.NoError(t, err)
		created, completed := map[int64]bool{}, 0
		for _, rec := range recordlog.Jobs(recs) {
			switch rec.Intent {
			case "CREATED":
				created[rec.Key] = true
			case "COMPLETED":
				completed++
				delete(created, rec.Key)
			}
		}
		for _, rec := range recs {
			if rec.Is("INCIDENT", "CREATED") {
				r.incidents++
			}
		}
		var last int
		_ = json.Unmarshal(recordlog.Variables(recs)["i"], &last)
		switch {
		case completed > turns || last > turns:
			r.multiplied++
			t.Errorf("chain %d (instance %d): %d turns completed, i = %d, want %d", i, pik, completed, last, turns)
		case !ends[i].Completed || completed != turns || last != turns:
			r.broken++
			t.Errorf("chain %d (instance %d): ended %v after %d of %d turns (i = %d, incident %v)", i, pik, ends[i].Completed, completed, turns, last, ends[i].Incident != nil)
		}
		r.lost += len(created)
	}

	// Runs, from the function's own log lines: a run that no injected fault
	// explains, beyond the first of its turn, is a duplicate.
	byPik := map[int64]bool{}
	for _, pik := range piks {
		byPik[pik] = true
	}
	var runs map[string][]string // "pik/turn" -> faults of its runs
	clean := 0
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(2 * time.Second) {
		lines, err := logs(ctx, awsCfg, stack.Functions["loop"].LogGroupName)
		require.NoError(t, err)
		runs = map[string][]string{}
		clean = 0
		for _, l := range lines {
			var e struct {
				Msg                string `json:"msg"`
				ProcessInstanceKey int64  `json:"processInstanceKey"`
				I                  int    `json:"i"`
				Fault              string `json:"fault"`
			}
			if json.Unmarshal([]byte(l), &e) != nil || e.Msg != "loop run" || !byPik[e.ProcessInstanceKey] {
				continue
			}
			k := fmt.Sprintf("%d/%d", e.ProcessInstanceKey, e.I)
			runs[k] = append(runs[k], e.Fault)
			if e.Fault == chaos.FaultNone {
				clean++
			}
		}
		if clean >= total || time.Now().After(deadline) {
			break
		}
	}
	// Every chain ended, so every turn ran clean once: fewer lines means the
	// log collection fell short, and every count below would be wrong.
	require.GreaterOrEqual(t, clean, total, "the loop function's log lines of %d clean runs did not all arrive within a minute", total)
	for _, faults := range runs {
		r.runs += len(faults)
		clean := 0
		for _, f := range faults {
			r.faults[f]++
			if f == chaos.FaultNone {
				clean++
			}
		}
		r.duplicates += max(clean-1, 0)
	}
	r.returned = countLines(ctx, t, awsCfg, "/aws/lambda/"+stack.ReturnerFunctionName, "dead-lettered job handed back to Zeebe", byPik)
	r.throttled = countLines(ctx, t, awsCfg, "/aws/lambda/"+stack.ReturnerFunctionName, "dead-lettered job handed back to Zeebe", byPik, "SQS moved it there")
	r.engineBackoffs = countLines(ctx, t, awsCfg, "/aws/lambda/"+stack.FulfillerFunctionName, "the outcome comes back after a backoff", byPik)

	t.Log("\n" + r.String())
	if dir := os.Getenv("SOAK_REPORT_DIR"); dir != "" {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		path := filepath.Join(dir, fmt.Sprintf("soak-%dx%d.md", n, turns))
		require.NoError(t, os.WriteFile(path, []byte(r.String()), 0o644))
		t.Logf("report written to %s", path)
	}

	assert.Zero(t, r.broken, "broken chains")
	assert.Zero(t, r.multiplied, "multiplied instances")
	assert.Zero(t, r.lost, "lost jobs")
	assert.Zero(t, r.incidents, "incidents")
	assert.Zero(t, r.duplicates, "duplicate runs: a turn run clean more than once")
	// Every fault injected as planned, and each seen by the bridge: a lost
	// outcome is one job handed back by the returner for that reason.
	planned := faults.Planned(turns)
	assert.Equal(t, n*planned[chaos.FaultError], r.faults[chaos.FaultError], "handler errors injected")
	assert.Equal(t, n*planned[chaos.FaultPanic], r.faults[chaos.FaultPanic], "handler panics injected")
	// A lost turn retried in another execution environment loses again (the
	// function remembers per process), so at least as planned.
	assert.GreaterOrEqual(t, r.faults[chaos.FaultLose], n*planned[chaos.FaultLose], "lost outcomes injected")
	assert.Equal(t, r.faults[chaos.FaultLose], r.returned-r.throttled, "each lost outcome handed back once by the returner")
	// How many deliveries the throttle catches depends on timing; that it
	// caught some is what shows the returner hands them back.
	assert.Positive(t, r.throttled, "throttled deliveries handed back by the returner")
	assert.Len(t, injected, 3, "throttle, fulfiller kill and engine kill each happened")
}

type soakReport struct {
	chains, turns                       int
	took                                time.Duration
	injected                            []string
	broken, multiplied, lost, incidents int
	runs, duplicates                    int
	faults                              map[string]int
	returned, throttled, engineBackoffs int
}

func (r *soakReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Echo-loop soak: %d chains x %d turns (%d jobs) in %s\n\n", r.chains, r.turns, r.chains*r.turns, r.took.Round(time.Second))
	fmt.Fprintf(&b, "| broken chains | multiplied instances | lost jobs | incidents | function runs | duplicate runs |\n|---|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %d |\n\n", r.broken, r.multiplied, r.lost, r.incidents, r.runs, r.duplicates)
	fmt.Fprintf(&b, "Injected on turns: %d handler errors, %d panics, %d lost outcomes (SNS publish failed).\n", r.faults[chaos.FaultError], r.faults[chaos.FaultPanic], r.faults[chaos.FaultLose])
	fmt.Fprintf(&b, "Returner: %d dead-lettered jobs handed back to Zeebe, %d of them moved to the DLQ by SQS (throttled or failed deliveries).\n", r.returned, r.throttled)
	fmt.Fprintf(&b, "Fulfiller: %d outcomes met an unavailable engine and came back after a backoff.\n\nStack-wide faults:\n", r.engineBackoffs)
	for _, f := range r.injected {
		fmt.Fprintf(&b, "- %s\n", f)
	}
	return b.String()
}

// killFulfillerMidBatch stops the engine (SIGSTOP), so that the fulfiller's
// next batch hangs on its Zeebe calls, waits until the outcomes queue has
// records in flight, kills every fulfiller process with SIGKILL, and lets the
// engine go on (SIGCONT). It returns how many outcomes were in flight.
func killFulfillerMidBatch(ctx context.Context, t *testing.T, awsCfg aws.Config, stack *tfstack.Stack, root string) int {
	t.Helper()
	engine := enginePID(t, root)
	var inflight int
	// A throttle earlier may have stalled every chain for the visibility
	// timeout (a minute): keep trying for longer than that.
	for try := 0; try < 8 && inflight == 0; try++ {
		require.NoError(t, syscall.Kill(engine, syscall.SIGSTOP))
		for deadline := time.Now().Add(15 * time.Second); inflight == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			out, err := sqs.NewFromConfig(awsCfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(stack.OutcomesQueueURL),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
			require.NoError(t, err)
			inflight, _ = strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
		}
		if inflight == 0 {
			// Nothing on its way to the fulfiller just now: let the chains move on.
			require.NoError(t, syscall.Kill(engine, syscall.SIGCONT))
			time.Sleep(3 * time.Second)
		}
	}
	defer func() { require.NoError(t, syscall.Kill(engine, syscall.SIGCONT)) }()
	require.Positive(t, inflight, "no outcome reached the fulfiller while the engine was stopped, eight times")
	time.Sleep(300 * time.Millisecond) // the batch is inside the fulfiller, waiting on the engine
	pids := lambdaProcesses(t, stack.FulfillerFunctionName)
	require.NotEmpty(t, pids, "no fulfiller process found")
	for _, pid := range pids {
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	}
	return inflight
}

// lambdaProcesses finds the runtime processes the bridge's executor started
// for a function: its environment names the function.
func lambdaProcesses(t *testing.T, function string) []int {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*")
	require.NoError(t, err)
	var pids []int
	want := []byte("\x00AWS_LAMBDA_FUNCTION_NAME=" + function + "\x00")
	for _, d := range dirs {
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !strings.Contains("\x00"+string(env), string(want)) {
			continue
		}
		if exe, _ := os.Readlink(filepath.Join(d, "exe")); filepath.Base(exe) != "bootstrap" {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	return pids
}

// countLines counts the JSON log lines of a group with this message (and
// containing every extra text) about the given process instances.
func countLines(ctx context.Context, t *testing.T, cfg aws.Config, group, msg string, piks map[int64]bool, extra ...string) int {
	t.Helper()
	lines, err := logs(ctx, cfg, group)
	require.NoError(t, err)
	n := 0
	for _, l := range lines {
		var e struct {
			Msg                string `json:"msg"`
			ProcessInstanceKey int64  `json:"processInstanceKey"`
		}
		if json.Unmarshal([]byte(l), &e) != nil || e.Msg != msg || !piks[e.ProcessInstanceKey] {
			continue
		}
		ok := true
		for _, x := range extra {
			ok = ok && strings.Contains(l, x)
		}
		if ok {
			n++
		}
	}
	return n
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, "%s must be a whole number", name)
	require.Positive(t, n, name)
	return n
}
