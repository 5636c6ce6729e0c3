// Command poller is the poller as a long-lived process, for a container or a
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
	// Without a deadline Run loops until the signal. It retries failed
	// activations itself, backing off from 1s to 30s, and the gRPC connection
	// reconnects on its own; after the signal it still publishes (or hands
	// back) the jobs it holds, for up to SAFETY_MARGIN.
	if _, err := svc.Run(ctx); err != nil {
		svc.Log.Error("poller stopped", "error", err)
		return 1
	}
	return 0
}
