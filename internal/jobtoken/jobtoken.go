// Package jobtoken signs job messages and verifies outcomes, so that only
// outcomes of jobs the bridge itself handed out are ever applied to Zeebe.
//
// The poller signs each job message it publishes: Sign computes an
// HMAC-SHA256, under the current key of a Keyring, over the job key, the
// activation deadline, the identifier and the key id. The signature is a
// bearer credential for that one activation: lambdakit copies the token into
// the outcome unchanged and seals the outcome's content with the signature as
// key (Seal), so an outcome changed on its way is detected too. Functions
// never see the Keyring. The fulfiller's Verifier recomputes the signature
// from the Keyring (the current key and the previous ones, so keys can be
// rotated under running jobs), checks the deadline and the seal, and names
// the check that failed.
//
// The seal covers the outcome's meaning, not its bytes: variables are
// canonicalised (keys sorted, numbers normalised), because a queue or an
// emulator may re-serialise a JSON body on the way without changing it.
// There are two canonical forms, named by the outcome's sealVersion: 1, Go's
// encoding (Canonical), which Go producers write; 2, RFC 8785 with exact
// integers (CanonicalJCS), which other languages reproduce with their
// standard JSON library. docs/contract.md specifies both;
// testdata/seal-vectors.json pins them.
package jobtoken

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Key is one signing key. Secret should hold at least 32 random bytes.
type Key struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
	// RetiredAt is when a rotation made the key a previous one (RFC 3339);
	// zero for the current key and for keys of keyrings written before it
	// existed, which Rotate stamps at their next rotation.
	RetiredAt time.Time `json:"retiredAt,omitzero"`
}

// Keyring is the content of the bridge's signing secret: the key new tokens
// are signed with, and the keys of earlier rotations that are still accepted.
type Keyring struct {
	Current  Key   `json:"current"`
	Previous []Key `json:"previous,omitempty"`
}

// MinSecretBytes is the shortest secret ParseKeyring accepts.
const MinSecretBytes = 32

// KeyringTTL is how long the poller and the fulfiller use a keyring they
// read (Keys.TTL): a poller may still sign with a retired key this long
// after the rotation.
const KeyringTTL = 5 * time.Minute

// DefaultMaxTokenLifetime is the longest a job token is in use when the
// bridge's settings name no bound (modules/bridge max_token_lifetime_seconds
// has the same default): a week, well past the default job timeout (5 min)
// and Lambda's 15 minutes, for tasks whose timeout header or heartbeats
// keep a job activated for days.
const DefaultMaxTokenLifetime = 7 * 24 * time.Hour

// ParseKeyring reads a Keyring from its JSON form,
// {"current":{"id":"k2","secret":"..."},"previous":[{"id":"k1","secret":"...","retiredAt":"2026-01-02T15:04:05Z"}]}.
func ParseKeyring(s string) (Keyring, error) {
	var k Keyring
	if err := json.Unmarshal([]byte(s), &k); err != nil {
		return Keyring{}, fmt.Errorf("the job token secret is not a keyring (JSON with \"current\" and \"previous\" keys): %w", err)
	}
	for _, key := range append([]Key{k.Current}, k.Previous...) {
		if key.ID == "" || len(key.Secret) < MinSecretBytes {
			return Keyring{}, fmt.Errorf("the job token keyring has a key without an id or with a secret shorter than %d bytes (id %q)", MinSecretBytes, key.ID)
		}
	}
	return k, nil
}

// Find returns the key with this id, current or previous.
func (k Keyring) Find(id string) (Key, bool) {
	for _, key := range append([]Key{k.Current}, k.Previous...) {
		if key.ID == id {
			return key, true
		}
	}
	return Key{}, false
}

// Rotate returns the keyring with next as its current key and the current
// one, retired at now, first among the previous. A previous key stays until
// every token it can have signed has expired: it is dropped once it was
// retired more than maxTokenLifetime plus KeyringTTL (the poller's cached
// keyring) before now. A previous key without RetiredAt (an older keyring)
// is taken as retired now, the latest it can have been, so it is never
// dropped early.
func (k Keyring) Rotate(next Key, now time.Time, maxTokenLifetime time.Duration) Keyring {
	now = now.UTC().Truncate(time.Second)
	retired := k.Current
	retired.RetiredAt = now
	prev := []Key{retired}
	for _, key := range k.Previous {
		if key.RetiredAt.IsZero() {
			key.RetiredAt = now
		}
		if now.Sub(key.RetiredAt) <= maxTokenLifetime+KeyringTTL {
			prev = append(prev, key)
		}
	}
	next.RetiredAt = time.Time{}
	return Keyring{Current: next, Previous: prev}
}

