//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/catalog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/chaos"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

var dist = filepath.Join("..", "..", "dist")

// tfLog passes Terraform's output to the test log under -v; without it the
// errors terraform-exec returns carry what matters.
func tfLog(t *testing.T) *testWriter { return &testWriter{t: t} }

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	if testing.Verbose() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// scenario is one process instance and what must be true of it.
type scenario struct {
	name  string
	start func(t *testing.T) int64
	check func(t *testing.T, end recordlog.Ending, recs []recordlog.Record)
}

// shared is the stack localstack/terraform applies once for all tests of the
// package; TestMain destroys it.
var shared struct {
	once  sync.Once
	stack *tfstack.Stack
	root  tfstack.Root
	took  time.Duration
	err   error
}

func TestMain(m *testing.M) {
	var err error
	if otlp, err = startCollector(); err != nil {
		fmt.Fprintln(os.Stderr, "start the OTLP collector:", err)
		os.Exit(1)
	}
	code := m.Run()
	if shared.root.Dir != "" {
		// Destroy even after a failed apply: it removes what was created.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		began := time.Now()
		if err := shared.root.Destroy(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "terraform destroy:", err)
			code = 1
		} else {
			fmt.Fprintf(os.Stderr, "terraform destroy took %s\n", time.Since(began).Round(time.Second))
		}
		cancel()
	}
	os.Exit(code)
}

// deployed applies localstack/terraform once: with every catalog function,
// or with those E2E_FUNCTIONS names (comma-separated). make bench deploys
// only the no-ops (noop, noop-py, noop-node), so the benchmark does not pay
// for the idle event source mappings of functions it never calls.
// distZip is the absolute path of dist/<name>.zip, which must exist.
func distZip(t *testing.T, name string) string {
	t.Helper()
	zip, err := filepath.Abs(filepath.Join(dist, name+".zip"))
	require.NoError(t, err)
	_, err = os.Stat(zip)
	require.NoError(t, err, "the Lambda zips are missing: run `make build` (make test does)")
	return zip
}

func deployed(t *testing.T) *tfstack.Stack {
	t.Helper()
	_, err := os.Stat(filepath.Join(dist, "book-hotel.zip"))
	require.NoError(t, err, "the Lambda zips are missing: run `make build` (make test does)")
	fns := catalog.All()
	if only := os.Getenv("E2E_FUNCTIONS"); only != "" {
		fns = nil
		for _, name := range strings.Split(only, ",") {
			f, ok := catalog.ByName(strings.TrimSpace(name))
			require.True(t, ok, "E2E_FUNCTIONS names %q, which is not in internal/examples/catalog", name)
			fns = append(fns, f)
		}
	}
	shared.once.Do(func() {
		started := time.Now()
		var log io.Writer = io.Discard
		if testing.Verbose() {
			log = os.Stderr
		}
		shared.stack, shared.root, shared.err = tfstack.Deploy(context.Background(), tfstack.Options{Dist: dist, Functions: fns, Log: log, OTLPEndpoint: otlpEndpoint(), OTLPHeaders: otlpHeaders()})
		shared.took = time.Since(started)
	})
	require.NoError(t, shared.err, "terraform apply of localstack/terraform")
	t.Logf("terraform init and apply took %s", shared.took.Round(time.Second))
	require.ElementsMatch(t, names(fns), shared.stack.FunctionNames(), "the outputs list every function applied")
	return shared.stack
}

// otlpEndpoint is where the deployed functions export spans: the test's
// collector, or nowhere.
func otlpEndpoint() string {
	if otlp == nil {
		return ""
	}
	return otlp.url
}

// otlpHeaders are the headers of every export, kept in Secrets Manager.
func otlpHeaders() string {
	if otlp == nil {
		return ""
	}
	return strings.ToLower(otlpHeaderName) + "=" + otlpHeaderValue
}

