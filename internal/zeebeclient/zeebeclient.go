// Package zeebeclient adapts the Zeebe Go client to the small interfaces the
// poller and the fulfiller declare, and builds it from the environment the
// way Camunda's clients do, with one addition for AWS: the OAuth client secret
// may be read from Secrets Manager at start (ZEEBE_CLIENT_SECRET_ARN).
//
// Errors returned by the command methods wrap the gRPC status of the gateway's
// answer, so callers classify them with status.Code, never by their text.
package zeebeclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"golang.org/x/oauth2"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Environment variables: the Zeebe client's own names, read through the
// given Getenv rather than the process environment so that configuration is
// explicit and testable, plus ZEEBE_CLIENT_SECRET_ARN for AWS.
const (
	EnvAddress         = "ZEEBE_ADDRESS"
	EnvInsecure        = "ZEEBE_INSECURE_CONNECTION"
	EnvCACertificate   = "ZEEBE_CA_CERTIFICATE_PATH"
	EnvClientID        = "ZEEBE_CLIENT_ID"
	EnvClientSecret    = "ZEEBE_CLIENT_SECRET"
	EnvClientSecretARN = "ZEEBE_CLIENT_SECRET_ARN"
	EnvAuthServerURL   = "ZEEBE_AUTHORIZATION_SERVER_URL"
	EnvTokenAudience   = "ZEEBE_TOKEN_AUDIENCE"
)

// DefaultAddress is used when ZEEBE_ADDRESS is not set: the Zeebe client's
// own default (zbc.DefaultAddressHost and DefaultAddressPort).
const DefaultAddress = zbc.DefaultAddressHost + ":" + zbc.DefaultAddressPort

// SecretGetter reads a secret's string value; the AWS Secrets Manager client
// is adapted to it by SecretsManagerGetter.
type SecretGetter interface {
	GetSecret(ctx context.Context, arn string) (string, error)
}

// Option configures New.
type Option func(*options)

type options struct {
	secrets SecretGetter
}

// WithSecrets sets where New reads ZEEBE_CLIENT_SECRET_ARN from. Without it
// a configuration naming ZEEBE_CLIENT_SECRET_ARN is an error.
func WithSecrets(s SecretGetter) Option { return func(o *options) { o.secrets = s } }

// Client is a Zeebe client with the commands the bridge needs.
type Client struct {
	zb zbc.Client
}

// Wrap adapts an existing Zeebe client.
func Wrap(zb zbc.Client) *Client { return &Client{zb: zb} }

// Zeebe returns the underlying Zeebe client, for deploying and creating
// instances in tools and tests.
func (c *Client) Zeebe() zbc.Client { return c.zb }

