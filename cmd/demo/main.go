// Command demo runs the trip-booking saga end to end on the local stack
// (`make demo` starts Zeebe and LocalStack and builds the zips and Terraform
// first): it applies localstack/terraform, the Terraform modules users apply,
// to LocalStack (topics, queues, the functions with their event source
// mappings, the fulfiller, the poller on an EventBridge schedule), starts the
// first poller run, deploys bpmn/trip-booking.bpmn, books one trip that
// succeeds and one whose flight fails, then runs bpmn/long-work.bpmn, whose
// function answers pending and whose work is finished seconds later through
// the completion token, with heartbeats, and prints what happened to each,
// and the address of each instance's page in the local process view. It
// exits non-zero if any of them does not end as expected.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/catalog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
)

func main() {
	bpmnPath := flag.String("bpmn", "bpmn/trip-booking.bpmn", "the trip-booking model")
	timeout := flag.Duration("timeout", 3*time.Minute, "how long to wait for each trip")
	dist := flag.String("dist", "dist", "where `make build` put the Lambda zips")
	view := flag.String("view", envOr("PROCESS_VIEW_URL", "http://127.0.0.1:8088"), "the local process view the engine serves")
	applyOnly := flag.Bool("apply-only", false, "apply to LocalStack and stop: the engine need not run yet (make demo starts it meanwhile)")
	applied := flag.Bool("applied", false, "an -apply-only run just applied and said so: do not say it again")
	flag.Parse()
	// The local engine speaks plaintext; the Zeebe client reads this from the environment.
	if os.Getenv("ZEEBE_INSECURE_CONNECTION") == "" {
		_ = os.Setenv("ZEEBE_INSECURE_CONNECTION", "true")
	}
	var err error
	if *applyOnly {
		_, err = apply(context.Background(), *dist, true)
	} else {
		err = run(context.Background(), *bpmnPath, *dist, strings.TrimRight(*view, "/"), *timeout, !*applied)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type trip struct {
	name       string
	failFlight bool
	wantEnd    string
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, bpmnPath, dist, view string, timeout time.Duration, sayApply bool) error {
	path := recordlog.DefaultPath()
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no Zeebe record log at %s: start the local stack with `localstack/stack up` (make demo does)", path)
	}
	// Only the trips started below matter: the log holds every earlier run.
	records, err := recordlog.Follow(path)
	if err != nil {
		return err
	}
	localstackLog := filepath.Join(filepath.Dir(records.Path()), "localstack.log")

	zb, err := zeebeclient.New(ctx, os.Getenv, nil)
	if err != nil {
		return err
	}
	defer zb.Close()
	awsCfg, err := tfstack.AWSConfig(ctx)
	if err != nil {
		return err
	}
	stack, err := apply(ctx, dist, sayApply)
	if err != nil {
		return err
	}

	// The schedule's first run may be up to a minute away: start one now.
	// Runs overlap harmlessly, each activates only the jobs it can publish.
	if _, err := lambda.NewFromConfig(awsCfg).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(stack.PollerFunctionName),
		InvocationType: lambdatypes.InvocationTypeEvent}); err != nil {
		return fmt.Errorf("start the first poller run: %w", err)
	}
	fmt.Printf("      poller         first run started now; the schedule starts the next ones\n")

	longWorkPath := filepath.Join(filepath.Dir(bpmnPath), "long-work.bpmn")
	for _, p := range []string{bpmnPath, longWorkPath} {
		step("deploying " + p)
		model, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err = zb.Zeebe().NewDeployResourceCommand().AddResource(model, filepath.Base(p)).Send(dctx)
		cancel()
		if err != nil {
			return fmt.Errorf("deploy %s: %w", p, err)
		}
	}

	// The long work runs its 12 s beside the trips; its timeline follows theirs.
	step("long work: the function answers pending; long-work-finish heartbeats every 4 s and completes the job 12 s later through its completion token (started now, shown after the trips)")
	longWorkKey, err := start(ctx, zb, "long-work", map[string]any{"workSeconds": 12, "heartbeatSeconds": 4})
	if err != nil {
		return fmt.Errorf("long work: %w", err)
	}

	trips := []trip{
		{name: "a trip that books hotel, car and flight", failFlight: false, wantEnd: "EndEvent_TripBooked"},
		{name: "a trip whose flight is unavailable (compensates car and hotel)", failFlight: true, wantEnd: "EndEvent_TripCancelled"},
	}
	var failures []error
	for i, tr := range trips {
		step(tr.name)
		id := fmt.Sprintf("trip-%d-%d", time.Now().Unix(), i+1)
		pik, recs, end, err := startAndWait(ctx, zb, records, "trip-booking",
			map[string]any{"tripId": id, "customer": "Ada", "destination": "Lisbon", "failFlight": tr.failFlight}, timeout)
		if err != nil {
			return fmt.Errorf("%s: %w (function logs: CloudWatch Logs in LocalStack; LocalStack log: %s)", tr.name, err, localstackLog)
		}
		recordlog.Render(os.Stdout, fmt.Sprintf("trip-booking instance %d (tripId %s, failFlight=%v)", pik, id, tr.failFlight), recs, end)
		fmt.Printf("  in the process view: %s/instances/%d\n", view, pik)
		if !end.Completed || end.EndEventID != tr.wantEnd {
			failures = append(failures, fmt.Errorf("%s: ended at %q (incident: %v), want %s", tr.name, end.EndEventID, end.Incident != nil, tr.wantEnd))
		}
	}
	if err := longWork(ctx, records, longWorkKey, view, timeout); err != nil {
		failures = append(failures, err)
	}
	if err := errors.Join(failures...); err != nil {
		return fmt.Errorf("%w\nLocalStack log: %s", err, localstackLog)
	}
	fmt.Println("\ndemo: both trips and the long work ended as expected")
	fmt.Printf("\nthe local process view (served while the stack runs; `make up` starts it, `make down` stops it):\n  %s/\n", view)
	return nil
}

