// Package zeebeclient adapts the Zeebe Go client to the small interfaces the
// poller and the fulfiller declare, and builds it from the environment the
// way Camunda's clients do, with one addition for AWS: the OAuth client secret
// may be read from Secrets Manager (ZEEBE_CLIENT_SECRET_ARN), at start and
// again when Zeebe or the token endpoint refuses the credentials, so that a
// rotated secret is picked up without a new process.
//
// Errors returned by the command methods wrap the gRPC status of the gateway's
// answer, so callers classify them with status.Code, never by their text.
package zeebeclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Environment variables: the Zeebe client's own names, read through the
// given Getenv rather than the process environment so that configuration is
// explicit and testable, plus ZEEBE_CLIENT_SECRET_ARN and
// ZEEBE_CA_CERTIFICATE_PEM for Lambda. README.md's Configuration section
// lists them with their defaults (a test keeps it complete).
const (
	EnvAddress       = "ZEEBE_ADDRESS"
	EnvInsecure      = "ZEEBE_INSECURE_CONNECTION"
	EnvCACertificate = "ZEEBE_CA_CERTIFICATE_PATH"
	// EnvCACertificatePEM holds the CA certificate itself, PEM-encoded: a
	// Lambda's package has no room for a file the operator chooses, its
	// environment does (module variable zeebe_ca_certificate_pem).
	EnvCACertificatePEM = "ZEEBE_CA_CERTIFICATE_PEM"
	EnvClientID         = "ZEEBE_CLIENT_ID"
	EnvClientSecret     = "ZEEBE_CLIENT_SECRET"
	EnvClientSecretARN  = "ZEEBE_CLIENT_SECRET_ARN"
	EnvAuthServerURL    = "ZEEBE_AUTHORIZATION_SERVER_URL"
	EnvTokenAudience    = "ZEEBE_TOKEN_AUDIENCE"
	EnvTokenScope       = "ZEEBE_TOKEN_SCOPE"
	// EnvTenantIDs names the tenants whose jobs are activated, comma
	// separated: the Zeebe Java client's name for its job workers' default.
	EnvTenantIDs = "ZEEBE_DEFAULT_JOB_WORKER_TENANT_IDS"
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
	log     *slog.Logger
	now     func() time.Time
	reread  time.Duration
	certDir string
}

// WithCertificateDir sets where the certificate of ZEEBE_CA_CERTIFICATE_PEM
// is written for the Zeebe client, which reads its CA from a file; without
// it, os.TempDir() (/tmp, the one writable place in a Lambda).
func WithCertificateDir(dir string) Option { return func(o *options) { o.certDir = dir } }

// WithSecrets sets where New reads ZEEBE_CLIENT_SECRET_ARN from. Without it
// a configuration naming ZEEBE_CLIENT_SECRET_ARN is an error.
func WithSecrets(s SecretGetter) Option { return func(o *options) { o.secrets = s } }

// WithLogger sets where the credentials provider logs refused credentials
// and secret re-reads; without it, slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithSecretReread sets how often at most the secret is read again after a
// refusal, and the clock that measures it (nil: time.Now); tests shorten
// it. Without it, DefaultSecretRereadInterval.
func WithSecretReread(every time.Duration, now func() time.Time) Option {
	return func(o *options) { o.reread, o.now = every, now }
}

// Client is a Zeebe client with the commands the bridge needs.
type Client struct {
	zb      zbc.Client
	tenants []string // nil: the gateway's default tenant
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
	caPath, err := caCertificatePath(getenv, o.certDir)
	if err != nil {
		return nil, err
	}
	cfg := &zbc.ClientConfig{
		GatewayAddress:    getenv.String(EnvAddress, DefaultAddress),
		CaCertificatePath: caPath,
	}
	if v := getenv(EnvInsecure); v != "" {
		insecure, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%w %s=%q: want true (plaintext, for the local engine) or false (TLS)", envconfig.ErrInvalid, EnvInsecure, v)
		}
		cfg.UsePlaintextConnection = insecure
	}
	provider, err := newProvider(ctx, getenv, cfg.GatewayAddress, o)
	if err != nil {
		return nil, err
	}
	if provider != nil {
		cfg.CredentialsProvider = provider
	}
	tenants := tenantIDs(getenv(EnvTenantIDs))
	zb, err := zbc.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("create Zeebe client for %s: %w", cfg.GatewayAddress, err)
	}
	return &Client{zb: zb, tenants: tenants}, nil
}

