package poller

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/activation"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/filterpolicy"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/snspub"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/tracing"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Service is a poller wired to the real Zeebe client and SNS, as both mains use it.
type Service struct {
	Config    Config
	Zeebe     *zeebeclient.Client
	Publisher jobmsg.Publisher
	Router    Router               // nil: publish every job without checking its route
	Signer    Signer               // nil: publish jobs unsigned
	Payloads  claimcheck.Offloader // nil: fail jobs above SNS's limit
	Tracing   tracing.Provider     // nil: no spans
	Recorder  Recorder             // nil: activations not recorded (the activation guard is off)
	Log       *slog.Logger
}

// FromEnv configures a Service from the environment: the poller's variables
// (ConfigFromEnv), the Zeebe client's (ZEEBE_ADDRESS, ZEEBE_CLIENT_ID, ...) and
// the AWS SDK's default chain.
func FromEnv(ctx context.Context, getenv envconfig.Getenv) (*Service, error) {
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	log := joblog.FromEnv(os.Stderr, getenv)
	zb, err := zeebeclient.NewFromAWS(ctx, getenv, awsCfg, zeebeclient.WithLogger(log))
	if err != nil {
		return nil, err
	}
	snsClient := sns.NewFromConfig(awsCfg)
	svc := &Service{
		Config:    cfg,
		Zeebe:     zb,
		Publisher: snspub.New(snsClient),
		Router:    filterpolicy.New(snsClient, cfg.TopicARN, jobmsg.AttrLambdaIdentifier),
		Log:       log,
	}
	if svc.Tracing, err = tracing.FromEnv(ctx, getenv, "zeebe-poller", secretsmanager.NewFromConfig(awsCfg)); err != nil {
		return nil, err
	}
	payloads, err := claimcheck.FromEnv(getenv, awsCfg)
	if err != nil {
		return nil, err
	}
	if payloads != nil {
		svc.Payloads = payloads
	}
	if guard := activation.FromEnv(getenv, awsCfg); guard != nil {
		svc.Recorder = guard
	}
	if keys := jobtoken.KeysFromEnv(getenv, secretsmanager.NewFromConfig(awsCfg)); keys != nil {
		svc.Signer = jobtoken.Signer{Keys: keys}
	} else {
		svc.Log.Warn("job tokens are off: " + jobtoken.EnvSecretARN + " is not set, so job messages go out unsigned")
	}
	return svc, nil
}

// Run runs the poller loop once, until ctx's deadline less the safety margin.
func (s *Service) Run(ctx context.Context) (Stats, error) {
	// Lambda freezes the process when the run returns: export its spans first.
	defer tracing.Flush(context.WithoutCancel(ctx), s.Tracing)
	// With X-Ray active tracing, the jobs' traces join the invocation's.
	ctx = tracing.FromInvocation(ctx)
	return Run(ctx, s.Config, s.Zeebe, s.Publisher, s.Log, s.options()...)
}

// options are the Service's optional collaborators.
func (s *Service) options() []Option {
	var opts []Option
	if s.Router != nil {
		opts = append(opts, WithRouter(s.Router))
	}
	if s.Signer != nil {
		opts = append(opts, WithSigner(s.Signer))
	}
	if s.Payloads != nil {
		opts = append(opts, WithPayloads(s.Payloads))
	}
	if s.Tracing != nil {
		opts = append(opts, WithTracing(s.Tracing))
	}
	if s.Recorder != nil {
		opts = append(opts, WithActivations(s.Recorder))
	}
	return opts
}

// RunPush runs the long-lived poller with job push until ctx is cancelled
// (see package-level RunPush).
func (s *Service) RunPush(ctx context.Context) Stats {
	return RunPush(ctx, s.Config, s.Zeebe, s.Zeebe, s.Publisher, s.Log, s.options()...)
}

// Close releases the Zeebe connection.
func (s *Service) Close() error {
	if s.Tracing != nil {
		_ = s.Tracing.Shutdown(context.Background()) // exports what is left
	}
	return s.Zeebe.Close()
}
