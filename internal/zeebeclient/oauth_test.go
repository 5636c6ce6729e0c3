package zeebeclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// tokenEndpoint is a local OAuth token endpoint: it records every form it
// receives and issues "tok-<secret>-<n>" to the secrets it accepts.
type tokenEndpoint struct {
	*httptest.Server
	mu       sync.Mutex
	forms    []url.Values
	accepted map[string]bool // nil: every secret
}

func newTokenEndpoint(t *testing.T) *tokenEndpoint {
	t.Helper()
	te := &tokenEndpoint{}
	te.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		te.mu.Lock()
		te.forms = append(te.forms, r.PostForm)
		n := len(te.forms)
		ok := te.accepted == nil || te.accepted[r.PostForm.Get("client_secret")]
		te.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"Unauthorized"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": fmt.Sprintf("tok-%s-%d", r.PostForm.Get("client_secret"), n),
			"token_type":   "Bearer",
			"expires_in":   3600,
		})
	}))
	t.Cleanup(te.Close)
	return te
}

func (te *tokenEndpoint) accept(secrets ...string) {
	te.mu.Lock()
	defer te.mu.Unlock()
	te.accepted = map[string]bool{}
	for _, s := range secrets {
		te.accepted[s] = true
	}
}

func (te *tokenEndpoint) requests() []url.Values {
	te.mu.Lock()
	defer te.mu.Unlock()
	return append([]url.Values(nil), te.forms...)
}

// fakeGateway answers CompleteJob, ActivateJobs and StreamActivatedJobs behind
// an interceptor that refuses (UNAUTHENTICATED) every token not issued for the
// good secret; it records the calls that reached it and the tenant ids asked for.
type fakeGateway struct {
	pb.UnimplementedGatewayServer
	addr string

	mu      sync.Mutex
	open    bool   // no credentials configured: calls without a token pass
	good    string // tokens "tok-<good>-..." pass; "" lets every token pass
	calls   int    // calls that reached the interceptor
	refused int
	tenants [][]string
}

func newFakeGateway(t *testing.T, good string) *fakeGateway {
	t.Helper()
	g := &fakeGateway{good: good}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpc.NewServer(
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := g.check(ctx); err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if err := g.check(ss.Context()); err != nil {
				return err
			}
			return h(srv, ss)
		}))
	pb.RegisterGatewayServer(s, g)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	g.addr = lis.Addr().String()
	return g
}

func (g *fakeGateway) check(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	if g.open {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	auth := md.Get("authorization")
	if len(auth) == 1 && (g.good == "" || strings.HasPrefix(auth[0], "Bearer tok-"+g.good+"-")) {
		return nil
	}
	g.refused++
	return status.Error(codes.Unauthenticated, "token not accepted")
}

func (g *fakeGateway) counts() (calls, refused int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls, g.refused
}

func (g *fakeGateway) CompleteJob(context.Context, *pb.CompleteJobRequest) (*pb.CompleteJobResponse, error) {
	return &pb.CompleteJobResponse{}, nil
}

func (g *fakeGateway) ActivateJobs(r *pb.ActivateJobsRequest, s pb.Gateway_ActivateJobsServer) error {
	g.mu.Lock()
	g.tenants = append(g.tenants, r.GetTenantIds())
	g.mu.Unlock()
	return s.Send(&pb.ActivateJobsResponse{Jobs: []*pb.ActivatedJob{{Key: 42, Type: r.GetType(), TenantId: "<default>"}}})
}

func (g *fakeGateway) StreamActivatedJobs(r *pb.StreamActivatedJobsRequest, s pb.Gateway_StreamActivatedJobsServer) error {
	g.mu.Lock()
	g.tenants = append(g.tenants, r.GetTenantIds())
	g.mu.Unlock()
	if err := s.Send(&pb.ActivatedJob{Key: 43, Type: r.GetType(), TenantId: "<default>"}); err != nil {
		return err
	}
	<-s.Context().Done()
	return nil
}

// rotatingSecrets is a Secrets Manager whose value the test rotates.
type rotatingSecrets struct {
	mu    sync.Mutex
	val   string
	reads int
}

func (r *rotatingSecrets) GetSecret(context.Context, string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads++
	return r.val, nil
}

func (r *rotatingSecrets) rotate(v string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.val = v
}

func (r *rotatingSecrets) readCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reads
}

// fakeClock is the clock of the secret's re-read throttle.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func oauthEnv(gw *fakeGateway, te *tokenEndpoint, extra map[string]string) envconfig.Getenv {
	env := map[string]string{
		"ZEEBE_ADDRESS":                  gw.addr,
		"ZEEBE_INSECURE_CONNECTION":      "true",
		"ZEEBE_CLIENT_ID":                "bridge",
		"ZEEBE_CLIENT_SECRET_ARN":        "arn:aws:secretsmanager:eu-central-1:000000000000:secret:zeebe",
		"ZEEBE_AUTHORIZATION_SERVER_URL": te.URL + "/oauth/token",
	}
	for k, v := range extra {
		env[k] = v
	}
	return envconfig.Map(env)
}

