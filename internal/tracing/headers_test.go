package tracing_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/tracing"
)

const headersARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:otlp-headers-AbCdEf"

// fakeSecretsManager answers GetSecretValue with a fixed value or error and
// counts the reads.
type fakeSecretsManager struct {
	mu    sync.Mutex
	reads []string
	value *string
	err   error
}

func (f *fakeSecretsManager) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads = append(f.reads, aws.ToString(in.SecretId))
	if f.err != nil {
		return nil, f.err
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: f.value}, nil
}

// receiver is an OTLP/HTTP collector: what each export carried.
type receiver struct {
	mu      sync.Mutex
	paths   []string
	headers []http.Header
	spans   []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var export coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &export); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.paths = append(r.paths, req.URL.Path)
	r.headers = append(r.headers, req.Header.Clone())
	for _, rs := range export.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				r.spans = append(r.spans, s.Name)
			}
		}
	}
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(nil)
}

// TestHeadersFromSecretsManager: the headers in the secret reach the
// collector with every export, beside the plain ones, and win over them.
func TestHeadersFromSecretsManager(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		env    map[string]string
		want   map[string]string // header -> value at the collector
		// tracesPath: exported to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, the
		// collector's URL with this path, instead of the general endpoint.
		tracesPath string
	}{
		{name: "secret alone", secret: "api-key=s3cr3t,x-tenant=acme",
			want: map[string]string{"Api-Key": "s3cr3t", "X-Tenant": "acme"}},
		{name: "percent-encoded value, spaces and a trailing newline", secret: " Authorization=Basic%20dXNlcjpwdw== \n",
			want: map[string]string{"Authorization": "Basic dXNlcjpwdw=="}},
		{name: "beside the plain headers, over them", secret: "api-key=s3cr3t",
			env:  map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "api-key=plain,x-team=a", "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-team=b"},
			want: map[string]string{"Api-Key": "s3cr3t", "X-Team": "b"}},
		{name: "traces endpoint, used as it is", secret: "api-key=s3cr3t", tracesPath: "/otlp/traces",
			want: map[string]string{"Api-Key": "s3cr3t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &receiver{}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL, tracing.EnvHeadersSecretARN: headersARN}
			wantPath := "/v1/traces"
			if tt.tracesPath != "" {
				env = map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": srv.URL + tt.tracesPath, tracing.EnvHeadersSecretARN: headersARN}
				wantPath = tt.tracesPath
			}
			for k, v := range tt.env {
				env[k] = v
			}
			sm := &fakeSecretsManager{value: aws.String(tt.secret)}
			p, err := tracing.FromEnv(context.Background(), envconfig.Map(env), "zeebe-poller", sm)
			require.NoError(t, err)
			defer func() { _ = p.Shutdown(context.Background()) }()
			for range 2 {
				_, span := tracing.Tracer(p).Start(context.Background(), "poller publish")
				span.End()
				require.NoError(t, p.ForceFlush(context.Background()))
			}

			rec.mu.Lock()
			defer rec.mu.Unlock()
			assert.Equal(t, []string{wantPath, wantPath}, rec.paths)
			assert.Equal(t, []string{"poller publish", "poller publish"}, rec.spans)
			for i, h := range rec.headers {
				for k, v := range tt.want {
					assert.Equal(t, []string{v}, h.Values(k), "export %d, header %s", i+1, k)
				}
			}
			assert.Equal(t, []string{headersARN}, sm.reads, "read once, at start")
		})
	}
}

// TestHeadersSecretUnusable: a secret that cannot be read or used stops the
// component with an error that names the variable and the fix, and never
// shows the secret's value.
func TestHeadersSecretUnusable(t *testing.T) {
	denied := errors.New("AccessDeniedException: not authorized to perform secretsmanager:GetSecretValue")
	tests := []struct {
		name    string
		sm      tracing.SecretsManagerAPI
		wantIs  []error
		says    []string
		secrets string // must not appear in the error
	}{
		{name: "access denied", sm: &fakeSecretsManager{err: denied}, wantIs: []error{tracing.ErrHeadersSecret, denied},
			says: []string{"OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN=" + headersARN, "secretsmanager:GetSecretValue", "otel_headers_secret_arn"}},
		{name: "no string value", sm: &fakeSecretsManager{}, wantIs: []error{tracing.ErrHeadersSecret},
			says: []string{"OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN=" + headersARN, "has no string value", "key=value,key=value"}},
		{name: "not key=value", sm: &fakeSecretsManager{value: aws.String("s3cr3t-token")}, wantIs: []error{tracing.ErrHeadersSecret},
			says: []string{"OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN=" + headersARN, "pair 1 is not key=value"}, secrets: "s3cr3t-token"},
		{name: "bad percent-encoding", sm: &fakeSecretsManager{value: aws.String("api-key=s3cr3t%zz")}, wantIs: []error{tracing.ErrHeadersSecret},
			says: []string{"pair 1 (api-key)", "percent-encoded"}, secrets: "s3cr3t"},
		{name: "no Secrets Manager client", sm: nil, wantIs: []error{tracing.ErrHeadersSecret},
			says: []string{"OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN=" + headersARN, "no Secrets Manager client"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := envconfig.Map(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", tracing.EnvHeadersSecretARN: headersARN})
			p, err := tracing.FromEnv(context.Background(), env, "zeebe-fulfiller", tt.sm)
			require.Error(t, err)
			assert.Nil(t, p)
			for _, is := range tt.wantIs {
				assert.ErrorIs(t, err, is)
			}
			for _, s := range tt.says {
				assert.Contains(t, err.Error(), s)
			}
			if tt.secrets != "" {
				assert.NotContains(t, err.Error(), tt.secrets)
			}
		})
	}
}

// TestHeadersSecretNeedsAnEndpoint: without an endpoint nothing is exported,
// so the secret is not read; a malformed endpoint or plain header is said.
func TestHeadersSecretNeedsAnEndpoint(t *testing.T) {
	sm := &fakeSecretsManager{value: aws.String("api-key=s3cr3t")}
	p, err := tracing.FromEnv(context.Background(), envconfig.Map(map[string]string{tracing.EnvHeadersSecretARN: headersARN}), "zeebe-poller", sm)
	require.NoError(t, err)
	assert.Equal(t, tracing.Noop(), p)
	assert.Empty(t, sm.reads)

	tests := []struct {
		name string
		env  map[string]string
		says string
	}{
		{"endpoint without a scheme", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT=\"collector:4318\""},
		{"traces endpoint without a host", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=\"http://\""},
		{"malformed plain header beside the secret", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
			tracing.EnvHeadersSecretARN: headersARN, "OTEL_EXPORTER_OTLP_HEADERS": "x-team"}, "OTEL_EXPORTER_OTLP_HEADERS: pair 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tracing.FromEnv(context.Background(), envconfig.Map(tt.env), "zeebe-poller", sm)
			require.ErrorIs(t, err, envconfig.ErrInvalid)
			assert.Contains(t, err.Error(), tt.says)
		})
	}
}