// longWork waits for the instance of bpmn/long-work.bpmn started as pik:
// the work takes 12 s, twice what the demo would wait for a plain function,
// with a heartbeat every 4 s against the task's 15 s timeout; in production
// the same functions take hours.
func longWork(ctx context.Context, records *recordlog.Log, pik int64, view string, timeout time.Duration) error {
	step("long work, started before the trips")
	recs, end, err := waitEnd(ctx, records, pik, timeout)
	if err != nil {
		return fmt.Errorf("long work: %w", err)
	}
	recordlog.Render(os.Stdout, fmt.Sprintf("long-work instance %d", pik), recs, end)
	fmt.Printf("  in the process view: %s/instances/%d\n", view, pik)
	var updates, timedOut int
	for _, r := range recordlog.Jobs(recs) {
		switch r.Intent {
		case "TIMEOUT_UPDATED":
			updates++
		case "TIMED_OUT":
			timedOut++
		}
	}
	// The poller sets the task header's timeout once; each heartbeat sets it again.
	fmt.Printf("  job timeout updates: %d (the poller's, then one per heartbeat); timed out: %d times\n", updates, timedOut)
	if !end.Completed {
		return fmt.Errorf("long work: did not complete (incident: %v)", end.Incident != nil)
	}
	return nil
}

// startAndWait starts an instance of the process and waits for its end; it
// returns the instance's key and records and how it ended.
func startAndWait(ctx context.Context, zb *zeebeclient.Client, records *recordlog.Log, processID string, vars map[string]any, timeout time.Duration) (int64, []recordlog.Record, recordlog.Ending, error) {
	pik, err := start(ctx, zb, processID, vars)
	if err != nil {
		return 0, nil, recordlog.Ending{}, err
	}
	recs, end, err := waitEnd(ctx, records, pik, timeout)
	return pik, recs, end, err
}

// start starts an instance of the process and returns its key.
func start(ctx context.Context, zb *zeebeclient.Client, processID string, vars map[string]any) (int64, error) {
	cmd, err := zb.Zeebe().NewCreateInstanceCommand().BPMNProcessId(processID).LatestVersion().VariablesFromMap(vars)
	if err != nil {
		return 0, err
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	inst, err := cmd.Send(sctx)
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", processID, err)
	}
	return inst.ProcessInstanceKey, nil
}

// waitEnd waits up to timeout for the instance's end; it returns its records
// and how it ended.
func waitEnd(ctx context.Context, records *recordlog.Log, pik int64, timeout time.Duration) ([]recordlog.Record, recordlog.Ending, error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	end, err := records.WaitEnd(wctx, pik)
	cancel()
	if err != nil {
		return nil, end, err
	}
	recs, err := records.Instance(pik)
	return recs, end, err
}

// apply applies the local root to LocalStack, unless nothing it depends on
// changed since its last apply there, and says what is deployed. It needs
// LocalStack only. say false applies as quietly.
func apply(ctx context.Context, dist string, say bool) (*tfstack.Stack, error) {
	if say {
		step("terraform apply of localstack/terraform (terraform/modules) to LocalStack at " + tfstack.Endpoint() + ", functions from " + dist)
	}
	began := time.Now()
	fns := append(catalog.TripBooking(), catalog.LongWork()...)
	stack, _, err := tfstack.Deploy(ctx, tfstack.Options{Dist: dist, Functions: fns, SkipUnchanged: true})
	if err != nil || !say {
		return stack, err
	}
	if stack.Applied {
		fmt.Printf("      applied in     %s (state: %s)\n", time.Since(began).Round(time.Second), filepath.Join(tfstack.LocalDir(), "terraform", "local"))
	} else {
		fmt.Printf("      unchanged      since the last apply to this LocalStack (same modules, variables, zips): not applied again (%s; state: %s)\n",
			time.Since(began).Round(time.Second), filepath.Join(tfstack.LocalDir(), "terraform", "local"))
	}
	fmt.Printf("      jobs topic     %s\n      outcomes topic %s\n", stack.JobsTopicARN, stack.OutcomesTopicARN)
	fmt.Printf("      functions      %s, %s, %s (poller: EventBridge %s)\n", stack.PollerFunctionName, stack.FulfillerFunctionName,
		strings.Join(stack.FunctionNames(), ", "), stack.PollerScheduleExpression)
	fmt.Printf("      logs           CloudWatch Logs /aws/lambda/<function> in LocalStack; %s\n", filepath.Join(tfstack.LocalDir(), "logs", "localstack.log"))
	for _, f := range fns {
		if f.Runtime != "" {
			fmt.Printf("      %-14s %s, unmodified, through the layer zeebe-runtime-proxy (docs/runtimes.md)\n", f.Name, f.Runtime)
		}
	}
	return stack, nil
}

func step(s string) { fmt.Printf("\n==> %s\n", s) }