func TestServerless(t *testing.T) {
	t.Parallel()
	zb := zeebetest.Client(t)
	records := zeebetest.Records(t)
	ctx := context.Background()
	awsCfg, err := tfstack.AWSConfig(ctx)
	require.NoError(t, err)
	stack := deployed(t)

	zeebetest.DeployFile(t, zb.Zeebe(), filepath.Join("..", "..", "bpmn", "trip-booking.bpmn"))
	single := func(prefix, element string, headers map[string]string, retries int, vars map[string]any) func(t *testing.T) int64 {
		return func(t *testing.T) int64 {
			id := zeebetest.UniqueID(prefix)
			zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", zeebetest.SingleTaskProcess(id, element, headers, retries))
			return zeebetest.Start(t, zb.Zeebe(), id, vars)
		}
	}
	trip := func(failFlight bool) func(t *testing.T) int64 {
		return func(t *testing.T) int64 {
			return zeebetest.Start(t, zb.Zeebe(), "trip-booking", map[string]any{
				"tripId": fmt.Sprintf("t-%v-%d", failFlight, time.Now().UnixNano()), "destination": "Lisbon", "failFlight": failFlight})
		}
	}
	firstFailure := func(t *testing.T, recs []recordlog.Record) recordlog.Record {
		t.Helper()
		for _, r := range recordlog.Jobs(recs) {
			if r.Intent == "FAILED" {
				return r
			}
		}
		t.Fatal("no job failure recorded")
		return recordlog.Record{}
	}

	scenarios := []scenario{
		{
			name:  "trip booking completes on the happy path",
			start: trip(false),
			check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
				require.Nil(t, end.Incident)
				assert.True(t, end.Completed)
				assert.Equal(t, "EndEvent_TripBooked", end.EndEventID)
				vars := recordlog.Variables(recs)
				for _, v := range []string{"hotelBookingId", "carBookingId", "flightBookingId"} {
					assert.Contains(t, vars, v)
				}
			},
		},
		{
			name:  "a failed flight compensates car and hotel",
			start: trip(true),
			check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
				require.Nil(t, end.Incident)
				assert.True(t, end.Completed)
				assert.Equal(t, "EndEvent_TripCancelled", end.EndEventID)
				vars := recordlog.Variables(recs)
				assert.JSONEq(t, "true", string(vars["hotelCancelled"]))
				assert.JSONEq(t, "true", string(vars["carCancelled"]))
				assert.NotContains(t, vars, "flightBookingId")
			},
		},
		{
			name:  "a failing function is retried by Zeebe exactly retries times",
			start: single("always-fail", "Task_AlwaysFail", map[string]string{"identifier": "always-fail"}, 3, nil),
			check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
				require.NotNil(t, end.Incident, "the process must stop on an incident")
				assert.Equal(t, "JOB_NO_RETRIES", end.Incident.Value.ErrorType)
				assert.Equal(t, "always-fail: simulated failure", end.Incident.Value.ErrorMessage)
				var retries []int32
				for _, r := range recordlog.Jobs(recs) {
					if r.Intent == "FAILED" {
						retries = append(retries, r.Value.Retries)
					}
				}
				assert.Equal(t, []int32{2, 1, 0}, retries)
			},
		},
		{
			name:  "a task without identifier becomes an incident naming the element",
			start: single("no-identifier", "Task_NoIdentifier", nil, 3, nil),
			check: func(t *testing.T, end recordlog.Ending, _ []recordlog.Record) {
				require.NotNil(t, end.Incident)
				assert.Equal(t, "Task_NoIdentifier", end.Incident.Value.ElementID)
				assert.Contains(t, end.Incident.Value.ErrorMessage, `"Task_NoIdentifier"`)
				assert.Contains(t, end.Incident.Value.ErrorMessage, `"identifier"`)
			},
		},
		{
			name:  "a panicking function becomes a Zeebe retry",
			start: single("panic", "Task_Panic", map[string]string{"identifier": "panic"}, 2, nil),
			check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
				f := firstFailure(t, recs)
				assert.Equal(t, int32(1), f.Value.Retries, "retries-1")
				assert.Contains(t, f.Value.ErrorMessage, "handler panicked: panic: simulated crash")
				require.NotNil(t, end.Incident)
			},
		},
		{
			name:  "a function running past its Lambda timeout becomes a Zeebe retry",
			start: single("sleep", "Task_Sleep", map[string]string{"identifier": "sleep"}, 2, map[string]any{"sleepSeconds": 30}),
			check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
				f := firstFailure(t, recs)
				assert.Equal(t, int32(1), f.Value.Retries, "retries-1")
				assert.Contains(t, f.Value.ErrorMessage, "handler timed out")
				assert.Contains(t, f.Value.ErrorMessage, "before the Lambda deadline")
				require.NotNil(t, end.Incident)
			},
		},
	}

	// Payloads that json.Marshal would inflate six-fold: they must reach the
	// function and come back byte for byte.
	markup := strings.Repeat(`<p class="x">a &amp; b</p>`, 200*1024/26)
	amps := strings.Repeat("&", 200*1024)
	echoes := func(doc string) func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
		return func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
			require.Nil(t, end.Incident)
			require.True(t, end.Completed)
			vars := recordlog.Variables(recs)
			var echo string
			require.NoError(t, json.Unmarshal(vars["echo"], &echo))
			assert.True(t, echo == doc, "the echoed document differs from the one sent (%d bytes, want %d)", len(echo), len(doc))
			assert.JSONEq(t, fmt.Sprint(len(doc)), string(vars["length"]), "the handler saw the document's exact bytes")
		}
	}
	pollerTimeout := jobTimeoutOfPoller(ctx, t, awsCfg, stack.PollerFunctionName)
	// An identifier of this run alone, so that nothing routes it until the test says so.
	unroutable := fmt.Sprintf("not-deployed-%d", time.Now().UnixNano())
	unroutableScenario := len(scenarios) + 2
	scenarios = append(scenarios,
		scenario{
			name:  "200 KiB of HTML reaches the function and comes back intact",
			start: single("echo-html", "Task_Echo", map[string]string{"identifier": "echo"}, 3, map[string]any{"doc": markup}),
			check: echoes(markup),
		},
		scenario{
			name:  "200 KiB of '&' reaches the function and comes back intact",
			start: single("echo-amp", "Task_Echo", map[string]string{"identifier": "echo"}, 3, map[string]any{"doc": amps}),
			check: echoes(amps),
		},
		scenario{
			name:  "an identifier no function is subscribed for becomes an incident naming it within 10 s",
			start: single("unroutable", "Task_Unroutable", map[string]string{"identifier": unroutable}, 3, nil),
			check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
				require.NotNil(t, end.Incident)
				assert.Equal(t, "JOB_NO_RETRIES", end.Incident.Value.ErrorType)
				assert.Contains(t, end.Incident.Value.ErrorMessage, fmt.Sprintf("lambdaIdentifier=%q", unroutable))
				assert.Contains(t, end.Incident.Value.ErrorMessage, "zeebe_jobs")
				f := firstFailure(t, recs)
				activated := time.UnixMilli(f.Value.Deadline).Add(-pollerTimeout)
				assert.Less(t, end.At.Sub(activated), 10*time.Second, "incident %s after the activation", end.At.Sub(activated))
				assert.Equal(t, int32(0), f.Value.Retries)
			},
		},
		scenario{
			name: "integers beyond 2^53 in a map[string]any reach Zeebe unchanged",
			start: single("echo-numbers", "Task_Echo", map[string]string{"identifier": "echo"}, 3,
				map[string]any{"doc": "n", "numbers": map[string]any{"id": int64(9007199254740993), "neg": int64(-9007199254740993)}}),
			check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
				require.Nil(t, end.Incident)
				require.True(t, end.Completed)
				// The handler's result overwrites the variable: a rounded
				// number would show here.
				var got bytes.Buffer
				require.NoError(t, json.Compact(&got, recordlog.Variables(recs)["numbers"]))
				assert.Equal(t, `{"id":9007199254740993,"neg":-9007199254740993}`, got.String())
			},
		},
	)

	// 1 MiB each way: above SNS's limit, so through the payload bucket.
	mib := strings.Repeat(`<li class="é">1 MiB & more</li>`, 1<<20/33)
	var mibJob int64
	scenarios = append(scenarios, scenario{
		name:  "a 1 MiB variable reaches the function and a 1 MiB result comes back, through S3, which keeps nothing",
		start: single("echo-mib", "Task_Echo", map[string]string{"identifier": "echo"}, 3, map[string]any{"doc": mib}),
		check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
			echoes(mib)(t, end, recs)
			for _, r := range recordlog.Jobs(recs) {
				mibJob = r.Key
			}
			// Both ways through S3: the poller offloaded the job message, the
			// function its outcome; both objects are gone once served.
			piks := map[int64]bool{recs[0].Value.ProcessInstanceKey: true}
			// The poller's lines reach CloudWatch when its run ends.
			var polled int
			for deadline := time.Now().Add(90 * time.Second); polled == 0 && time.Now().Before(deadline); time.Sleep(2 * time.Second) {
				polled = countLines(ctx, t, awsCfg, "/aws/lambda/"+stack.PollerFunctionName, "job message offloaded to S3", piks)
			}
			assert.Equal(t, 1, polled)
			assert.Equal(t, 1, countLines(ctx, t, awsCfg, stack.Functions["echo"].LogGroupName, "outcome offloaded to S3", piks))
			assertNoPayloadsLeft(ctx, t, awsCfg, stack, "echo", mibJob)
		},
	})

	// The other runtimes, unmodified, through the bridge's layer
	// (docs/runtimes.md): the same cases a Go function's tests cover.
	for _, rt := range []struct{ fn, label, failure string }{
		{"chaos-py", "Python", "RuntimeError: chaos-py: simulated failure"},
		{"chaos-node", "Node.js", "Error: chaos-node: simulated failure"},
	} {
		headers := map[string]string{"identifier": rt.fn}
		scenarios = append(scenarios,
			scenario{
				name:  rt.label + " through the layer: a 1 MiB variable in and a 1 MiB result out, through S3, which keeps nothing",
				start: single(rt.fn+"-mib", "Task_Chaos", headers, 3, map[string]any{"mode": "echo", "doc": mib}),
				check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
					echoes(mib)(t, end, recs)
					jobs := recordlog.Jobs(recs)
					require.NotEmpty(t, jobs)
					piks := map[int64]bool{recs[0].Value.ProcessInstanceKey: true}
					assert.Equal(t, 1, countLines(ctx, t, awsCfg, stack.Functions[rt.fn].LogGroupName, "outcome offloaded to S3", piks))
					assertNoPayloadsLeft(ctx, t, awsCfg, stack, rt.fn, jobs[0].Key)
				},
			},
			scenario{
				name: rt.label + " through the layer: a BpmnError is caught by the boundary event",
				start: func(t *testing.T) int64 {
					id := zeebetest.UniqueID(rt.fn + "-bpmn")
					zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", zeebetest.ErrorBoundaryProcess(id, "Task_Chaos", headers, 3, "CHAOS_ERROR"))
					return zeebetest.Start(t, zb.Zeebe(), id, map[string]any{"mode": "bpmn"})
				},
				check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
					require.Nil(t, end.Incident)
					assert.True(t, end.Completed)
					assert.Equal(t, "Caught", end.EndEventID)
				},
			},
			scenario{
				name:  rt.label + " through the layer: an exception is retried by Zeebe exactly retries times, then an incident",
				start: single(rt.fn+"-fail", "Task_Chaos", headers, 3, map[string]any{"mode": "fail"}),
				check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
					require.NotNil(t, end.Incident)
					assert.Equal(t, "JOB_NO_RETRIES", end.Incident.Value.ErrorType)
					assert.Equal(t, rt.failure, end.Incident.Value.ErrorMessage)
					var retries []int32
					for _, r := range recordlog.Jobs(recs) {
						if r.Intent == "FAILED" {
							retries = append(retries, r.Value.Retries)
						}
					}
					assert.Equal(t, []int32{2, 1, 0}, retries)
				},
			},
			scenario{
				name:  rt.label + " through the layer: a handler still running at the deadline margin becomes a Zeebe retry",
				start: single(rt.fn+"-sleep", "Task_Chaos", headers, 2, map[string]any{"mode": "sleep"}),
				check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
					f := firstFailure(t, recs)
					assert.Equal(t, int32(1), f.Value.Retries, "retries-1")
					assert.Contains(t, f.Value.ErrorMessage, "handler timed out")
					assert.Contains(t, f.Value.ErrorMessage, "before the Lambda deadline")
					require.NotNil(t, end.Incident)
				},
			},
		)
	}

	zeebetest.DeployFile(t, zb.Zeebe(), filepath.Join("..", "..", "bpmn", "echo-loop.bpmn"))
	scenarios = append(scenarios, scenario{
		name: "a job whose outcome could not be published is handed back from the DLQ within 10 s, retries unchanged, and runs again at once",
		start: func(t *testing.T) int64 {
			// One turn, whose first run loses its outcome (LosingPublisher): lambdakit
			// moves the job message to loop's DLQ, where the returner picks it up.
			return zeebetest.Start(t, zb.Zeebe(), "echo-loop", map[string]any{"i": 0, "n": 1,
				"faults": chaos.LoopFaults{LoseEvery: 1}})
		},
		check: func(t *testing.T, end recordlog.Ending, recs []recordlog.Record) {
			require.Nil(t, end.Incident)
			require.True(t, end.Completed)
			f := firstFailure(t, recs)
			assert.Equal(t, int32(3), f.Value.Retries, "handed back with its retries unchanged")
			assert.Contains(t, f.Value.ErrorMessage, `the job message for function "loop" reached its dead-letter queue`)
			assert.Contains(t, f.Value.ErrorMessage, "injected fault: SNS publish failed")
			activated := time.UnixMilli(f.Value.Deadline).Add(-pollerTimeout)
			assert.Less(t, f.Time().Sub(activated), 10*time.Second, "handed back %s after the activation", f.Time().Sub(activated))
			var completed recordlog.Record
			for _, r := range recordlog.Jobs(recs) {
				if r.Intent == "COMPLETED" {
					completed = r
				}
			}
			require.NotZero(t, completed.Key)
			assert.Less(t, completed.Time().Sub(f.Time()), 10*time.Second, "ran again and completed %s after it was handed back", completed.Time().Sub(f.Time()))
			runs := loopRuns(ctx, t, awsCfg, stack, f.Value.ProcessInstanceKey, 2)
			assert.Equal(t, []string{chaos.FaultLose, chaos.FaultNone}, runs, "the function ran twice: once losing its outcome, once more")
		},
	})

	// All instances start at once: the scheduled poller, which runs once a
	// minute, picks them up together.
	piks := make([]int64, len(scenarios))
	for i, sc := range scenarios {
		piks[i] = sc.start(t)
	}
	type result struct {
		end  recordlog.Ending
		recs []recordlog.Record
		err  error
	}
	results := make([]result, len(scenarios))
	var wg sync.WaitGroup
	for i := range scenarios {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
			defer cancel()
			end, err := records.WaitEnd(wctx, piks[i])
			recs, _ := records.Instance(piks[i])
			results[i] = result{end, recs, err}
		}()
	}
	wg.Wait()

	for i, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			r := results[i]
			var timeline strings.Builder
			recordlog.Render(&timeline, fmt.Sprintf("instance %d", piks[i]), r.recs, r.end)
			t.Log(timeline.String())
			require.NoError(t, r.err, "instance %d did not end", piks[i])
			sc.check(t, r.end, r.recs)
		})
	}

	t.Run("the process view shows the completed trip, the compensated trip and an incident", func(t *testing.T) {
		processViewShowsTheTrips(ctx, t, piks[0], piks[1], piks[2])
	})

	t.Run("SQS never retried a job: one receive per message, nothing dead-lettered", func(t *testing.T) {
		alwaysFail := piks[2]
		lines, err := logs(ctx, awsCfg, stack.Functions["always-fail"].LogGroupName)
		require.NoError(t, err)
		var attempts int
		for _, l := range lines {
			var entry struct {
				Msg                string `json:"msg"`
				ProcessInstanceKey int64  `json:"processInstanceKey"`
				ReceiveCount       string `json:"receiveCount"`
			}
			if json.Unmarshal([]byte(l), &entry) != nil || entry.ProcessInstanceKey != alwaysFail || entry.Msg != "outcome published" {
				continue
			}
			attempts++
			assert.Equal(t, "1", entry.ReceiveCount, "a job message was received more than once: %s", l)
		}
		assert.Equal(t, 3, attempts, "the function ran once per Zeebe retry (its log lines reach CloudWatch Logs)")
		for _, q := range []string{stack.Functions["always-fail"].QueueURL, stack.Functions["always-fail"].DLQURL} {
			assert.Equal(t, 0, depth(ctx, t, awsCfg, q), "queue %s", q)
		}
	})

	t.Run("the poller was started by the EventBridge schedule", func(t *testing.T) {
		rule, err := eventbridge.NewFromConfig(awsCfg).DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(stack.PollerScheduleRuleName)})
		require.NoError(t, err)
		assert.Equal(t, "rate(1 minute)", aws.ToString(rule.ScheduleExpression))
		// And an alarm watches that it keeps doing so.
		alarms, err := cloudwatch.NewFromConfig(awsCfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"zeebe-poller-not-running"}})
		require.NoError(t, err)
		require.Len(t, alarms.MetricAlarms, 1, "the poller-not-running alarm")
		a := alarms.MetricAlarms[0]
		assert.Equal(t, "Invocations", aws.ToString(a.MetricName))
		assert.Equal(t, int32(60), aws.ToInt32(a.Period), "one schedule period")
		assert.Equal(t, int32(2), aws.ToInt32(a.EvaluationPeriods))
		// The test never invokes the poller. Zeebe records the worker that
		// activated each job: the poller Lambda names itself after its function.
		var workers []string
		for _, r := range recordlog.Jobs(results[0].recs) {
			if r.Intent == "COMPLETED" {
				workers = append(workers, r.Value.Worker)
			}
		}
		require.Len(t, workers, 3)
		for _, w := range workers {
			assert.Equal(t, stack.PollerFunctionName, w)
		}
	})

	t.Run("every event source mapping reports item failures and caps its concurrency", func(t *testing.T) {
		lc := lambda.NewFromConfig(awsCfg)
		for _, fn := range append(stack.FunctionNames(), stack.FulfillerFunctionName) {
			out, err := lc.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(fn)})
			require.NoError(t, err)
			// LocalStack also lists the mappings of functions whose names
			// start with fn's (long-work-finish for long-work); AWS does not.
			var own []lambdatypes.EventSourceMappingConfiguration
			for _, m := range out.EventSourceMappings {
				if strings.HasSuffix(aws.ToString(m.FunctionArn), ":function:"+fn) {
					own = append(own, m)
				}
			}
			require.Len(t, own, 1, fn)
			m := own[0]
			assert.Equal(t, "[ReportBatchItemFailures]", fmt.Sprint(m.FunctionResponseTypes), fn)
			require.NotNil(t, m.ScalingConfig, fn)
			assert.Equal(t, int32(10), aws.ToInt32(m.ScalingConfig.MaximumConcurrency), fn)
		}
		out, err := lc.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(stack.ReturnerFunctionName)})
		require.NoError(t, err)
		var sources []string
		for _, m := range out.EventSourceMappings {
			// LocalStack lists another bridge's b-zeebe-returner too.
			if !strings.HasSuffix(aws.ToString(m.FunctionArn), ":function:"+stack.ReturnerFunctionName) {
				continue
			}
			sources = append(sources, aws.ToString(m.EventSourceArn)[strings.LastIndex(aws.ToString(m.EventSourceArn), ":")+1:])
			assert.Equal(t, "[ReportBatchItemFailures]", fmt.Sprint(m.FunctionResponseTypes))
		}
		var dlqs []string
		for _, fn := range stack.FunctionNames() {
			dlqs = append(dlqs, "zeebe_"+fn+"_dlq")
		}
		assert.ElementsMatch(t, dlqs, sources, "the returner reads every function's DLQ")
	})

	t.Run("every function queue allows one receive, then dead-letters", func(t *testing.T) {
		for name, fn := range stack.Functions {
			out, err := sqs.NewFromConfig(awsCfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(fn.QueueURL),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedrivePolicy}})
			require.NoError(t, err)
			var redrive struct {
				DeadLetterTargetArn string `json:"deadLetterTargetArn"`
				MaxReceiveCount     int    `json:"maxReceiveCount"`
			}
			require.NoError(t, json.Unmarshal([]byte(out.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)]), &redrive), name)
			assert.Equal(t, 1, redrive.MaxReceiveCount, name)
			assert.True(t, strings.HasSuffix(redrive.DeadLetterTargetArn, ":zeebe_"+name+"_dlq"), "%s: %s", name, redrive.DeadLetterTargetArn)
		}
	})

	t.Run("once a subscription routes the identifier, resolving the incident dispatches the job", func(t *testing.T) {
		// What deploying the function with modules/zeebe-lambda does for
		// routing: a queue subscribed with a filter on the identifier. The
		// echo function's subscription takes the identifier too, for the
		// test's length (SNS allows one subscription per topic and queue).
		r := results[unroutableScenario]
		require.NotNil(t, r.end.Incident, "the unroutable scenario ended on an incident")
		q := sqs.NewFromConfig(awsCfg)
		attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(stack.Functions["echo"].QueueURL),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		require.NoError(t, err)
		echoQueue := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
		topic := sns.NewFromConfig(awsCfg)
		subs, err := topic.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(stack.JobsTopicARN)})
		require.NoError(t, err)
		var echoSub *string
		for _, s := range subs.Subscriptions {
			if aws.ToString(s.Endpoint) == echoQueue {
				echoSub = s.SubscriptionArn
			}
		}
		require.NotNil(t, echoSub, "the echo function's subscription")
		setFilter := func(ids ...string) {
			b, err := json.Marshal(map[string][]string{"lambdaIdentifier": ids})
			require.NoError(t, err)
			_, err = topic.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: echoSub,
				AttributeName: aws.String("FilterPolicy"), AttributeValue: aws.String(string(b))})
			require.NoError(t, err)
		}
		setFilter("echo", unroutable)
		defer setFilter("echo")

		_, err = zb.Zeebe().NewUpdateJobRetriesCommand().JobKey(r.end.Incident.Value.JobKey).Retries(3).Send(ctx)
		require.NoError(t, err)
		_, err = zb.Zeebe().NewResolveIncidentCommand().IncidentKey(r.end.Incident.Key).Send(ctx)
		require.NoError(t, err)
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		_, err = records.WaitFor(wctx, piks[unroutableScenario], func(rec recordlog.Record) bool {
			return rec.Is("PROCESS_INSTANCE", "ELEMENT_COMPLETED") && rec.Value.BPMNElementType == "PROCESS"
		})
		require.NoError(t, err, "the instance completes once its job is routed")
	})

	t.Run("the payload bucket expires what is not deleted, and each function reaches only its own prefixes", func(t *testing.T) {
		payloadBucketIsPrivateAndExpires(ctx, t, awsCfg, stack)
	})

	t.Run("a runtime killed while it waits for work does not take the next invocation with it", func(t *testing.T) {
		// The executor plugin once handed the next invocation to the dead
		// runtime's request, lost it, and then killed the new runtime at that
		// invocation's timeout, and so on: a function that never recovered.
		id := zeebetest.UniqueID("respawn")
		zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", zeebetest.SingleTaskProcess(id, "Task_Echo", map[string]string{"identifier": "echo"}, 3))
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		warm := zeebetest.Start(t, zb.Zeebe(), id, map[string]any{"doc": "warm"})
		_, err := records.WaitEnd(wctx, warm)
		require.NoError(t, err)
		time.Sleep(500 * time.Millisecond) // the runtime is back in GET /next
		pids := lambdaProcesses(t, "echo")
		require.NotEmpty(t, pids, "echo's runtime is alive after its invocation")
		for _, pid := range pids {
			require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		}
		pik := zeebetest.Start(t, zb.Zeebe(), id, map[string]any{"doc": "after the kill"})
		end, err := records.WaitEnd(wctx, pik)
		require.NoError(t, err)
		assert.True(t, end.Completed)
		recs, err := records.Instance(pik)
		require.NoError(t, err)
		for _, r := range recordlog.Jobs(recs) {
			assert.NotContains(t, []string{"FAILED", "TIMED_OUT"}, r.Intent, "the first invocation after the kill was lost: %s", r.Value.ErrorMessage)
		}
	})

	// Last, as they disturb the stack: poison on the outcomes queue, then the
	// engine killed under load.
	t.Run("poison outcomes reach the DLQ at once, with their reason", func(t *testing.T) {
		poisonOutcomesReachTheDLQAtOnce(ctx, t, awsCfg, stack)
	})
	t.Run("a record that is not a job message reaches the function's DLQ at once, with its reason", func(t *testing.T) {
		// noop: echo and chaos-py take such records as business events.
		poisonJobsReachTheFunctionDLQAtOnce(ctx, t, awsCfg, stack.ReturnerFunctionName, stack.Functions["noop"])
	})
	t.Run("business events on a job queue reach the function's event handler, Go and Python; nothing is dead-lettered", func(t *testing.T) {
		businessEventsShareTheJobQueue(ctx, t, awsCfg, stack)
	})
	t.Run("the engine killed mid-flight: every instance completes, every function ran once", func(t *testing.T) {
		engineKilledMidFlight(ctx, t, awsCfg, stack, zb, records)
	})
}