// The token request carries the client's id and secret, the audience and the
// scope in the form, as Camunda's clients send them.
func TestTokenRequestCarriesAudienceAndScope(t *testing.T) {
	tests := []struct {
		name         string
		env          map[string]string
		wantAudience string
		wantScope    string // "" = no scope field
	}{
		{name: "audience and scope set", env: map[string]string{"ZEEBE_TOKEN_AUDIENCE": "zeebe.camunda.io", "ZEEBE_TOKEN_SCOPE": "api://zeebe/.default"},
			wantAudience: "zeebe.camunda.io", wantScope: "api://zeebe/.default"},
		{name: "audience unset: the gateway host", env: map[string]string{}, wantAudience: "127.0.0.1"},
		{name: "secret from the environment", env: map[string]string{"ZEEBE_CLIENT_SECRET": "env-secret", "ZEEBE_TOKEN_SCOPE": "Zeebe"},
			wantAudience: "127.0.0.1", wantScope: "Zeebe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTokenEndpoint(t)
			gw := newFakeGateway(t, "")
			store := &rotatingSecrets{val: "sm-secret"}
			c, err := zeebeclient.New(context.Background(), oauthEnv(gw, te, tt.env), zeebeclient.WithSecrets(store))
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.CompleteJob(context.Background(), 1, nil))

			forms := te.requests()
			require.Len(t, forms, 1, "one token for the call")
			f := forms[0]
			assert.Equal(t, "client_credentials", f.Get("grant_type"))
			assert.Equal(t, "bridge", f.Get("client_id"))
			wantSecret := tt.env["ZEEBE_CLIENT_SECRET"]
			if wantSecret == "" {
				wantSecret = "sm-secret"
			}
			assert.Equal(t, wantSecret, f.Get("client_secret"))
			assert.Equal(t, []string{tt.wantAudience}, f["audience"])
			if tt.wantScope == "" {
				assert.NotContains(t, f, "scope")
			} else {
				assert.Equal(t, []string{tt.wantScope}, f["scope"])
			}
		})
	}
}

// A rotated secret is picked up in the same process: the first call fails
// with the old secret (the secret was read at start, less than the re-read
// interval ago), the secret is rotated, and the next call re-reads it once
// and succeeds. Both ways a rotation shows: the gateway refusing the old
// secret's tokens, and the token endpoint refusing the old secret.
func TestRotatedSecretIsPickedUpAfterAnAuthenticationFailure(t *testing.T) {
	tests := []struct {
		name string
		// set up who refuses the old secret
		setup func(te *tokenEndpoint) (gatewayGood string)
		// call is the command under test
		call func(ctx context.Context, c *zeebeclient.Client) error
	}{
		{name: "gateway refuses the old secret's tokens; complete",
			setup: func(*tokenEndpoint) string { return "new" },
			call:  func(ctx context.Context, c *zeebeclient.Client) error { return c.CompleteJob(ctx, 1, nil) }},
		{name: "gateway refuses the old secret's tokens; activate",
			setup: func(*tokenEndpoint) string { return "new" },
			call:  activateOneJob},
		{name: "gateway refuses the old secret's tokens; job push stream",
			setup: func(*tokenEndpoint) string { return "new" },
			call:  streamOneJob},
		{name: "token endpoint refuses the old secret; complete",
			setup: func(te *tokenEndpoint) string { te.accept("new"); return "" },
			call:  func(ctx context.Context, c *zeebeclient.Client) error { return c.CompleteJob(ctx, 1, nil) }},
		{name: "token endpoint refuses the old secret; activate",
			setup: func(te *tokenEndpoint) string { te.accept("new"); return "" },
			call:  activateOneJob},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTokenEndpoint(t)
			gw := newFakeGateway(t, tt.setup(te))
			store := &rotatingSecrets{val: "old"}
			clock := &fakeClock{now: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)}
			c, err := zeebeclient.New(context.Background(), oauthEnv(gw, te, nil),
				zeebeclient.WithSecrets(store), zeebeclient.WithSecretReread(30*time.Second, clock.Now))
			require.NoError(t, err)
			defer c.Close()
			require.Equal(t, 1, store.readCount(), "read once at start")

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = tt.call(ctx, c)
			require.Error(t, err, "the old secret is refused")
			assert.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
			assert.True(t, zeebeclient.IsCredentials(err))
			assert.Equal(t, 1, store.readCount(), "no re-read within 30s of the last read")

			store.rotate("new")
			clock.Advance(31 * time.Second)
			require.NoError(t, tt.call(ctx, c), "the rotated secret is used without a new process")
			assert.Equal(t, 2, store.readCount(), "exactly one re-read")
			forms := te.requests()
			assert.Equal(t, "new", forms[len(forms)-1].Get("client_secret"))

			// The token is kept: later calls neither re-read nor fetch.
			before := len(forms)
			require.NoError(t, tt.call(ctx, c))
			assert.Equal(t, 2, store.readCount())
			assert.Len(t, te.requests(), before)
		})
	}
}

