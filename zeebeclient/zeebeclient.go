// Package zeebeclient adapts the Zeebe Go client to the small interfaces the
// poller and the fulfiller declare, and builds it from the environment the
// way Camunda's clients do, with one addition for AWS: the OAuth client secret
// may be read from Secrets Manager at start (ZEEBE_CLIENT_SECRET_ARN).
//
// Errors returned by the command methods wrap the gRPC status of the gateway's
// answer, so callers classify them with status.Code, never by their text.
package zeebeclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"golang.org/x/oauth2"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envcfg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Environment variables read here in addition to the Zeebe client's own
// (ZEEBE_ADDRESS, ZEEBE_INSECURE_CONNECTION, ZEEBE_CA_CERTIFICATE_PATH, ...).
const (
	EnvClientID        = "ZEEBE_CLIENT_ID"
	EnvClientSecret    = "ZEEBE_CLIENT_SECRET"
	EnvClientSecretARN = "ZEEBE_CLIENT_SECRET_ARN"
	EnvAuthServerURL   = "ZEEBE_AUTHORIZATION_SERVER_URL"
	EnvTokenAudience   = "ZEEBE_TOKEN_AUDIENCE"
	EnvAddress         = "ZEEBE_ADDRESS"
)

// DefaultAddress is used when ZEEBE_ADDRESS is not set.
const DefaultAddress = "127.0.0.1:26500"

// SecretGetter reads a secret's string value; the AWS Secrets Manager client
// is adapted to it by SecretsManagerGetter.
type SecretGetter interface {
	GetSecret(ctx context.Context, arn string) (string, error)
}

// Client is a Zeebe client with the commands the bridge needs.
type Client struct {
	zb zbc.Client
}

// Wrap adapts an existing Zeebe client.
func Wrap(zb zbc.Client) *Client { return &Client{zb: zb} }

// Zeebe returns the underlying Zeebe client, for deploying and creating
// instances in tools and tests.
func (c *Client) Zeebe() zbc.Client { return c.zb }

// New builds a client from the environment. secrets may be nil when
// ZEEBE_CLIENT_SECRET_ARN is not used.
func New(ctx context.Context, getenv envcfg.Getenv, secrets SecretGetter) (*Client, error) {
	cfg := &zbc.ClientConfig{GatewayAddress: getenv.String(EnvAddress, DefaultAddress)}
	clientID := getenv(EnvClientID)
	secret := getenv(EnvClientSecret)
	if arn := getenv(EnvClientSecretARN); arn != "" && secret == "" {
		if secrets == nil {
			return nil, fmt.Errorf("%w %s: no Secrets Manager client available to read it", envcfg.ErrInvalid, EnvClientSecretARN)
		}
		v, err := secrets.GetSecret(ctx, arn)
		if err != nil {
			return nil, fmt.Errorf("read Zeebe client secret from %s=%s: %w", EnvClientSecretARN, arn, err)
		}
		secret = v
	}
	if clientID != "" || secret != "" {
		if clientID == "" {
			return nil, fmt.Errorf("%w %s: set it to the OAuth client id that goes with the client secret", envcfg.ErrMissing, EnvClientID)
		}
		if secret == "" {
			return nil, fmt.Errorf("%w %s: set it (or %s) to the OAuth client secret of %s", envcfg.ErrMissing, EnvClientSecret, EnvClientSecretARN, EnvClientID)
		}
		if getenv(EnvAuthServerURL) == "" {
			return nil, fmt.Errorf("%w %s: set it to the OAuth token URL, e.g. https://login.cloud.camunda.io/oauth/token", envcfg.ErrMissing, EnvAuthServerURL)
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
			return nil, fmt.Errorf("configure Zeebe OAuth: %w", err)
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
// An empty poll is not an error.
func (c *Client) ActivateJobs(ctx context.Context, jobType, worker string, max int32, timeout, requestTimeout time.Duration) ([]jobmsg.Job, error) {
	// The client derives the gateway's long-poll timeout from the context deadline.
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
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("activate %q jobs: %w", jobType, err)
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

// CompleteJob completes the job with the given variables (a JSON object, or empty).
func (c *Client) CompleteJob(ctx context.Context, key int64, vars json.RawMessage) error {
	step := c.zb.NewCompleteJobCommand().JobKey(key)
	if len(vars) > 0 {
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
	if len(vars) > 0 {
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
