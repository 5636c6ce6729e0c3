package zeebeclient_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
)

type fakeSecrets struct {
	arns []string
	val  string
	err  error
}

func (f *fakeSecrets) GetSecret(_ context.Context, arn string) (string, error) {
	f.arns = append(f.arns, arn)
	return f.val, f.err
}

func TestNewConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		secrets *fakeSecrets
		wantErr string
		wantIs  error
		// noSecretRead: Secrets Manager must not be asked.
		noSecretRead bool
	}{
		{name: "defaults", env: map[string]string{}},
		{name: "plaintext local engine", env: map[string]string{"ZEEBE_ADDRESS": "127.0.0.1:26500", "ZEEBE_INSECURE_CONNECTION": "true"}},
		{name: "insecure not a boolean", env: map[string]string{"ZEEBE_INSECURE_CONNECTION": "yes please"},
			wantErr: "ZEEBE_INSECURE_CONNECTION", wantIs: envconfig.ErrInvalid},
		{name: "secret ARN without a Secrets Manager client", env: map[string]string{"ZEEBE_CLIENT_ID": "id", "ZEEBE_CLIENT_SECRET_ARN": "arn:secret"},
			wantErr: "ZEEBE_CLIENT_SECRET_ARN", wantIs: envconfig.ErrInvalid},
		{name: "secret ARN without client id", env: map[string]string{"ZEEBE_CLIENT_SECRET_ARN": "arn:secret"},
			secrets: &fakeSecrets{val: "x"}, wantErr: "ZEEBE_CLIENT_ID", wantIs: envconfig.ErrMissing, noSecretRead: true},
		{name: "secret ARN ignored when the secret is set", env: map[string]string{"ZEEBE_CLIENT_ID": "id", "ZEEBE_CLIENT_SECRET": "s", "ZEEBE_CLIENT_SECRET_ARN": "arn:secret",
			"ZEEBE_AUTHORIZATION_SERVER_URL": "https://login.example/oauth/token"}, secrets: &fakeSecrets{err: errors.New("must not be called")}, noSecretRead: true},
		{name: "client id without secret", env: map[string]string{"ZEEBE_CLIENT_ID": "id"},
			wantErr: "ZEEBE_CLIENT_SECRET", wantIs: envconfig.ErrMissing},
		{name: "secret without client id", env: map[string]string{"ZEEBE_CLIENT_SECRET": "s"},
			wantErr: "ZEEBE_CLIENT_ID", wantIs: envconfig.ErrMissing},
		{name: "oauth without token url", env: map[string]string{"ZEEBE_CLIENT_ID": "id", "ZEEBE_CLIENT_SECRET": "s"},
			wantErr: "ZEEBE_AUTHORIZATION_SERVER_URL", wantIs: envconfig.ErrMissing},
		{name: "oauth without token url on a SaaS gateway: SaaS's token URL", env: map[string]string{"ZEEBE_CLIENT_ID": "id", "ZEEBE_CLIENT_SECRET": "s",
			"ZEEBE_ADDRESS": "0a1b2c.bru-2.zeebe.camunda.io:443"}},
		{name: "token url not a URL", env: map[string]string{"ZEEBE_CLIENT_ID": "id", "ZEEBE_CLIENT_SECRET": "s", "ZEEBE_AUTHORIZATION_SERVER_URL": "login.example"},
			wantErr: "ZEEBE_AUTHORIZATION_SERVER_URL", wantIs: envconfig.ErrInvalid},
		{name: "secret from Secrets Manager", env: map[string]string{"ZEEBE_CLIENT_ID": "id", "ZEEBE_CLIENT_SECRET_ARN": "arn:secret",
			"ZEEBE_AUTHORIZATION_SERVER_URL": "https://login.example/oauth/token", "ZEEBE_ADDRESS": "zeebe.example:443"},
			secrets: &fakeSecrets{val: "from-sm"}},
		{name: "Secrets Manager fails", env: map[string]string{"ZEEBE_CLIENT_ID": "id", "ZEEBE_CLIENT_SECRET_ARN": "arn:secret"},
			secrets: &fakeSecrets{err: errors.New("AccessDenied")}, wantErr: "ZEEBE_CLIENT_SECRET_ARN=arn:secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []zeebeclient.Option
			if tt.secrets != nil {
				opts = append(opts, zeebeclient.WithSecrets(tt.secrets))
			}
			c, err := zeebeclient.New(context.Background(), envconfig.Map(tt.env), opts...)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				if tt.wantIs != nil {
					require.ErrorIs(t, err, tt.wantIs)
				}
				if tt.noSecretRead {
					assert.Empty(t, tt.secrets.arns, "Secrets Manager asked although the configuration is incomplete")
				}
				return
			}
			require.NoError(t, err)
			require.NoError(t, c.Close())
			switch {
			case tt.noSecretRead:
				assert.Empty(t, tt.secrets.arns)
			case tt.secrets != nil:
				assert.Equal(t, []string{"arn:secret"}, tt.secrets.arns)
			}
		})
	}
}

