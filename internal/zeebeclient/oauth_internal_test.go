package zeebeclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
)

// The audience the provider sends for a SaaS gateway address is SaaS's,
// zeebe.camunda.io, not the cluster's host name. (No SaaS gateway can be
// dialled from a test, so this asks the provider for its header directly.)
func TestSaaSAddressSendsTheSaaSAudience(t *testing.T) {
	var (
		mu    sync.Mutex
		forms []url.Values
	)
	te := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.NoError(t, r.ParseForm())
		mu.Lock()
		forms = append(forms, r.PostForm)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})
	}))
	defer te.Close()

	tests := []struct {
		name, audience, scope string
		wantAudience          string
	}{
		{name: "SaaS, audience unset", wantAudience: "zeebe.camunda.io"},
		{name: "SaaS, audience and scope set", audience: "custom", scope: "Zeebe", wantAudience: "custom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			forms = nil
			mu.Unlock()
			const addr = "0a1b2c3d.bru-2.zeebe.camunda.io:443"
			p, err := newProvider(context.Background(), envconfig.Map(map[string]string{
				EnvClientID: "id", EnvClientSecret: "s", EnvAuthServerURL: te.URL,
				EnvTokenAudience: tt.audience, EnvTokenScope: tt.scope,
			}), addr, options{})
			require.NoError(t, err)
			headers := map[string]string{}
			require.NoError(t, p.ApplyCredentials(context.Background(), headers))
			assert.Equal(t, "Bearer tok", headers["Authorization"])
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, forms, 1)
			assert.Equal(t, []string{tt.wantAudience}, forms[0]["audience"])
			if tt.scope == "" {
				assert.NotContains(t, forms[0], "scope")
			} else {
				assert.Equal(t, []string{tt.scope}, forms[0]["scope"])
			}
		})
	}
}

// Without ZEEBE_AUTHORIZATION_SERVER_URL, a SaaS gateway uses SaaS's token
// endpoint; any other gateway must name its own.
func TestAuthServerDefault(t *testing.T) {
	p, err := newProvider(context.Background(), envconfig.Map(map[string]string{EnvClientID: "id", EnvClientSecret: "s"}),
		"0a1b2c3d.bru-2.zeebe.camunda.io:443", options{})
	require.NoError(t, err)
	assert.Equal(t, SaaSAuthServerURL, p.tokenURL)

	_, err = newProvider(context.Background(), envconfig.Map(map[string]string{EnvClientID: "id", EnvClientSecret: "s"}),
		"zeebe.example.com:26500", options{})
	require.ErrorIs(t, err, envconfig.ErrMissing)
}