// Sign returns the token of one activation of a job, under key.
func Sign(key Key, jobKey, deadline int64, identifier string) *jobmsg.Token {
	t := &jobmsg.Token{KeyID: key.ID, Deadline: deadline, Identifier: identifier}
	t.Sig = base64.RawURLEncoding.EncodeToString(signature(key, jobKey, t))
	return t
}

func signature(key Key, jobKey int64, t *jobmsg.Token) []byte {
	m := hmac.New(sha256.New, []byte(key.Secret))
	// Length-prefixed fields: no two different tokens sign the same bytes.
	for _, f := range []string{"zlb-job-token-v1", strconv.FormatInt(jobKey, 10), strconv.FormatInt(t.Deadline, 10), t.Identifier, t.KeyID} {
		fmt.Fprintf(m, "%d:%s;", len(f), f)
	}
	return m.Sum(nil)
}

// Seal versions (jobmsg.Outcome.SealVersion).
const (
	// SealV1 covers Go's encoding of the outcome (canonicalOutcome). Go
	// producers seal with it, so that a fulfiller older than SealV2 still
	// applies their outcomes.
	SealV1 = 1
	// SealV2 covers the outcome's RFC 8785 form with exact integers
	// (canonicalOutcomeV2, CanonicalJCS), for producers in other languages.
	SealV2 = 2
)

