package zeebeclient

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DefaultSecretRereadInterval is how often at most the client secret is read
// again from Secrets Manager after the gateway or the token endpoint refused
// the credentials: often enough to follow a rotation within a minute, rarely
// enough that a wrong secret does not hammer Secrets Manager.
const DefaultSecretRereadInterval = 30 * time.Second

// oauthProvider is a zbc.CredentialsProvider for the OAuth client credentials
// flow, as the Zeebe client's own OAuthCredentialsProvider (same request:
// client id and secret in the form, audience and optional scope), with what
// that one lacks for a Lambda living through a credential rotation:
//   - a refused secret (token endpoint 400/401/403) surfaces as UNAUTHENTICATED,
//     not as an untyped CANCELED, so ShouldRetryRequest sees it;
//   - on UNAUTHENTICATED it drops the token, re-reads the secret from Secrets
//     Manager (throttled) and lets the command retry once;
//   - it is safe for concurrent calls (the poller streams and polls at once).
type oauthProvider struct {
	clientID string
	audience string
	scope    string
	tokenURL string
	http     *http.Client
	log      *slog.Logger
	now      func() time.Time

	// Where the secret is re-read from; secrets nil means it came from the
	// environment and cannot change without a new process.
	secrets   SecretGetter
	secretARN string
	reread    time.Duration

	mu       sync.Mutex
	secret   string
	token    *oauth2.Token
	lastRead time.Time // last read of the secret, at start or after a refusal
}

// ApplyCredentials sets the Authorization header, fetching a token when
// there is none or it is about to expire.
func (p *oauthProvider) ApplyCredentials(ctx context.Context, headers map[string]string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token == nil || !p.token.Valid() {
		tok, err := p.fetchLocked(ctx)
		if err != nil {
			return err
		}
		p.token = tok
	}
	headers["Authorization"] = p.token.Type() + " " + p.token.AccessToken
	return nil
}

// ShouldRetryRequest answers UNAUTHENTICATED: it forgets the token, re-reads
// the secret if allowed, fetches a new token and reports whether the command
// should be sent again. A command sent through Client retries at most once
// (retryBudget); one without a budget (c.Zeebe() used directly) retries only
// when the secret changed, which the throttle bounds, so that a gateway that
// refuses every token cannot make the Zeebe client loop.
func (p *oauthProvider) ShouldRetryRequest(ctx context.Context, err error) bool {
	if status.Code(err) != codes.Unauthenticated {
		return false
	}
	budget, hasBudget := ctx.Value(retryBudgetKey{}).(*retryBudget)
	if hasBudget && !budget.take() {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.token = nil
	changed := p.rereadLocked(ctx)
	if !hasBudget && !changed {
		return false
	}
	tok, ferr := p.fetchLocked(ctx)
	if ferr != nil {
		p.log.Warn("Zeebe refused the credentials and no new token could be obtained; check ZEEBE_CLIENT_ID and the client secret",
			"clientId", p.clientID, "error", ferr)
		return false
	}
	p.token = tok
	return true
}

// rereadLocked reads the secret again when it comes from Secrets Manager and
// the last read is at least p.reread ago; it reports whether it changed.
func (p *oauthProvider) rereadLocked(ctx context.Context) bool {
	if p.secrets == nil {
		return false
	}
	now := p.now()
	if now.Sub(p.lastRead) < p.reread {
		return false
	}
	p.lastRead = now
	v, err := p.secrets.GetSecret(ctx, p.secretARN)
	if err != nil {
		p.log.Warn("Zeebe refused the credentials; reading the client secret again failed, keeping the current one",
			"clientId", p.clientID, "secretArn", p.secretARN, "error", err)
		return false
	}
	if v == p.secret {
		p.log.Warn("Zeebe refused the credentials; the client secret in Secrets Manager is unchanged",
			"clientId", p.clientID, "secretArn", p.secretARN)
		return false
	}
	p.secret = v
	p.log.Info("Zeebe refused the credentials; using the rotated client secret from Secrets Manager",
		"clientId", p.clientID, "secretArn", p.secretARN)
	return true
}

// fetchLocked asks the token endpoint for a token. The error is a gRPC status
// because gRPC passes it on as the command's error: UNAUTHENTICATED when the
// endpoint refused the client (so that ShouldRetryRequest re-reads the
// secret), UNAVAILABLE otherwise (transient).
func (p *oauthProvider) fetchLocked(ctx context.Context) (*oauth2.Token, error) {
	cfg := clientcredentials.Config{
		ClientID:       p.clientID,
		ClientSecret:   p.secret,
		TokenURL:       p.tokenURL,
		EndpointParams: map[string][]string{"audience": {p.audience}},
		// As the Zeebe client: credentials in the form, not in Basic auth.
		AuthStyle: oauth2.AuthStyleInParams,
	}
	if p.scope != "" {
		cfg.Scopes = []string{p.scope}
	}
	ctx, cancel := context.WithTimeout(ctx, zbc.OAuthDefaultRequestTimeout)
	defer cancel()
	tok, err := cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, p.http))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			switch re.Response.StatusCode {
			case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
				return nil, status.Errorf(codes.Unauthenticated, "token endpoint %s refused client %s (HTTP %d): %v", p.tokenURL, p.clientID, re.Response.StatusCode, err)
			}
		}
		return nil, status.Errorf(codes.Unavailable, "token endpoint %s: %v", p.tokenURL, err)
	}
	return tok, nil
}

// retryBudget lets one command retry once after UNAUTHENTICATED.
type retryBudget struct {
	mu   sync.Mutex
	used bool
}

type retryBudgetKey struct{}

func (b *retryBudget) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used {
		return false
	}
	b.used = true
	return true
}

// withRetryBudget gives a command through Client its single retry.
func withRetryBudget(ctx context.Context) context.Context {
	return context.WithValue(ctx, retryBudgetKey{}, &retryBudget{})
}

// userAgent marks token requests as the Zeebe client does.
type userAgent struct{ next http.RoundTripper }

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", "zeebe-client-go/"+zbc.Version)
	return u.next.RoundTrip(r)
}
