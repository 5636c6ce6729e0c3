// Package catalog lists the example functions: their Lambda names (which
// are also their BPMN identifiers and their directory names under
// functions/), timeouts and handlers. The local Terraform deployment
// (localstack/tfstack passes them to localstack/terraform) and in-process
// test harnesses read it, so a function is declared once.
package catalog

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/chaos"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/longwork"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/tripbooking"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// Function describes one example Lambda.
type Function struct {
	// Name is the Lambda function name, the BPMN task header identifier and
	// the directory functions/<Name> holding the function's main.
	Name string
	// Timeout is the Lambda timeout to deploy with. lambdakit fails a job
	// whose handler is still running DEADLINE_MARGIN before it.
	Timeout time.Duration
	// New builds the function's handler, as its main does with
	// lambdakit.Start but with the configuration given, so a harness can
	// drive it with Invoke. Nil for a function in another runtime.
	New func(cfg lambdakit.Config) (*lambdakit.Handler, error)
	// Runtime and Handler are the Lambda runtime and handler of a function
	// that is not Go: its source is functions/<Name>, zipped as it is, and
	// the bridge's layer (cmd/zeebe-runtime-proxy) makes it Zeebe-ready.
	// Empty for Go (provided.al2023, bootstrap).
	Runtime, Handler string
}

// withEvents gives f's handler an event handler for business events, as its
// main does with lambdakit.WithEvents.
func withEvents(f Function, h func(context.Context, events.SQSMessage) error) Function {
	build := f.New
	f.New = func(cfg lambdakit.Config) (*lambdakit.Handler, error) {
		if cfg.Events == nil {
			cfg.Events = h
		}
		return build(cfg)
	}
	return f
}

// script is a function in a managed runtime, run through the bridge's layer.
func script(name string, timeout time.Duration, runtime, handler string) Function {
	return Function{Name: name, Timeout: timeout, Runtime: runtime, Handler: handler}
}

// fn binds a typed handler; it keeps the handler's types out of Function.
func fn[In, Out any](name string, timeout time.Duration, h func(context.Context, In) (Out, error)) Function {
	return Function{Name: name, Timeout: timeout, New: func(cfg lambdakit.Config) (*lambdakit.Handler, error) {
		return lambdakit.New(h, cfg)
	}}
}

// TripBooking lists the functions of bpmn/trip-booking.bpmn: Go, but for
// book-car (Python) and book-flight (Node.js), which show that any runtime
// takes part.
func TripBooking() []Function {
	return []Function{
		fn("book-hotel", 10*time.Second, tripbooking.BookHotel),
		script("book-car", 10*time.Second, "python3.12", "app.handler"),
		script("book-flight", 10*time.Second, "nodejs20.x", "index.handler"),
		fn("cancel-hotel", 10*time.Second, tripbooking.CancelHotel),
		fn("cancel-car", 10*time.Second, tripbooking.CancelCar),
		fn("cancel-flight", 10*time.Second, tripbooking.CancelFlight),
	}
}

// Chaos lists the misbehaving functions of the end-to-end tests. Sleep has
// a short timeout so that its timeout test does not take long.
func Chaos() []Function {
	return []Function{
		fn("always-fail", 10*time.Second, chaos.AlwaysFail),
		fn("panic", 10*time.Second, chaos.Panic),
		fn("sleep", 5*time.Second, chaos.Sleep),
		withEvents(fn("echo", 10*time.Second, chaos.Echo), chaos.Event),
		fn("noop", 10*time.Second, chaos.Noop),
		loop(),
		// The other runtimes' echo, failure, BPMN error and timeout; a short
		// timeout, as sleep's.
		script("chaos-py", 5*time.Second, "python3.12", "app.handler"),
		script("chaos-node", 5*time.Second, "nodejs20.x", "index.handler"),
		// noop in the other runtimes: the benchmark's measure of the
		// layer's own time per job against lambdakit in Go.
		script("noop-py", 10*time.Second, "python3.12", "app.handler"),
		script("noop-node", 10*time.Second, "nodejs20.x", "index.handler"),
	}
}

// loop is the soak test's function: its outcomes go through
// chaos.LosingPublisher, which loses the ones the handler marks.
func loop() Function {
	return Function{Name: "loop", Timeout: 10 * time.Second, New: func(cfg lambdakit.Config) (*lambdakit.Handler, error) {
		if cfg.Publisher != nil {
			cfg.Publisher = chaos.LosingPublisher{Publisher: cfg.Publisher}
		}
		log := cfg.Logger
		if log == nil {
			log = joblog.New(os.Stderr, false)
		}
		return lambdakit.New(chaos.NewLoop(log).Handle, cfg)
	}}
}

// LongWork lists the function of bpmn/long-work.bpmn. Its partner
// long-work-finish is a plain Lambda fed by the long-work queue, not a
// Zeebe-ready function, so it is not listed here.
func LongWork() []Function {
	return []Function{{Name: "long-work", Timeout: 10 * time.Second, New: func(cfg lambdakit.Config) (*lambdakit.Handler, error) {
		w := &longwork.Worker{QueueURL: os.Getenv(longwork.EnvQueueURL)}
		if w.QueueURL != "" {
			awsCfg, err := config.LoadDefaultConfig(context.Background())
			if err != nil {
				return nil, fmt.Errorf("load the AWS configuration: %w", err)
			}
			w.Queue = sqs.NewFromConfig(awsCfg)
		}
		return lambdakit.New(w.Start, cfg)
	}}}
}

// All lists every example function. Each call returns a new slice, so
// callers may change it.
func All() []Function { return append(append(TripBooking(), Chaos()...), LongWork()...) }

// ByName finds a function by its Lambda name.
func ByName(name string) (Function, bool) {
	for _, f := range All() {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// Main is the main of a function whose handler needs more than
// lambdakit.Start gives it (loop, long-work): it builds the catalog entry
// with the configuration from the environment and hands it to the Lambda
// runtime. A configuration problem is one line on stderr and exit status 1,
// as with lambdakit.Start.
func Main(name string) {
	h, err := handlerFromEnv(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdakit: "+strings.Join(strings.Fields(err.Error()), " "))
		os.Exit(1)
	}
	lambda.Start(h)
}

func handlerFromEnv(name string) (*lambdakit.Handler, error) {
	f, ok := ByName(name)
	if !ok {
		return nil, fmt.Errorf("no function %q in the catalog", name)
	}
	cfg, err := lambdakit.ConfigFromEnv(context.Background(), os.Getenv)
	if err != nil {
		return nil, err
	}
	return f.New(cfg)
}
