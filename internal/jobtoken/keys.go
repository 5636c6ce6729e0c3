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
	// Now is the clock of TTL and MinRefresh (time.Now if nil).
	Now func() time.Time

	static bool // never read again: an unknown key id is final

	mu       sync.Mutex
	ring     Keyring
	loadedAt time.Time
}

// NewKeys returns Keys reading the keyring's JSON through load.
func NewKeys(load func(ctx context.Context) (string, error)) *Keys {
	return &Keys{load: load, TTL: KeyringTTL, MinRefresh: 10 * time.Second}
}

// Static returns Keys that always hold ring, for tests and tools.
func Static(ring Keyring) *Keys {
	k := NewKeys(func(context.Context) (string, error) { return "", errors.New("static keyring: nothing to load") })
	k.ring, k.loadedAt, k.TTL, k.MinRefresh, k.static = ring, time.Now(), 1<<62, 1<<62, true
	return k
}

// Keyring returns the cached keyring, reading it again after TTL.
func (k *Keys) Keyring(ctx context.Context) (Keyring, error) {
	return k.get(ctx, k.TTL)
}

// Refresh reads the keyring again unless that happened less than MinRefresh
// ago: a key id it does not know may be a key rotated in since.
func (k *Keys) Refresh(ctx context.Context) (Keyring, error) {
	ring, _, err := k.read(ctx, k.MinRefresh)
	return ring, err
}

func (k *Keys) get(ctx context.Context, maxAge time.Duration) (Keyring, error) {
	ring, _, err := k.read(ctx, maxAge)
	return ring, err
}

// read returns the keyring, read again when the cached one is older than
// maxAge; loaded says whether it was.
func (k *Keys) read(ctx context.Context, maxAge time.Duration) (ring Keyring, loaded bool, err error) {
	now := time.Now
	if k.Now != nil {
		now = k.Now
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.loadedAt.IsZero() && now().Sub(k.loadedAt) < maxAge {
		return k.ring, false, nil
	}
	s, err := k.load(ctx)
	if err != nil {
		return Keyring{}, false, fmt.Errorf("read the job token keyring: %w", err)
	}
	if ring, err = ParseKeyring(s); err != nil {
		return Keyring{}, false, err
	}
	k.ring, k.loadedAt = ring, now()
	return ring, true, nil
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
	if !errors.Is(err, ErrUnknownKey) || v.Keys.static {
		return err
	}
	// A key rotated in since the last read, or a forgery: only a fresh read
	// tells them apart. Until one is allowed the outcome is retried, never
	// dead-lettered.
	ring, loaded, rerr := v.Keys.read(ctx, v.Keys.MinRefresh)
	switch {
	case rerr != nil:
		return rerr
	case !loaded:
		return fmt.Errorf("%w (key id %q; the keyring is read again at most every %s)", ErrKeyNotYetRead, o.Token.KeyID, v.Keys.MinRefresh)
	}
	return Check(ring, o, now().UnixMilli())
}

// ErrKeyNotYetRead: the outcome names a key id the keyring did not hold when
// it was last read, too recently to read it again. Not ErrInvalid: the key
// may have been rotated in since, so the outcome is worth a retry.
var ErrKeyNotYetRead = errors.New("signed with a key id the keyring did not hold at its last read")

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