func names(fns []catalog.Function) []string {
	var out []string
	for _, f := range fns {
		out = append(out, f.Name)
	}
	return out
}

// logs returns the lines of a CloudWatch log group, oldest first.
func logs(ctx context.Context, cfg aws.Config, group string) ([]string, error) {
	return logsSince(ctx, cfg, group, time.Time{})
}

// logsSince is logs, from lines written at since on.
func logsSince(ctx context.Context, cfg aws.Config, group string, since time.Time) ([]string, error) {
	cw := cloudwatchlogs.NewFromConfig(cfg)
	var lines []string
	var token *string
	var start *int64
	if !since.IsZero() {
		start = aws.Int64(since.UnixMilli())
	}
	for {
		out, err := cw.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), NextToken: token, StartTime: start})
		if err != nil {
			return nil, fmt.Errorf("read log group %s: %w", group, err)
		}
		for _, e := range out.Events {
			lines = append(lines, fmt.Sprintf("%020d %s", aws.ToInt64(e.Timestamp), strings.TrimRight(aws.ToString(e.Message), "\n")))
		}
		if out.NextToken == nil || aws.ToString(out.NextToken) == aws.ToString(token) {
			break
		}
		token = out.NextToken
	}
	sort.Strings(lines)
	for i, l := range lines {
		lines[i] = l[21:]
	}
	return lines, nil
}