// New builds a client from the environment as read by getenv. A nil Option
// is ignored.
//
// Everything is passed to the Zeebe client as explicit configuration; nothing
// is written to the process environment. (Outside tests the Zeebe client also
// applies the process environment's ZEEBE_* variables over it; with getenv =
// os.Getenv, as in the mains, both agree.)
func New(ctx context.Context, getenv envconfig.Getenv, opts ...Option) (*Client, error) {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	cfg := &zbc.ClientConfig{
		GatewayAddress:    getenv.String(EnvAddress, DefaultAddress),
		CaCertificatePath: getenv(EnvCACertificate),
	}
	if v := getenv(EnvInsecure); v != "" {
		insecure, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%w %s=%q: want true (plaintext, for the local engine) or false (TLS)", envconfig.ErrInvalid, EnvInsecure, v)
		}
		cfg.UsePlaintextConnection = insecure
	}
	clientID := getenv(EnvClientID)
	secret := getenv(EnvClientSecret)
	if arn := getenv(EnvClientSecretARN); arn != "" && secret == "" {
		if clientID == "" { // say so before a network call to Secrets Manager
			return nil, fmt.Errorf("%w %s: set it to the OAuth client id whose secret %s names", envconfig.ErrMissing, EnvClientID, EnvClientSecretARN)
		}
		if o.secrets == nil {
			return nil, fmt.Errorf("%w %s: no Secrets Manager client available to read it", envconfig.ErrInvalid, EnvClientSecretARN)
		}
		v, err := o.secrets.GetSecret(ctx, arn)
		if err != nil {
			return nil, fmt.Errorf("read Zeebe client secret from %s=%s: %w", EnvClientSecretARN, arn, err)
		}
		secret = v
	}
	if clientID != "" || secret != "" {
		if clientID == "" {
			return nil, fmt.Errorf("%w %s: set it to the OAuth client id that goes with the client secret", envconfig.ErrMissing, EnvClientID)
		}
		if secret == "" {
			return nil, fmt.Errorf("%w %s: set it (or %s) to the OAuth client secret of %s", envconfig.ErrMissing, EnvClientSecret, EnvClientSecretARN, EnvClientID)
		}
		if getenv(EnvAuthServerURL) == "" {
			return nil, fmt.Errorf("%w %s: set it to the OAuth token URL, e.g. https://login.cloud.camunda.io/oauth/token", envconfig.ErrMissing, EnvAuthServerURL)
		}
		audience := getenv(EnvTokenAudience)
		if audience == "" {
			// As the Zeebe client does: the gateway's host name.
			if host, _, err := net.SplitHostPort(cfg.GatewayAddress); err == nil {
				audience = host
			}
		}
		provider, err := zbc.NewOAuthCredentialsProvider(&zbc.OAuthProviderConfig{
			ClientID:               clientID,
			ClientSecret:           secret,
			Audience:               audience,
			AuthorizationServerURL: getenv(EnvAuthServerURL),
			// Lambda's home directory is read-only: keep tokens in memory.
			Cache: &memoryCache{},
		})
		if err != nil {
			return nil, fmt.Errorf("configure Zeebe OAuth (%s, %s): %w", EnvClientID, EnvAuthServerURL, err)
		}
		cfg.CredentialsProvider = provider
	}
	zb, err := zbc.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("create Zeebe client for %s: %w", cfg.GatewayAddress, err)
	}
	return &Client{zb: zb}, nil
}

// Close closes the connection to the gateway.
func (c *Client) Close() error { return c.zb.Close() }

// ActivateJobs long-polls for up to max jobs of jobType. requestTimeout bounds
// the long poll; timeout is the job timeout Zeebe applies to what it hands out.
// An empty poll is not an error. When the stream breaks after some jobs
// arrived, it returns those jobs together with the error: they are activated,
// and the caller must publish them or hand them back.
func (c *Client) ActivateJobs(ctx context.Context, jobType, worker string, max int32, timeout, requestTimeout time.Duration) ([]jobmsg.Job, error) {
	// The Zeebe client asks the gateway to long-poll for 90% of the time to
	// the context's deadline, keeping the rest for the answer to arrive.
	pctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	jobs, err := c.zb.NewActivateJobsCommand().JobType(jobType).MaxJobsToActivate(max).
		Timeout(timeout).WorkerName(worker).Send(pctx)
	if err != nil && len(jobs) == 0 && ctx.Err() == nil && errors.Is(pctx.Err(), context.DeadlineExceeded) {
		return nil, nil // the long poll ended without jobs
	}
	out := make([]jobmsg.Job, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, convert(j))
	}
	if err != nil {
		return out, fmt.Errorf("activate %q jobs: %w", jobType, err)
	}
	return out, nil
}

func convert(j entities.Job) jobmsg.Job {
	headers := map[string]string{}
	if j.CustomHeaders != "" {
		// Headers that are not a string map cannot come from a BPMN model; keep what parses.
		_ = json.Unmarshal([]byte(j.CustomHeaders), &headers)
	}
	vars := json.RawMessage(j.Variables)
	if len(vars) == 0 {
		vars = json.RawMessage("{}")
	}
	return jobmsg.Job{
		Key:                      j.Key,
		Type:                     j.Type,
		ProcessInstanceKey:       j.ProcessInstanceKey,
		BPMNProcessID:            j.BpmnProcessId,
		ProcessDefinitionKey:     j.ProcessDefinitionKey,
		ProcessDefinitionVersion: j.ProcessDefinitionVersion,
		ElementID:                j.ElementId,
		ElementInstanceKey:       j.ElementInstanceKey,
		CustomHeaders:            headers,
		Worker:                   j.Worker,
		Retries:                  j.Retries,
		Deadline:                 j.Deadline,
		TenantID:                 j.TenantId,
		Variables:                vars,
	}
}