func TestAudienceDefaults(t *testing.T) {
	tests := []struct {
		name, configured, address, want string
	}{
		{"set: kept as it is", "my-audience", "0a1b2c.bru-2.zeebe.camunda.io:443", "my-audience"},
		{"set on a self-managed gateway", "zeebe-api", "zeebe.example.com:26500", "zeebe-api"},
		{"SaaS gateway: zeebe.camunda.io as SaaS credentials name it", "", "0a1b2c.bru-2.zeebe.camunda.io:443", "zeebe.camunda.io"},
		{"SaaS gateway in capitals", "", "0A1B2C.BRU-2.ZEEBE.CAMUNDA.IO:443", "zeebe.camunda.io"},
		{"SaaS gateway without a port", "", "0a1b2c.bru-2.zeebe.camunda.io", "zeebe.camunda.io"},
		{"self-managed: the gateway host, as the Zeebe client does", "", "zeebe.example.com:26500", "zeebe.example.com"},
		{"look-alike domain is not SaaS", "", "zeebe.camunda.io.evil.example:443", "zeebe.camunda.io.evil.example"},
		{"suffix without a dot is not SaaS", "", "myzeebe.camunda.io:443", "myzeebe.camunda.io"},
		{"local engine", "", "127.0.0.1:26500", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, zeebeclient.Audience(tt.configured, tt.address))
		})
	}
}

// A nil Option (as callers that have no Secrets Manager client pass) is ignored.
func TestNewIgnoresNilOption(t *testing.T) {
	c, err := zeebeclient.New(context.Background(), envconfig.Map(nil), nil)
	require.NoError(t, err)
	require.NoError(t, c.Close())
}

func TestErrorClasses(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		notFound    bool
		transient   bool
		credentials bool
	}{
		{name: "nil", err: nil},
		{name: "not found", err: status.Error(codes.NotFound, "job not found"), notFound: true},
		{name: "wrapped not found", err: fmt.Errorf("complete job 1: %w", status.Error(codes.NotFound, "x")), notFound: true},
		{name: "unavailable", err: status.Error(codes.Unavailable, "x"), transient: true},
		{name: "wrapped unavailable", err: fmt.Errorf("fail job 1: %w", status.Error(codes.Unavailable, "x")), transient: true},
		{name: "deadline exceeded", err: status.Error(codes.DeadlineExceeded, "x"), transient: true},
		{name: "resource exhausted", err: status.Error(codes.ResourceExhausted, "backpressure"), transient: true},
		{name: "internal", err: status.Error(codes.Internal, "x"), transient: true},
		{name: "context deadline", err: fmt.Errorf("x: %w", context.DeadlineExceeded), transient: true},
		{name: "context canceled", err: context.Canceled, transient: true},
		{name: "failed precondition", err: status.Error(codes.FailedPrecondition, "x")},
		{name: "invalid argument", err: status.Error(codes.InvalidArgument, "x")},
		// Refused credentials recover when a rotation completes.
		{name: "permission denied", err: status.Error(codes.PermissionDenied, "x"), transient: true, credentials: true},
		{name: "unauthenticated", err: status.Error(codes.Unauthenticated, "x"), transient: true, credentials: true},
		{name: "wrapped unauthenticated", err: fmt.Errorf("complete job 1: %w", status.Error(codes.Unauthenticated, "x")), transient: true, credentials: true},
		// Text is never looked at.
		{name: "plain error that reads like one", err: errors.New("rpc error: code = Unavailable desc = x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.notFound, zeebeclient.IsNotFound(tt.err))
			assert.Equal(t, tt.transient, zeebeclient.IsTransient(tt.err))
			assert.Equal(t, tt.credentials, zeebeclient.IsCredentials(tt.err))
		})
	}
}