// TestZeebeLambdaOnAnExistingFunctionWithItsLogGroup applies
// modules/zeebe-lambda with create_function = false to a function whose log
// group already exists, as it does for any function that has run once: the
// module must not try to create the group again.
func TestZeebeLambdaOnAnExistingFunctionWithItsLogGroup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	awsCfg, err := tfstack.AWSConfig(ctx)
	require.NoError(t, err)
	zip := distZip(t, "book-hotel")

	name := fmt.Sprintf("existing-%d", time.Now().UnixNano())
	group := "/aws/lambda/" + name
	cw := cloudwatchlogs.NewFromConfig(awsCfg)
	_, err = cw.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := cw.DeleteLogGroup(context.Background(), &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(group)})
		assert.NoError(t, err, "the log group that existed before is still there after destroy")
	})

	root := tfstack.Root{Dir: filepath.Join("localstack", "terraform", "existing-function"), Name: "existing-function", Log: tfLog(t),
		Vars: map[string]any{"localstack_endpoint": tfstack.Endpoint(), "function_name": name, "filename": zip, "architectures": []string{tfstack.Architecture()}}}
	t.Cleanup(func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		assert.NoError(t, root.Destroy(dctx), "terraform destroy")
	})
	out, err := root.Apply(ctx)
	require.NoError(t, err, "terraform apply of modules/zeebe-lambda to a function whose log group exists")

	var uuid, fnARN string
	require.NoError(t, json.Unmarshal(out["event_source_mapping_uuid"], &uuid))
	require.NoError(t, json.Unmarshal(out["function_arn"], &fnARN))
	m, err := lambda.NewFromConfig(awsCfg).GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
	require.NoError(t, err)
	assert.Equal(t, fnARN, aws.ToString(m.FunctionArn), "the queue triggers the existing function")
	groups, err := cw.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
	require.NoError(t, err)
	require.Len(t, groups.LogGroups, 1)
	assert.Nil(t, groups.LogGroups[0].RetentionInDays, "the module left the existing log group as it was")
}

