package lambdakit

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.opentelemetry.io/otel/trace"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/snspub"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/tracing"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Config configures a Handler. Publisher and OutcomeTopicARN are required;
// every other field has a default.
type Config struct {
	// Publisher and OutcomeTopicARN say where outcomes go: the
	// zeebe_jobs2complete topic.
	Publisher       jobmsg.Publisher
	OutcomeTopicARN string
	// RetryBackoff is how long Zeebe waits before handing a failed job out
	// again. Zero means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// DeadlineMargin is how long before the Lambda deadline a still-running
	// handler is given up and its job failed; it must leave time to publish
	// that outcome. Zero means DefaultDeadlineMargin.
	DeadlineMargin time.Duration
	// Logger receives the JSON log lines. Nil means JSON at level Info on
	// stderr, which Lambda sends to CloudWatch.
	Logger *slog.Logger
	// Now is the clock that decides whether a job's deadline has passed.
	// Nil means time.Now; tests fix it.
	Now func() time.Time
	// DeadLetters, when set, takes a record that is not a job message (not
	// JSON, an unknown contract version) to the queue's DLQ at once, with
	// the reason; without it the record waits out the queue's visibility
	// timeout first. ConfigFromEnv sets it.
	DeadLetters DeadLetterer
	// Payloads, when set, reads job messages that point at S3 and offloads
	// outcomes above its threshold there (the claim-check pattern), instead
	// of failing those above SNS's 256 KiB. ConfigFromEnv sets it when
	// PAYLOAD_BUCKET names a bucket.
	Payloads claimcheck.Payloads
	// MaxVariablesBytes is the largest result Zeebe accepts as variables; a
	// larger one fails the job with retries 0. Zero means
	// DefaultMaxVariablesBytes.
	MaxVariablesBytes int
	// Events, when set, receives the records that are not job messages:
	// business events from other topics the function's queue subscribes to
	// (module zeebe-lambda's event_topics). A record without the
	// lambdaIdentifier attribute that every job message carries goes to it
	// unchanged; an error reports the record as a batch item failure, and the
	// queue's single receive then takes it to the DLQ (docs/runtimes.md,
	// "Business events"). Without it such records go to the DLQ at once.
	Events func(ctx context.Context, r events.SQSMessage) error
	// TracerProvider, when set, gives each job a span, child of the trace
	// context its message carries, in the handler's context, and passes it
	// on with the outcome (package tracing). ConfigFromEnv sets it from the
	// OTEL_ variables, the exporter's headers read from Secrets Manager when
	// OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN names a secret; nil records
	// nothing.
	TracerProvider trace.TracerProvider
}

// DeadLetterer moves an SQS record to its queue's DLQ at once, with the
// reason; *sqsretry.Queues is the real one.
type DeadLetterer interface {
	DeadLetter(ctx context.Context, r events.SQSMessage, reason string, cause sqsretry.Cause) error
}

// Defaults for Config and the environment.
const (
	DefaultRetryBackoff   = 5 * time.Second
	DefaultDeadlineMargin = 2 * time.Second
	// DefaultMaxVariablesBytes is Zeebe's default maximum message size (4 MB)
	// less room for the rest of the command.
	DefaultMaxVariablesBytes = 4*1024*1024 - 64*1024
)

// Environment variables read by ConfigFromEnv and Start.
const (
	// EnvOutcomeTopicARN (required) is the ARN of the zeebe_jobs2complete topic.
	EnvOutcomeTopicARN = envconfig.OutcomeTopicARN
	// EnvRetryBackoff is Config.RetryBackoff as a Go duration ("5s").
	EnvRetryBackoff = "RETRY_BACKOFF"
	// EnvDeadlineMargin is Config.DeadlineMargin as a Go duration ("2s").
	EnvDeadlineMargin = "DEADLINE_MARGIN"
	// EnvLogLevel set to "debug" turns on debug logging.
	EnvLogLevel = joblog.EnvLevel
	// EnvMaxVariablesBytes is Config.MaxVariablesBytes, for a cluster whose
	// maximum message size is not Zeebe's default.
	EnvMaxVariablesBytes = "ZEEBE_MAX_VARIABLES_BYTES"
)

// Option sets a default that Start and ConfigFromEnv use when the
// environment does not say otherwise. The environment wins so that an
// operator can tune a deployed function without rebuilding it.
type Option func(*Config)