// CompleteJob completes the job with the given variables (a JSON object, or
// empty or null for none).
func (c *Client) CompleteJob(ctx context.Context, key int64, vars json.RawMessage) error {
	step := c.zb.NewCompleteJobCommand().JobKey(key)
	if hasVariables(vars) {
		cmd, err := step.VariablesFromString(string(vars))
		if err != nil {
			return fmt.Errorf("complete job %d: variables: %w", key, err)
		}
		_, err = cmd.Send(ctx)
		return wrap("complete", key, err)
	}
	_, err := step.Send(ctx)
	return wrap("complete", key, err)
}

// FailJob fails the job, leaving it the given retries; Zeebe makes it
// activatable again after backoff, or raises an incident at 0 retries.
func (c *Client) FailJob(ctx context.Context, key int64, retries int32, msg string, backoff time.Duration) error {
	_, err := c.zb.NewFailJobCommand().JobKey(key).Retries(retries).ErrorMessage(msg).RetryBackoff(backoff).Send(ctx)
	return wrap("fail", key, err)
}

// ThrowError throws a BPMN error from the job's element.
func (c *Client) ThrowError(ctx context.Context, key int64, code, msg string, vars json.RawMessage) error {
	step := c.zb.NewThrowErrorCommand().JobKey(key).ErrorCode(code).ErrorMessage(msg)
	if hasVariables(vars) {
		cmd, err := step.VariablesFromString(string(vars))
		if err != nil {
			return fmt.Errorf("throw error on job %d: variables: %w", key, err)
		}
		_, err = cmd.Send(ctx)
		return wrap("throw error on", key, err)
	}
	_, err := step.Send(ctx)
	return wrap("throw error on", key, err)
}

// UpdateJobTimeout sets the job's timeout, counted from now.
func (c *Client) UpdateJobTimeout(ctx context.Context, key int64, timeout time.Duration) error {
	_, err := c.zb.NewUpdateJobTimeoutCommand().JobKey(key).Timeout(timeout.Milliseconds()).Send(ctx)
	return wrap("update timeout of", key, err)
}

// hasVariables reports whether vars carries a document to send. JSON null
// means none: the gateway would reject "null" as not an object.
func hasVariables(vars json.RawMessage) bool {
	t := bytes.TrimSpace(vars)
	return len(t) > 0 && !bytes.Equal(t, []byte("null"))
}

func wrap(verb string, key int64, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s job %d: %w", verb, key, err)
}

// memoryCache keeps OAuth tokens for the life of the process.
type memoryCache struct {
	mu     sync.Mutex
	tokens map[string]*oauth2.Token
}

func (m *memoryCache) Get(audience string) *oauth2.Token {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tokens[audience]
}

func (m *memoryCache) Update(audience string, t *oauth2.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tokens == nil {
		m.tokens = map[string]*oauth2.Token{}
	}
	m.tokens[audience] = t
	return nil
}

func (m *memoryCache) Refresh() error { return nil }

// StreamJobs receives jobs of jobType by job push (StreamActivatedJobs) and
// hands each to jobs, until ctx ends (nil) or the stream fails. Every job it
// hands over is activated, with timeout as its job timeout, and belongs to
// the caller.
func (c *Client) StreamJobs(ctx context.Context, jobType, worker string, timeout time.Duration, jobs chan<- jobmsg.Job) error {
	raw := make(chan entities.Job)
	done := make(chan error, 1)
	go func() {
		done <- c.zb.NewStreamJobsCommand().JobType(jobType).Consumer(raw).Timeout(timeout).WorkerName(worker).Send(ctx)
		close(raw)
	}()
	for j := range raw {
		// Never dropped, even after ctx ended: the job is activated already.
		jobs <- convert(j)
	}
	err := <-done
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("stream %q jobs: %w", jobType, err)
	}
	return nil
}
