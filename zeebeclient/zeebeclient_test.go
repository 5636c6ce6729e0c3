package zeebeclient_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envcfg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/zeebeclient"
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
	}{
		{name: "plaintext local broker", env: map[string]string{"ZEEBE_ADDRESS": "127.0.0.1:26500"}},
		{name: "client id without secret", env: map[string]string{"ZEEBE_CLIENT_ID": "id"},
			wantErr: "ZEEBE_CLIENT_SECRET", wantIs: envcfg.ErrMissing},
		{name: "secret without client id", env: map[string]string{"ZEEBE_CLIENT_SECRET": "s"},
			wantErr: "ZEEBE_CLIENT_ID", wantIs: envcfg.ErrMissing},
		{name: "oauth without token url", env: map[string]string{"ZEEBE_CLIENT_ID": "id", "ZEEBE_CLIENT_SECRET": "s"},
			wantErr: "ZEEBE_AUTHORIZATION_SERVER_URL", wantIs: envcfg.ErrMissing},
		{name: "secret from Secrets Manager", env: map[string]string{"ZEEBE_CLIENT_ID": "id", "ZEEBE_CLIENT_SECRET_ARN": "arn:secret",
			"ZEEBE_AUTHORIZATION_SERVER_URL": "https://login.example/oauth/token", "ZEEBE_ADDRESS": "zeebe.example:443"},
			secrets: &fakeSecrets{val: "from-sm"}},
		{name: "Secrets Manager fails", env: map[string]string{"ZEEBE_CLIENT_ID": "id", "ZEEBE_CLIENT_SECRET_ARN": "arn:secret"},
			secrets: &fakeSecrets{err: errors.New("AccessDenied")}, wantErr: "ZEEBE_CLIENT_SECRET_ARN=arn:secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sg zeebeclient.SecretGetter
			if tt.secrets != nil {
				sg = tt.secrets
			}
			c, err := zeebeclient.New(context.Background(), envcfg.Map(tt.env), sg)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				if tt.wantIs != nil {
					require.ErrorIs(t, err, tt.wantIs)
				}
				return
			}
			require.NoError(t, err)
			require.NoError(t, c.Close())
			if tt.secrets != nil {
				assert.Equal(t, []string{"arn:secret"}, tt.secrets.arns)
			}
		})
	}
}