// WithRetryBackoff sets the default backoff for failed jobs (RETRY_BACKOFF
// overrides it).
func WithRetryBackoff(d time.Duration) Option { return func(c *Config) { c.RetryBackoff = d } }

// WithDeadlineMargin sets the default deadline margin (DEADLINE_MARGIN
// overrides it). A handler that needs long to wind down wants a larger one.
func WithDeadlineMargin(d time.Duration) Option { return func(c *Config) { c.DeadlineMargin = d } }

// WithEvents hands the records that are not job messages to h (Config.Events):
// a function's queue may also carry business events from other topics.
func WithEvents(h func(ctx context.Context, r events.SQSMessage) error) Option {
	return func(c *Config) { c.Events = h }
}

// WithLogger makes lambdakit log to l; LOG_LEVEL is then ignored, since l
// has its own level.
func WithLogger(l *slog.Logger) Option { return func(c *Config) { c.Logger = l } }

// ConfigFromEnv builds the configuration Start uses: the outcome topic from
// ZEEBE_FULFILLER_SNS_ARN, RETRY_BACKOFF and DEADLINE_MARGIN as Go
// durations, LOG_LEVEL, and an SNS publisher from the AWS SDK's default
// configuration chain (which honours AWS_ENDPOINT_URL, for LocalStack).
// Errors name the variable at fault.
func ConfigFromEnv(ctx context.Context, getenv envconfig.Getenv, opts ...Option) (Config, error) {
	cfg := Config{RetryBackoff: DefaultRetryBackoff, DeadlineMargin: DefaultDeadlineMargin}
	for _, o := range opts {
		o(&cfg)
	}
	topic, err := getenv.OutcomeTopic()
	if err != nil {
		return Config{}, err
	}
	if cfg.RetryBackoff, err = getenv.Duration(EnvRetryBackoff, cfg.RetryBackoff); err != nil {
		return Config{}, err
	}
	if cfg.DeadlineMargin, err = getenv.Duration(EnvDeadlineMargin, cfg.DeadlineMargin); err != nil {
		return Config{}, err
	}
	if cfg.MaxVariablesBytes, err = getenv.Int(EnvMaxVariablesBytes, cfg.MaxVariablesBytes); err != nil {
		return Config{}, err
	}
	if cfg.Logger == nil {
		cfg.Logger = joblog.FromEnv(os.Stderr, getenv)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return Config{}, fmt.Errorf("load the AWS configuration (AWS_REGION, AWS_ENDPOINT_URL, credentials): %w", err)
	}
	if cfg.TracerProvider == nil {
		if cfg.TracerProvider, err = tracing.FromEnv(ctx, getenv, getenv("AWS_LAMBDA_FUNCTION_NAME"), secretsmanager.NewFromConfig(awsCfg)); err != nil {
			return Config{}, err
		}
	}
	cfg.Publisher = snspub.New(sns.NewFromConfig(awsCfg))
	cfg.DeadLetters = sqsretry.New(sqs.NewFromConfig(awsCfg))
	cfg.OutcomeTopicARN = topic
	payloads, err := claimcheck.FromEnv(getenv, awsCfg)
	if err != nil {
		return Config{}, err
	}
	if payloads != nil {
		cfg.Payloads = payloads
	}
	return cfg, nil
}

// Start reads the configuration from the environment (see ConfigFromEnv),
// wraps h with New and hands it to the Lambda runtime; it does not return.
// A configuration problem is printed to stderr as one line naming the
// variable, and the process exits with status 1, so the Lambda's init fails
// visibly instead of every job timing out.
func Start[In, Out any](h func(context.Context, In) (Out, error), opts ...Option) {
	handler, err := newFromEnv(context.Background(), os.Getenv, h, opts)
	if err != nil {
		// One line, even if a wrapped error spans several.
		fmt.Fprintln(os.Stderr, "lambdakit: "+strings.Join(strings.Fields(err.Error()), " "))
		os.Exit(1)
	}
	lambda.Start(handler)
}

func newFromEnv[In, Out any](ctx context.Context, getenv envconfig.Getenv, h func(context.Context, In) (Out, error), opts []Option) (*Handler, error) {
	cfg, err := ConfigFromEnv(ctx, getenv, opts...)
	if err != nil {
		return nil, err
	}
	return New(h, cfg)
}