// caCertificatePath is the file the Zeebe client reads its CA from:
// ZEEBE_CA_CERTIFICATE_PATH, or ZEEBE_CA_CERTIFICATE_PEM written to dir under
// a name of its content, so that a restart rewrites the same file.
func caCertificatePath(getenv envconfig.Getenv, dir string) (string, error) {
	path, pemText := getenv(EnvCACertificate), getenv(EnvCACertificatePEM)
	if pemText == "" {
		return path, nil
	}
	if path != "" {
		return "", fmt.Errorf("%w %s and %s are both set: set one, the certificate or the file holding it", envconfig.ErrInvalid, EnvCACertificatePEM, EnvCACertificate)
	}
	if !x509.NewCertPool().AppendCertsFromPEM([]byte(pemText)) {
		return "", fmt.Errorf("%w %s: want the PEM of the CA certificate that signed the gateway's (a -----BEGIN CERTIFICATE----- block)", envconfig.ErrInvalid, EnvCACertificatePEM)
	}
	if dir == "" {
		dir = os.TempDir()
	}
	sum := sha256.Sum256([]byte(pemText))
	name := filepath.Join(dir, "zeebe-ca-"+hex.EncodeToString(sum[:8])+".pem")
	// Written beside and renamed, so that a reader never sees half of it.
	f, err := os.CreateTemp(dir, "zeebe-ca-*.tmp")
	if err != nil {
		return "", fmt.Errorf("write %s to a file for the Zeebe client: %w", EnvCACertificatePEM, err)
	}
	_, werr := f.WriteString(pemText)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("write %s to %s: %w", EnvCACertificatePEM, f.Name(), err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("write %s to %s: %w", EnvCACertificatePEM, name, err)
	}
	return name, nil
}

