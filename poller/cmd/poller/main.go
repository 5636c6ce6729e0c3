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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	svc, err := poller.FromEnv(ctx, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "poller:", err)
		os.Exit(1)
	}
	defer svc.Close()
	svc.Log.Info("poller started", "jobType", svc.Config.JobType, "topic", svc.Config.TopicARN)
	// Without a deadline Run loops until the signal; activation errors are
	// retried inside it.
	if _, err := svc.Run(ctx); err != nil {
		svc.Log.Error("poller stopped", "error", err)
		os.Exit(1)
	}
}
