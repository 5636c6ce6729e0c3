// Package harness runs the whole bridge in one process against the real
// broker and LocalStack: it provisions the topics and queues, runs the poller
// loop, and stands in for Lambda's SQS event source mappings, handing each
// queue's batches to the real function and fulfiller handlers exactly as the
// Lambda runtime would. The end-to-end tests and `make demo` use it.
package harness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/fulfiller"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/functions/catalog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/provision"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/poller"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/snspub"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/topology"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/zeebeclient"
)

// Options configure a Bridge.
type Options struct {
	AWS       aws.Config
	Zeebe     *zeebeclient.Client
	Functions []catalog.Function
	// RetryBackoff is lambdakit's backoff for failed jobs; short in tests.
	RetryBackoff time.Duration
	// JobTimeout is the poller's job timeout.
	JobTimeout time.Duration
	Log        *slog.Logger
}

// Bridge is a running in-process bridge.
type Bridge struct {
	Topology *provision.Topology

	sqs      *sqs.Client
	mappings map[string]*eventSourceMapping
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// Start provisions the topology for opts.Functions and starts the poller,
// one event source mapping per function and the fulfiller's.
func Start(ctx context.Context, opts Options) (*Bridge, error) {
	if opts.JobTimeout == 0 {
		opts.JobTimeout = time.Minute
	}
	var fns []provision.Function
	for _, f := range opts.Functions {
		fns = append(fns, provision.Function{Name: f.Name, Timeout: f.Timeout})
	}
	prov := provision.New(opts.AWS)
	topo, err := prov.Apply(ctx, fns)
	if err != nil {
		return nil, fmt.Errorf("provision LocalStack (is it running? `localstack/stack up`): %w", err)
	}
	b := &Bridge{Topology: topo, sqs: prov.SQS, mappings: map[string]*eventSourceMapping{}}
	// Leftovers of an earlier run would blur what this one shows.
	b.purge(ctx)

	pub := snspub.New(sns.NewFromConfig(opts.AWS))
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.cancel = cancel

	for _, f := range opts.Functions {
		h, err := f.New(lambdakit.Config{
			Publisher: pub, OutcomeTopicARN: topo.OutcomesTopicARN,
			RetryBackoff: opts.RetryBackoff, DeadlineMargin: time.Second,
			Logger: opts.Log.With("function", f.Name),
		})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		}
		r := topo.Functions[f.Name]
		b.mappings[f.Name] = &eventSourceMapping{name: f.Name, sqs: prov.SQS, queueURL: r.Queue.URL, queueARN: r.Queue.ARN,
			handler: h, timeout: f.Timeout, batchSize: 10, log: opts.Log}
	}
	ful := fulfiller.New(opts.Zeebe, opts.Log.With("function", "fulfiller"))
	b.mappings["fulfiller"] = &eventSourceMapping{name: "fulfiller", sqs: prov.SQS, queueURL: topo.OutcomesQueue.URL,
		queueARN: topo.OutcomesQueue.ARN, handler: lambda.NewHandler(ful.Handle), timeout: topology.FulfillerTimeout, batchSize: 10, log: opts.Log}
	for _, m := range b.mappings {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			m.run(runCtx)
		}()
	}

	pcfg := poller.Config{TopicARN: topo.JobsTopicARN, JobType: poller.DefaultJobType, JobTimeout: opts.JobTimeout,
		MaxJobsActive: poller.DefaultMaxJobsActive, Worker: "harness-poller", LongPoll: 5 * time.Second,
		SafetyMargin: poller.DefaultSafetyMargin, PublishBackoff: time.Second}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		_, _ = poller.Run(runCtx, pcfg, opts.Zeebe, pub, opts.Log.With("function", "poller"))
	}()
	return b, nil
}

func (b *Bridge) purge(ctx context.Context) {
	var urls []string
	for _, r := range b.Topology.Functions {
		urls = append(urls, r.Queue.URL, r.DLQ.URL)
	}
	urls = append(urls, b.Topology.OutcomesQueue.URL, b.Topology.OutcomesDLQ.URL)
	for _, u := range urls {
		_, _ = b.sqs.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(u)})
	}
}

// Stop stops the poller and the event source mappings and waits for them.
func (b *Bridge) Stop() {
	b.cancel()
	b.wg.Wait()
}

// Deliveries lists the messages the named function's queue delivered to it.
func (b *Bridge) Deliveries(fn string) []Delivery {
	m, ok := b.mappings[fn]
	if !ok {
		return nil
	}
	return m.snapshot()
}

// QueueDepths returns the messages in a function's queue and in its DLQ.
func (b *Bridge) QueueDepths(ctx context.Context, fn string) (queue, dlq int, err error) {
	r, ok := b.Topology.Functions[fn]
	if !ok {
		return 0, 0, fmt.Errorf("function %s is not provisioned", fn)
	}
	q, err1 := queueDepth(ctx, b.sqs, r.Queue.URL)
	d, err2 := queueDepth(ctx, b.sqs, r.DLQ.URL)
	return q, d, errors.Join(err1, err2)
}