// newProvider builds the OAuth credentials provider when a client id or
// secret is configured, nil when none is (the local engine, plaintext).
func newProvider(ctx context.Context, getenv envconfig.Getenv, address string, o options) (*oauthProvider, error) {
	clientID := getenv(EnvClientID)
	secret := getenv(EnvClientSecret)
	arn := getenv(EnvClientSecretARN)
	if secret != "" {
		arn = "" // a secret in the environment wins; it cannot be re-read
	}
	if arn != "" {
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
	if clientID == "" && secret == "" {
		return nil, nil
	}
	if clientID == "" {
		return nil, fmt.Errorf("%w %s: set it to the OAuth client id that goes with the client secret", envconfig.ErrMissing, EnvClientID)
	}
	if secret == "" {
		return nil, fmt.Errorf("%w %s: set it (or %s) to the OAuth client secret of %s", envconfig.ErrMissing, EnvClientSecret, EnvClientSecretARN, EnvClientID)
	}
	tokenURL := getenv(EnvAuthServerURL)
	if tokenURL == "" && IsSaaSAddress(address) {
		tokenURL = SaaSAuthServerURL
	}
	if tokenURL == "" {
		return nil, fmt.Errorf("%w %s: set it to the OAuth token URL of your identity provider (the default, %s, is for Camunda 8 SaaS gateways only)", envconfig.ErrMissing, EnvAuthServerURL, SaaSAuthServerURL)
	}
	if u, err := url.Parse(tokenURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w %s=%q: want the token endpoint's http(s) URL", envconfig.ErrInvalid, EnvAuthServerURL, tokenURL)
	}
	now := o.now
	if now == nil {
		now = time.Now
	}
	log := o.log
	if log == nil {
		log = slog.Default()
	}
	reread := o.reread
	if reread <= 0 {
		reread = DefaultSecretRereadInterval
	}
	p := &oauthProvider{
		clientID: clientID,
		audience: Audience(getenv(EnvTokenAudience), address),
		scope:    getenv(EnvTokenScope),
		tokenURL: tokenURL,
		http:     &http.Client{Transport: userAgent{next: http.DefaultTransport}},
		log:      log,
		now:      now,
		reread:   reread,
		secret:   secret,
	}
	if arn != "" {
		p.secrets, p.secretARN, p.lastRead = o.secrets, arn, now()
	}
	return p, nil
}

// SaaSAudience is the token audience of Camunda 8 SaaS gateways, as the
// Console's API client screen shows it (ZEEBE_TOKEN_AUDIENCE).
const SaaSAudience = "zeebe.camunda.io"

// SaaSAuthServerURL is Camunda 8 SaaS's token endpoint, as the Console's API
// client screen shows it (ZEEBE_AUTHORIZATION_SERVER_URL).
const SaaSAuthServerURL = "https://login.cloud.camunda.io/oauth/token"

// IsSaaSAddress reports whether a gateway address (host:port) is a Camunda 8
// SaaS cluster, <cluster id>.<region>.zeebe.camunda.io.
func IsSaaSAddress(address string) bool {
	h := strings.ToLower(strings.TrimSuffix(hostOf(address), "."))
	return h == SaaSAudience || strings.HasSuffix(h, "."+SaaSAudience)
}

// Audience is the token audience New asks for: ZEEBE_TOKEN_AUDIENCE when set;
// else zeebe.camunda.io for a SaaS gateway, as SaaS credentials name it; else
// the gateway's host name, as the Zeebe client does.
func Audience(configured, address string) string {
	switch {
	case configured != "":
		return configured
	case IsSaaSAddress(address):
		return SaaSAudience
	default:
		return hostOf(address)
	}
}

func hostOf(address string) string {
	if host, _, err := net.SplitHostPort(address); err == nil {
		return host
	}
	return address
}

// tenantIDs splits ZEEBE_DEFAULT_JOB_WORKER_TENANT_IDS; none means the
// gateway's default tenant.
func tenantIDs(v string) []string {
	var out []string
	for _, t := range strings.Split(v, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
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
	cmd := c.zb.NewActivateJobsCommand().JobType(jobType).MaxJobsToActivate(max).
		Timeout(timeout).WorkerName(worker)
	if len(c.tenants) > 0 {
		cmd = cmd.TenantIds(c.tenants...)
	}
	jobs, err := cmd.Send(withRetryBudget(pctx))
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
		obj, err := objectVariables(vars)
		if err != nil {
			return fmt.Errorf("complete job %d: variables: %w", key, err)
		}
		cmd, err := step.VariablesFromObject(obj)
		if err != nil {
			return fmt.Errorf("complete job %d: variables: %w", key, err)
		}
		_, err = cmd.Send(withRetryBudget(ctx))
		return wrap("complete", key, err)
	}
	_, err := step.Send(withRetryBudget(ctx))
	return wrap("complete", key, err)
}

// FailJob fails the job, leaving it the given retries; Zeebe makes it
// activatable again after backoff, or raises an incident at 0 retries.
func (c *Client) FailJob(ctx context.Context, key int64, retries int32, msg string, backoff time.Duration) error {
	_, err := c.zb.NewFailJobCommand().JobKey(key).Retries(retries).ErrorMessage(msg).RetryBackoff(backoff).Send(withRetryBudget(ctx))
	return wrap("fail", key, err)
}

// ThrowError throws a BPMN error from the job's element.
func (c *Client) ThrowError(ctx context.Context, key int64, code, msg string, vars json.RawMessage) error {
	step := c.zb.NewThrowErrorCommand().JobKey(key).ErrorCode(code).ErrorMessage(msg)
	if hasVariables(vars) {
		obj, err := objectVariables(vars)
		if err != nil {
			return fmt.Errorf("throw error on job %d: variables: %w", key, err)
		}
		cmd, err := step.VariablesFromObject(obj)
		if err != nil {
			return fmt.Errorf("throw error on job %d: variables: %w", key, err)
		}
		_, err = cmd.Send(withRetryBudget(ctx))
		return wrap("throw error on", key, err)
	}
	_, err := step.Send(withRetryBudget(ctx))
	return wrap("throw error on", key, err)
}

// UpdateJobTimeout sets the job's timeout, counted from now.
func (c *Client) UpdateJobTimeout(ctx context.Context, key int64, timeout time.Duration) error {
	_, err := c.zb.NewUpdateJobTimeoutCommand().JobKey(key).Timeout(timeout.Milliseconds()).Send(withRetryBudget(ctx))
	return wrap("update timeout of", key, err)
}

// ErrNotAnObject: the variables of a command are not a JSON object, which
// Zeebe requires.
var ErrNotAnObject = errors.New("not a JSON object")

// objectVariables returns vars for the client's VariablesFromObject, which
// sends them as they are (compacted). The client's VariablesFromString
// would decode them whole into a map only to check that they are an object:
// for 4 MiB of variables, tens of MiB the fulfiller cannot spare
// (docs/design.md, "Trust and size"). The scanner checks the same here.
func objectVariables(vars json.RawMessage) (json.RawMessage, error) {
	t := bytes.TrimLeft(vars, " \t\r\n")
	if len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return nil, fmt.Errorf("%w: %.40q", ErrNotAnObject, vars)
	}
	return t, nil
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

// StreamJobs receives jobs of jobType by job push (StreamActivatedJobs) and
// hands each to jobs, until ctx ends (nil) or the stream fails. Every job it
// hands over is activated, with timeout as its job timeout, and belongs to
// the caller.
func (c *Client) StreamJobs(ctx context.Context, jobType, worker string, timeout time.Duration, jobs chan<- jobmsg.Job) error {
	raw := make(chan entities.Job)
	done := make(chan error, 1)
	go func() {
		cmd := c.zb.NewStreamJobsCommand().JobType(jobType).Consumer(raw).Timeout(timeout).WorkerName(worker)
		if len(c.tenants) > 0 {
			cmd = cmd.TenantIds(c.tenants...)
		}
		done <- cmd.Send(withRetryBudget(ctx))
		close(raw)
	}()
	for j := range raw {
		if j.ActivatedJob == nil {
			// The v8.5 client hands on an empty job after it reopened the
			// stream for new credentials; it is no job.
			continue
		}
		// Never dropped, even after ctx ended: the job is activated already.
		jobs <- convert(j)
	}
	err := <-done
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("stream %q jobs: %w", jobType, err)
	}
	return nil
}
