package jobtoken

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// EnvSecretARN names the Secrets Manager secret that holds the Keyring. The
// keys themselves never travel in environment variables.
const EnvSecretARN = "JOB_TOKEN_SECRET_ARN"

// Keys reads the Keyring through load (a Secrets Manager read, say) and
// caches it for TTL. It is safe for concurrent use.
type Keys struct {
	load func(ctx context.Context) (string, error)
	// TTL is how long a read keyring is used (default 5 minutes).
	TTL time.Duration
	// MinRefresh is the least time between two reads that Refresh forces
	// (default 10 s), so a flood of unknown key ids cannot hammer the store.
	MinRefresh time.Duration
	now        func() time.Time

	mu       sync.Mutex
	ring     Keyring
	loadedAt time.Time
}

// NewKeys returns Keys reading the keyring's JSON through load.
func NewKeys(load func(ctx context.Context) (string, error)) *Keys {
	return &Keys{load: load, TTL: 5 * time.Minute, MinRefresh: 10 * time.Second, now: time.Now}
}

// Static returns Keys that always hold ring, for tests and tools.
func Static(ring Keyring) *Keys {
	k := NewKeys(func(context.Context) (string, error) { return "", errors.New("static keyring: nothing to load") })
	k.ring, k.loadedAt, k.TTL, k.MinRefresh = ring, time.Now(), 1<<62, 1<<62
	return k
}

// Keyring returns the cached keyring, reading it again after TTL.
func (k *Keys) Keyring(ctx context.Context) (Keyring, error) {
	return k.get(ctx, k.TTL)
}

// Refresh reads the keyring again unless that happened less than MinRefresh
// ago: a key id it does not know may be a key rotated in since.
func (k *Keys) Refresh(ctx context.Context) (Keyring, error) {
	return k.get(ctx, k.MinRefresh)
}

func (k *Keys) get(ctx context.Context, maxAge time.Duration) (Keyring, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.loadedAt.IsZero() && k.now().Sub(k.loadedAt) < maxAge {
		return k.ring, nil
	}
	s, err := k.load(ctx)
	if err != nil {
		return Keyring{}, fmt.Errorf("read the job token keyring: %w", err)
	}
	ring, err := ParseKeyring(s)
	if err != nil {
		return Keyring{}, err
	}
	k.ring, k.loadedAt = ring, k.now()
	return ring, nil
}

// Signer signs job messages with the current key (the poller's side).
type Signer struct{ Keys *Keys }

// Sign sets the job's token.
func (s Signer) Sign(ctx context.Context, j *jobmsg.Job) error {
	ring, err := s.Keys.Keyring(ctx)
	if err != nil {
		return err
	}
	j.Token = Sign(ring.Current, j.Key, j.Deadline, j.Identifier())
	return nil
}

// Verifier checks outcomes (the fulfiller's side).
type Verifier struct {
	Keys *Keys
	// Now is the clock of the expiry check (time.Now if nil).
	Now func() time.Time
}

// Verify returns nil for an outcome the bridge signed, an error wrapping
// ErrInvalid (and naming the check) for one it must never apply, or another
// error when the keyring could not be read (worth a retry).
func (v Verifier) Verify(ctx context.Context, o jobmsg.Outcome) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	ring, err := v.Keys.Keyring(ctx)
	if err != nil {
		return err
	}
	err = Check(ring, o, now().UnixMilli())
	if errors.Is(err, ErrUnknownKey) {
		if ring, rerr := v.Keys.Refresh(ctx); rerr == nil {
			err = Check(ring, o, now().UnixMilli())
		}
	}
	return err
}

// SecretsManagerAPI is the part of the Secrets Manager client Keys reads with.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// KeysFromEnv returns Keys reading the secret JOB_TOKEN_SECRET_ARN names, or
// nil when it names none (job tokens off).
func KeysFromEnv(getenv func(string) string, api SecretsManagerAPI) *Keys {
	arn := getenv(EnvSecretARN)
	if arn == "" {
		return nil
	}
	return NewKeys(func(ctx context.Context) (string, error) {
		out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		if err != nil {
			return "", fmt.Errorf("get the value of %s: %w", arn, err)
		}
		return aws.ToString(out.SecretString), nil
	})
}
