// Command zeebe-poller-daemon is the poller as a long-lived process, for a container or a
// VM: it activates and publishes jobs until SIGINT or SIGTERM.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/poller"
)

func main() { os.Exit(run()) }

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	svc, err := poller.FromEnv(ctx, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "poller:", err)
		return 1
	}
	defer svc.Close()
	svc.Log.Info("poller started", "jobType", svc.Config.JobType, "topic", svc.Config.TopicARN, "worker", svc.Config.Worker)
	// Zeebe pushes jobs to a long-lived poller as they become activatable,
	// a long poll beside it picks up the rest (JOB_PUSH=false: long polling
	// alone). Both loop until the signal, retrying failed activations with
	// backoff; after the signal the jobs held are still published (or handed
	// back), for up to SAFETY_MARGIN.
	if os.Getenv("JOB_PUSH") != "false" {
		svc.RunPush(ctx)
		return 0
	}
	if _, err := svc.Run(ctx); err != nil {
		svc.Log.Error("poller stopped", "error", err)
		return 1
	}
	return 0
}