func activateOneJob(ctx context.Context, c *zeebeclient.Client) error {
	jobs, err := c.ActivateJobs(ctx, "lambda", "it", 1, time.Minute, 5*time.Second)
	if err != nil {
		return err
	}
	if len(jobs) != 1 || jobs[0].Key != 42 {
		return fmt.Errorf("activated %v, want job 42", jobs)
	}
	return nil
}

// streamOneJob opens the job push stream and ends it after the first job.
func streamOneJob(ctx context.Context, c *zeebeclient.Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan jobmsg.Job)
	done := make(chan error, 1)
	go func() { done <- c.StreamJobs(ctx, "lambda", "it", time.Minute, jobs) }()
	select {
	case j := <-jobs:
		cancel()
		go func() {
			for range jobs { // drain until StreamJobs returns
			}
		}()
		if err := <-done; err != nil {
			return err
		}
		close(jobs)
		if j.Key != 43 {
			return fmt.Errorf("streamed job %d, want 43", j.Key)
		}
		return nil
	case err := <-done:
		if err == nil {
			return fmt.Errorf("stream ended without a job")
		}
		return err
	}
}

// When the secret was rotated longer than the re-read interval ago, the very
// call that meets the refusal re-reads it and retries once: it succeeds.
func TestRefusedCallRetriesOnceWithTheRotatedSecret(t *testing.T) {
	te := newTokenEndpoint(t)
	gw := newFakeGateway(t, "new")
	store := &rotatingSecrets{val: "old"}
	clock := &fakeClock{now: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)}
	var logs bytes.Buffer
	c, err := zeebeclient.New(context.Background(), oauthEnv(gw, te, nil),
		zeebeclient.WithSecrets(store), zeebeclient.WithSecretReread(30*time.Second, clock.Now),
		zeebeclient.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	defer c.Close()

	store.rotate("new")
	clock.Advance(time.Hour)
	require.NoError(t, c.CompleteJob(context.Background(), 1, nil))
	calls, refused := gw.counts()
	assert.Equal(t, 2, calls, "the refused call and its one retry")
	assert.Equal(t, 1, refused)
	assert.Equal(t, 2, store.readCount())
	assert.Contains(t, logs.String(), "using the rotated client secret from Secrets Manager")
}

// A gateway that refuses every token costs one retry per call, not a loop,
// and Secrets Manager is read at most once per interval however many calls
// fail.
func TestRefusalsAreBounded(t *testing.T) {
	te := newTokenEndpoint(t)
	gw := newFakeGateway(t, "nobody-has-this")
	store := &rotatingSecrets{val: "old"}
	clock := &fakeClock{now: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)}
	c, err := zeebeclient.New(context.Background(), oauthEnv(gw, te, nil),
		zeebeclient.WithSecrets(store), zeebeclient.WithSecretReread(30*time.Second, clock.Now))
	require.NoError(t, err)
	defer c.Close()

	clock.Advance(time.Minute)
	for range 3 {
		err := c.CompleteJob(context.Background(), 1, nil)
		assert.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
	}
	calls, refused := gw.counts()
	assert.Equal(t, 6, calls, "each call sent twice")
	assert.Equal(t, 6, refused)
	assert.Equal(t, 2, store.readCount(), "start, then one re-read in the interval")
}

// ZEEBE_DEFAULT_JOB_WORKER_TENANT_IDS reaches both ways of activating jobs;
// unset, no tenant is named and the gateway serves its default tenant.
func TestTenantIDs(t *testing.T) {
	tests := []struct {
		name string
		env  string
		want []string
	}{
		{"unset", "", nil},
		{"one", "tenant-a", []string{"tenant-a"}},
		{"several, spaces trimmed", " tenant-a, tenant-b ,,<default>", []string{"tenant-a", "tenant-b", "<default>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := newFakeGateway(t, "")
			gw.mu.Lock()
			gw.open = true
			gw.mu.Unlock()
			c, err := zeebeclient.New(context.Background(), envconfig.Map(map[string]string{
				"ZEEBE_ADDRESS": gw.addr, "ZEEBE_INSECURE_CONNECTION": "true",
				"ZEEBE_DEFAULT_JOB_WORKER_TENANT_IDS": tt.env,
			}))
			require.NoError(t, err)
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, activateOneJob(ctx, c))
			require.NoError(t, streamOneJob(ctx, c))
			gw.mu.Lock()
			defer gw.mu.Unlock()
			require.Len(t, gw.tenants, 2)
			for _, got := range gw.tenants {
				if tt.want == nil {
					assert.Empty(t, got)
				} else {
					assert.Equal(t, tt.want, got)
				}
			}
		})
	}
}