// jobTimeoutOfPoller reads JOB_TIMEOUT from the deployed poller's environment.
func jobTimeoutOfPoller(ctx context.Context, t *testing.T, cfg aws.Config, poller string) time.Duration {
	t.Helper()
	out, err := lambda.NewFromConfig(cfg).GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(poller)})
	require.NoError(t, err)
	d, err := time.ParseDuration(out.Environment.Variables["JOB_TIMEOUT"])
	require.NoError(t, err, "the poller's JOB_TIMEOUT")
	return d
}

func depth(ctx context.Context, t *testing.T, cfg aws.Config, url string) int {
	t.Helper()
	out, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	require.NoError(t, err)
	var n int
	for _, v := range out.Attributes {
		var x int
		_, _ = fmt.Sscan(v, &x)
		n += x
	}
	return n
}

// loopRuns returns the faults of the loop function's runs for one process
// instance, in order, from its "loop run" log lines; it waits up to 30 s for
// at least want of them to reach CloudWatch Logs.
func loopRuns(ctx context.Context, t *testing.T, cfg aws.Config, stack *tfstack.Stack, pik int64, want int) []string {
	t.Helper()
	var runs []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
		lines, err := logs(ctx, cfg, stack.Functions["loop"].LogGroupName)
		require.NoError(t, err)
		runs = nil
		for _, l := range lines {
			var e struct {
				Msg                string `json:"msg"`
				ProcessInstanceKey int64  `json:"processInstanceKey"`
				Fault              string `json:"fault"`
			}
			if json.Unmarshal([]byte(l), &e) == nil && e.Msg == "loop run" && e.ProcessInstanceKey == pik {
				runs = append(runs, e.Fault)
			}
		}
		if len(runs) >= want || time.Now().After(deadline) {
			return runs
		}
	}
}
