// Command demo runs the trip-booking saga end to end on the local stack
// (`make demo` starts Zeebe and LocalStack first): it provisions the topics
// and queues in LocalStack, runs the poller, the trip-booking functions and
// the fulfiller fed by the real queues, deploys bpmn/trip-booking.bpmn, books
// one trip that succeeds and one whose flight fails, and prints what happened
// to each. It exits non-zero if either trip does not end as expected.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/functions/catalog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/harness"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/provision"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/zeebeclient"
)

func main() {
	bpmnPath := flag.String("bpmn", "bpmn/trip-booking.bpmn", "the trip-booking model")
	timeout := flag.Duration("timeout", 2*time.Minute, "how long to wait for each trip")
	flag.Parse()
	if err := run(context.Background(), *bpmnPath, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type trip struct {
	name       string
	failFlight bool
	wantEnd    string
}

func run(ctx context.Context, bpmnPath string, timeout time.Duration) error {
	records := recordlog.Open(recordlog.DefaultPath())
	if _, err := os.Stat(records.Path()); err != nil {
		return fmt.Errorf("no Zeebe record log at %s: start the local stack with `localstack/stack up` (make demo does)", records.Path())
	}
	logPath := filepath.Join(filepath.Dir(records.Path()), "demo-bridge.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()

	zb, err := zeebeclient.New(ctx, os.Getenv, nil)
	if err != nil {
		return err
	}
	defer zb.Close()
	awsCfg, err := provision.LocalConfig(ctx)
	if err != nil {
		return err
	}

	step("provisioning topics and queues in LocalStack, starting poller, functions and fulfiller")
	bridge, err := harness.Start(ctx, harness.Options{
		AWS: awsCfg, Zeebe: zb, Functions: catalog.TripBooking(),
		RetryBackoff: time.Second, JobTimeout: time.Minute, Log: joblog.New(logFile, false),
	})
	if err != nil {
		return err
	}
	defer bridge.Stop()
	fmt.Printf("      jobs topic     %s\n      outcomes topic %s\n      bridge logs    %s\n",
		bridge.Topology.JobsTopicARN, bridge.Topology.OutcomesTopicARN, logPath)

	step("deploying " + bpmnPath)
	model, err := os.ReadFile(bpmnPath)
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := zb.Zeebe().NewDeployResourceCommand().AddResource(model, filepath.Base(bpmnPath)).Send(dctx); err != nil {
		return fmt.Errorf("deploy %s: %w", bpmnPath, err)
	}

	trips := []trip{
		{name: "a trip that books hotel, car and flight", failFlight: false, wantEnd: "EndEvent_TripBooked"},
		{name: "a trip whose flight is unavailable (compensates car and hotel)", failFlight: true, wantEnd: "EndEvent_TripCancelled"},
	}
	var failures []error
	for i, tr := range trips {
		step(tr.name)
		id := fmt.Sprintf("trip-%d-%d", time.Now().Unix(), i+1)
		cmd, err := zb.Zeebe().NewCreateInstanceCommand().BPMNProcessId("trip-booking").LatestVersion().
			VariablesFromMap(map[string]any{"tripId": id, "customer": "Ada", "destination": "Lisbon", "failFlight": tr.failFlight})
		if err != nil {
			return err
		}
		inst, err := cmd.Send(dctx)
		if err != nil {
			return fmt.Errorf("start trip-booking: %w", err)
		}
		wctx, cancel := context.WithTimeout(ctx, timeout)
		end, err := records.WaitEnd(wctx, inst.ProcessInstanceKey)
		cancel()
		if err != nil {
			return fmt.Errorf("%s: %w (bridge logs: %s)", tr.name, err, logPath)
		}
		recs, err := records.Instance(inst.ProcessInstanceKey)
		if err != nil {
			return err
		}
		harness.Render(os.Stdout, fmt.Sprintf("trip-booking instance %d (tripId %s, failFlight=%v)", inst.ProcessInstanceKey, id, tr.failFlight), recs, end)
		if !end.Completed || end.EndEventID != tr.wantEnd {
			failures = append(failures, fmt.Errorf("%s: ended at %q (incident: %v), want %s", tr.name, end.EndEventID, end.Incident != nil, tr.wantEnd))
		}
	}
	if err := errors.Join(failures...); err != nil {
		return fmt.Errorf("%w\nbridge logs: %s", err, logPath)
	}
	fmt.Println("\ndemo: both trips ended as expected")
	return nil
}

func step(s string) { fmt.Printf("\n==> %s\n", s) }