// Seal returns the MAC of an outcome under its token: an HMAC-SHA256 keyed
// with the token's signature over the outcome's canonical content, in the
// form o.SealVersion names. lambdakit seals every outcome of a signed job.
// The content is streamed into the HMAC, never held whole: a 4 MiB outcome
// costs no more than a few of its largest objects' keys (docs/design.md,
// "Trust and size").
func Seal(t *jobmsg.Token, o jobmsg.Outcome) (string, error) {
	if t == nil {
		return "", ErrMissing
	}
	sig, err := base64.RawURLEncoding.DecodeString(t.Sig)
	if err != nil {
		return "", fmt.Errorf("%w: its signature is not base64url: %v", ErrForged, err)
	}
	m := hmac.New(sha256.New, sig)
	w := bufio.NewWriterSize(m, 32<<10)
	if err := writeCanonicalOutcome(w, o); err != nil {
		return "", err
	}
	if err := w.Flush(); err != nil {
		return "", fmt.Errorf("seal the outcome: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// CanonicalOutcome is the content Seal covers, in the form o.SealVersion
// names; docs/contract.md spells out both.
func CanonicalOutcome(o jobmsg.Outcome) ([]byte, error) {
	var b bytes.Buffer
	if err := writeCanonicalOutcome(&b, o); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeCanonicalOutcome(w writer, o jobmsg.Outcome) error {
	switch o.SealVersion {
	case 0, SealV1:
		return writeCanonicalOutcomeV1(w, o)
	case SealV2:
		return writeCanonicalOutcomeV2(w, o)
	default:
		return fmt.Errorf("unknown seal version %d (this build knows %d and %d)", o.SealVersion, SealV1, SealV2)
	}
}

// writeCanonicalOutcomeV2 writes the content of a SealV2 seal: an object
// with every field (zero values included, so no rule decides which to omit)
// and sealVersion itself, which keeps it apart from any SealV1 content; its
// keys in RFC 8785's order.
func writeCanonicalOutcomeV2(w writer, o jobmsg.Outcome) error {
	num := func(i int64) string { return strconv.FormatInt(i, 10) }
	_, _ = w.WriteString(`{"async":` + strconv.FormatBool(o.Async) + `,"deadline":` + num(o.Deadline) + `,"errorCode":`)
	writeJCSString(w, o.ErrorCode)
	_, _ = w.WriteString(`,"errorMessage":`)
	writeJCSString(w, o.ErrorMessage)
	_, _ = w.WriteString(`,"jobKey":` + num(o.JobKey) + `,"outcome":`)
	writeJCSString(w, string(o.Outcome))
	_, _ = w.WriteString(`,"retries":` + num(int64(o.Retries)) + `,"retryBackoffMs":` + num(o.RetryBackoffMs) +
		`,"sealVersion":` + num(SealV2) + `,"timeoutMs":` + num(o.TimeoutMs) + `,"variables":`)
	if err := writeCanonical(w, o.Variables, SealV2); err != nil {
		return fmt.Errorf("the outcome's variables: %w", err)
	}
	return w.WriteByte('}')
}

// writeCanonicalOutcomeV1 writes what a SealV1 seal covers: every field that
// decides what the fulfiller does, in a fixed form: encoding/json's of
//
//	struct {
//		JobKey         int64           `json:"jobKey"`
//		Outcome        jobmsg.Kind     `json:"outcome"`
//		Variables      json.RawMessage `json:"variables"` // Canonical
//		ErrorCode      string          `json:"errorCode"`
//		ErrorMessage   string          `json:"errorMessage"`
//		Retries        int32           `json:"retries"`
//		RetryBackoffMs int64           `json:"retryBackoffMs"`
//		Async          bool            `json:"async,omitempty"`
//		Deadline       int64           `json:"deadline,omitempty"`
//		TimeoutMs      int64           `json:"timeoutMs,omitempty"`
//	}
//
// The last three are empty for the outcomes of an invocation, so that their
// seal is what it was before asynchronous completion existed.
func writeCanonicalOutcomeV1(w writer, o jobmsg.Outcome) error {
	str := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	num := func(i int64) string { return strconv.FormatInt(i, 10) }
	_, _ = w.WriteString(`{"jobKey":` + num(o.JobKey) + `,"outcome":` + str(string(o.Outcome)) + `,"variables":`)
	if err := writeCanonical(w, o.Variables, SealV1); err != nil {
		return fmt.Errorf("the outcome's variables: %w", err)
	}
	_, _ = w.WriteString(`,"errorCode":` + str(o.ErrorCode) + `,"errorMessage":` + str(o.ErrorMessage) +
		`,"retries":` + num(int64(o.Retries)) + `,"retryBackoffMs":` + num(o.RetryBackoffMs))
	if o.Async {
		_, _ = w.WriteString(`,"async":true`)
	}
	if o.Deadline != 0 {
		_, _ = w.WriteString(`,"deadline":` + num(o.Deadline))
	}
	if o.TimeoutMs != 0 {
		_, _ = w.WriteString(`,"timeoutMs":` + num(o.TimeoutMs))
	}
	return w.WriteByte('}')
}

// Errors of Verify, one per check. Each wraps ErrInvalid.
var (
	ErrInvalid    = errors.New("job token invalid")
	ErrMissing    = fmt.Errorf("%w: missing (the outcome carries no token or no seal)", ErrInvalid)
	ErrUnknownKey = fmt.Errorf("%w: signed with a key id that is neither the current nor a previous key", ErrInvalid)
	ErrForged     = fmt.Errorf("%w: forged (its signature does not match the job key, deadline, identifier and key id)", ErrInvalid)
	ErrExpired    = fmt.Errorf("%w: expired (the activation's deadline has passed)", ErrInvalid)
	ErrTampered   = fmt.Errorf("%w: tampered (the outcome's content does not match its seal)", ErrInvalid)
)

// Check verifies an outcome against a keyring at time nowMs (epoch ms) and
// returns nil or one of the errors above, wrapped with the detail.
func Check(ring Keyring, o jobmsg.Outcome, nowMs int64) error {
	t := o.Token
	if t == nil || o.MAC == "" {
		return ErrMissing
	}
	key, ok := ring.Find(t.KeyID)
	if !ok {
		return fmt.Errorf("%w (key id %q)", ErrUnknownKey, t.KeyID)
	}
	got, err := base64.RawURLEncoding.DecodeString(t.Sig)
	if err != nil || !hmac.Equal(got, signature(key, o.JobKey, t)) {
		return fmt.Errorf("%w (job %d, key id %q)", ErrForged, o.JobKey, t.KeyID)
	}
	if o.Async && o.Deadline != t.Deadline {
		return fmt.Errorf("%w (job %d: the message names activation %d, its token %d)", ErrForged, o.JobKey, o.Deadline, t.Deadline)
	}
	// The seal before the deadline: ErrExpired then means an authentic
	// outcome that came late, which the fulfiller may still apply to an
	// activation that heartbeats kept alive.
	want, err := Seal(t, o)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTampered, err)
	}
	if !hmac.Equal([]byte(want), []byte(o.MAC)) {
		return fmt.Errorf("%w (job %d)", ErrTampered, o.JobKey)
	}
	if nowMs > t.Deadline {
		return fmt.Errorf("%w (deadline %d, %d ms ago)", ErrExpired, t.Deadline, nowMs-t.Deadline)
	}
	return nil
}

// Attach makes o the outcome of job: it sets the job and process instance
// keys and, for a signed job, the job's token unchanged and the seal over
// the result, of the version o.SealVersion names (SealV1 when unset).
// lambdakit and the returner answer every job through it.
func Attach(job jobmsg.Job, o jobmsg.Outcome) (jobmsg.Outcome, error) {
	o.JobKey, o.ProcessInstanceKey = job.Key, job.ProcessInstanceKey
	o.Token, o.MAC = nil, ""
	if job.Token == nil {
		o.SealVersion = 0 // no seal to say anything of
		return o, nil
	}
	mac, err := Seal(job.Token, o)
	if err != nil {
		return jobmsg.Outcome{}, fmt.Errorf("seal the outcome of job %d: %w", job.Key, err)
	}
	o.Token, o.MAC = job.Token, mac
	return o, nil
}
