package jobtoken_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

var (
	k1   = jobtoken.Key{ID: "k1", Secret: strings.Repeat("a", 32)}
	k2   = jobtoken.Key{ID: "k2", Secret: strings.Repeat("b", 32)}
	ring = jobtoken.Keyring{Current: k2, Previous: []jobtoken.Key{k1}}
)

const now = int64(1_800_000_000_000)

// sealed is a genuine outcome of job 42, signed with key and sealed.
func sealed(t *testing.T, key jobtoken.Key) jobmsg.Outcome {
	t.Helper()
	o := jobmsg.Outcome{V: 1, JobKey: 42, Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"b":[1,2.5,1e3],"a":"x<y & é"}`),
		Token: jobtoken.Sign(key, 42, now+60_000, "book-hotel")}
	mac, err := jobtoken.Seal(o.Token, o)
	require.NoError(t, err)
	o.MAC = mac
	return o
}

// sealedV2 is sealed with seal version 2, over variables with big integers.
func sealedV2(t *testing.T, key jobtoken.Key) jobmsg.Outcome {
	t.Helper()
	o := jobmsg.Outcome{V: 1, JobKey: 42, Outcome: jobmsg.Complete, SealVersion: jobtoken.SealV2,
		Variables: json.RawMessage(`{"id":9007199254740993,"b":[1,2.5,1e3],"a":"x<y & é"}`)}
	o, err := jobtoken.Attach(jobmsg.Job{Key: 42, Token: jobtoken.Sign(key, 42, now+60_000, "book-hotel")}, o)
	require.NoError(t, err)
	return o
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(o *jobmsg.Outcome)
		at     int64
		want   error
	}{
		{"genuine, current key", func(*jobmsg.Outcome) {}, now, nil},
		{"genuine, previous key", func(o *jobmsg.Outcome) { *o = sealed(t, k1) }, now, nil},
		{"no token", func(o *jobmsg.Outcome) { o.Token = nil }, now, jobtoken.ErrMissing},
		{"no seal", func(o *jobmsg.Outcome) { o.MAC = "" }, now, jobtoken.ErrMissing},
		{"unknown key id", func(o *jobmsg.Outcome) {
			*o = sealed(t, jobtoken.Key{ID: "k9", Secret: strings.Repeat("c", 32)})
		}, now, jobtoken.ErrUnknownKey},
		{"signed with another secret under a known id", func(o *jobmsg.Outcome) {
			*o = sealed(t, jobtoken.Key{ID: "k2", Secret: strings.Repeat("c", 32)})
		}, now, jobtoken.ErrForged},
		{"token of another job", func(o *jobmsg.Outcome) { o.JobKey = 43 }, now, jobtoken.ErrForged},
		{"deadline extended", func(o *jobmsg.Outcome) { o.Token.Deadline += 60_000 }, now, jobtoken.ErrForged},
		{"identifier changed", func(o *jobmsg.Outcome) { o.Token.Identifier = "book-car" }, now, jobtoken.ErrForged},
		{"signature not base64", func(o *jobmsg.Outcome) { o.Token.Sig = "!!" }, now, jobtoken.ErrForged},
		{"expired", func(*jobmsg.Outcome) {}, now + 60_001, jobtoken.ErrExpired},
		{"variables changed after sealing", func(o *jobmsg.Outcome) { o.Variables = json.RawMessage(`{"a":"x<y & é","b":[1,2.5,1001]}`) }, now, jobtoken.ErrTampered},
		{"complete turned into fail", func(o *jobmsg.Outcome) { o.Outcome = jobmsg.Fail }, now, jobtoken.ErrTampered},
		{"retries raised", func(o *jobmsg.Outcome) { o.Retries = 5 }, now, jobtoken.ErrTampered},
		{"seal of another outcome", func(o *jobmsg.Outcome) { o.MAC = sealed(t, k1).MAC }, now, jobtoken.ErrTampered},
		{"re-serialised on the way, as LocalStack's event source mapping does", func(o *jobmsg.Outcome) {
			o.Variables = json.RawMessage(`{"b": [1, 2.5, 1000.0], "a": "x<y \u0026 \u00e9"}`)
		}, now, nil},
		{"seal version 2", func(o *jobmsg.Outcome) { *o = sealedV2(t, k2) }, now, nil},
		{"seal version 2, re-serialised by Python as LocalStack's event source mapping does", func(o *jobmsg.Outcome) {
			*o = sealedV2(t, k2)
			o.Variables = json.RawMessage(`{"id": 9007199254740993, "b": [1, 2.5, 1000.0], "a": "x<y \u0026 \u00e9"}`)
		}, now, nil},
		{"seal version 2, a big integer changed by one", func(o *jobmsg.Outcome) {
			*o = sealedV2(t, k2)
			o.Variables = json.RawMessage(`{"id":9007199254740992,"b":[1,2.5,1e3],"a":"x<y & é"}`)
		}, now, jobtoken.ErrTampered},
		{"seal version 2 relabelled as 1", func(o *jobmsg.Outcome) { *o = sealedV2(t, k2); o.SealVersion = jobtoken.SealV1 }, now, jobtoken.ErrTampered},
		{"seal version 1 relabelled as 2", func(o *jobmsg.Outcome) { o.SealVersion = jobtoken.SealV2 }, now, jobtoken.ErrTampered},
		{"unknown seal version", func(o *jobmsg.Outcome) { o.SealVersion = 3 }, now, jobtoken.ErrTampered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := sealed(t, k2)
			tt.mutate(&o)
			err := jobtoken.Check(ring, o, tt.at)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
			assert.ErrorIs(t, err, jobtoken.ErrInvalid)
		})
	}
}

func TestCanonical(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{``, `null`},
		{` {"b":1, "a":{"d":[true,null],"c":"\u003c"}} `, `{"a":{"c":"\u003c","d":[true,null]},"b":1}`},
		{`[1.0, 1e5, 100000, -0, 0.1, 1e400]`, ``},
		{`[1.0, 1e5, 100000, -0, 0.1, 123456789012345678901234567890, 1e20]`, `[1,100000,100000,0,0.1,123456789012345678901234567890,1e+20]`},
	} {
		got, err := jobtoken.Canonical(json.RawMessage(tt.in))
		if tt.want == "" {
			assert.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, string(got), tt.in)
	}
	_, err := jobtoken.Canonical(json.RawMessage(`{`))
	assert.ErrorContains(t, err, "not JSON")
}

func TestParseKeyring(t *testing.T) {
	for _, tt := range []struct{ in, err string }{
		{`{"current":{"id":"k2","secret":"` + strings.Repeat("b", 32) + `"},"previous":[{"id":"k1","secret":"` + strings.Repeat("a", 32) + `"}]}`, ""},
		{`not json`, "not a keyring"},
		{`{"current":{"id":"k2","secret":"short"}}`, "shorter than 32 bytes"},
		{`{"current":{"secret":"` + strings.Repeat("b", 32) + `"}}`, "without an id"},
	} {
		_, err := jobtoken.ParseKeyring(tt.in)
		if tt.err == "" {
			assert.NoError(t, err)
		} else {
			assert.ErrorContains(t, err, tt.err)
		}
	}
}

// TestRotateKeepsKeysForTheTokenLifetime: a previous key stays while a
// token it signed can still be in use (maxTokenLifetime plus the keyring's
// cache TTL after its retirement), however many rotations happen meanwhile,
// and goes after that; a keyring written before retiredAt existed still
// parses, verifies, and is stamped at its next rotation.
func TestRotateKeepsKeysForTheTokenLifetime(t *testing.T) {
	const lifetime = 24 * time.Hour
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	k3 := jobtoken.Key{ID: "k3", Secret: strings.Repeat("c", 32)}
	k4 := jobtoken.Key{ID: "k4", Secret: strings.Repeat("d", 32)}
	k5 := jobtoken.Key{ID: "k5", Secret: strings.Repeat("e", 32)}
	k6 := jobtoken.Key{ID: "k6", Secret: strings.Repeat("f", 32)}
	retired := func(k jobtoken.Key, at time.Time) jobtoken.Key { k.RetiredAt = at; return k }
	oldFormat := `{"current":{"id":"k1","secret":"` + k1.Secret + `"},"previous":[{"id":"k0","secret":"` + strings.Repeat("0", 32) + `"}]}`
	for _, tt := range []struct {
		name      string
		start     string          // the keyring's JSON
		rotations []time.Duration // after t0, each to the next of k2, k3, ...
		check     time.Duration   // after t0: when the outcome signed with k1 at t0 arrives
		deadline  time.Duration   // after t0: its token's deadline
		want      []jobtoken.Key  // the previous keys after the rotations
		err       error           // of Check at check
	}{
		{name: "a pending job's token spans three rotations within its lifetime", start: `{"current":{"id":"k1","secret":"` + k1.Secret + `"}}`,
			rotations: []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour}, check: 20 * time.Hour, deadline: 23 * time.Hour,
			want: []jobtoken.Key{retired(k3, t0.Add(3*time.Hour)), retired(k2, t0.Add(2*time.Hour)), retired(k1, t0.Add(time.Hour))}},
		{name: "and five rotations, the last one lifetime+TTL after k1's retirement", start: `{"current":{"id":"k1","secret":"` + k1.Secret + `"}}`,
			rotations: []time.Duration{0, time.Minute, 2 * time.Minute, 3 * time.Minute, lifetime + jobtoken.KeyringTTL}, check: lifetime, deadline: lifetime + time.Minute,
			want: []jobtoken.Key{retired(k5, t0.Add(lifetime+jobtoken.KeyringTTL)), retired(k4, t0.Add(3*time.Minute)), retired(k3, t0.Add(2*time.Minute)),
				retired(k2, t0.Add(time.Minute)), retired(k1, t0)}},
		{name: "a key retired longer ago than lifetime+TTL is pruned", start: `{"current":{"id":"k1","secret":"` + k1.Secret + `"}}`,
			rotations: []time.Duration{0, lifetime + jobtoken.KeyringTTL + time.Second}, check: lifetime + jobtoken.KeyringTTL + 2*time.Second, deadline: lifetime + time.Hour,
			want: []jobtoken.Key{retired(k2, t0.Add(lifetime+jobtoken.KeyringTTL+time.Second))}, err: jobtoken.ErrUnknownKey},
		{name: "an old-format keyring verifies without rotation", start: oldFormat, check: time.Hour, deadline: 2 * time.Hour,
			want: []jobtoken.Key{{ID: "k0", Secret: strings.Repeat("0", 32)}}},
		{name: "an old-format previous key is taken as retired at the first rotation", start: oldFormat,
			rotations: []time.Duration{time.Hour, lifetime}, check: lifetime + time.Minute, deadline: lifetime + time.Hour,
			want: []jobtoken.Key{retired(k2, t0.Add(lifetime)), retired(k1, t0.Add(time.Hour)), retired(jobtoken.Key{ID: "k0", Secret: strings.Repeat("0", 32)}, t0.Add(time.Hour))}},
		{name: "and pruned a lifetime+TTL after that", start: oldFormat,
			rotations: []time.Duration{time.Hour, time.Hour + lifetime + jobtoken.KeyringTTL + time.Second}, check: lifetime, deadline: lifetime + time.Hour,
			want: []jobtoken.Key{retired(k2, t0.Add(time.Hour+lifetime+jobtoken.KeyringTTL+time.Second))}, err: jobtoken.ErrUnknownKey},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := jobtoken.ParseKeyring(tt.start)
			require.NoError(t, err)
			tok := jobtoken.Sign(k1, 42, t0.Add(tt.deadline).UnixMilli(), "book-hotel")
			for i, at := range tt.rotations {
				next := []jobtoken.Key{k2, k3, k4, k5, k6}[i]
				// Through the secret's JSON, as rotate-key reads and writes it.
				b, err := json.Marshal(r.Rotate(next, t0.Add(at), lifetime))
				require.NoError(t, err)
				r, err = jobtoken.ParseKeyring(string(b))
				require.NoError(t, err)
			}
			assert.Equal(t, tt.want, r.Previous)
			o := jobmsg.Outcome{V: 1, JobKey: 42, Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"a":1}`), Token: tok}
			o.MAC, err = jobtoken.Seal(tok, o)
			require.NoError(t, err)
			err = jobtoken.Check(r, o, t0.Add(tt.check).UnixMilli())
			if tt.err == nil {
				require.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.err)
		})
	}
}

// TestKeyringJSON: retiredAt is written in RFC 3339 and only for previous keys.
func TestKeyringJSON(t *testing.T) {
	r := jobtoken.Keyring{Current: k1}.Rotate(k2, time.Date(2026, 12, 1, 8, 0, 0, 500, time.FixedZone("CET", 3600)), time.Hour)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, `{"current":{"id":"k2","secret":"`+k2.Secret+`"},"previous":[{"id":"k1","secret":"`+k1.Secret+`","retiredAt":"2026-12-01T07:00:00Z"}]}`, string(b))
}

// TestVerifierFindsARotatedKey: an outcome signed with a key rotated in after
// the verifier read the keyring is verified after one forced read; reads are
// cached otherwise, and a failed read is not an invalid token.
func TestVerifierFindsARotatedKey(t *testing.T) {
	var reads atomic.Int32
	current := jobtoken.Keyring{Current: k1}
	keys := jobtoken.NewKeys(func(context.Context) (string, error) {
		reads.Add(1)
		b, err := json.Marshal(current)
		return string(b), err
	})
	keys.MinRefresh = 0
	v := jobtoken.Verifier{Keys: keys, Now: func() time.Time { return time.UnixMilli(now) }}
	ctx := context.Background()
	require.NoError(t, v.Verify(ctx, sealed(t, k1)))
	require.NoError(t, v.Verify(ctx, sealed(t, k1)))
	assert.Equal(t, int32(1), reads.Load(), "cached")

	current = current.Rotate(k2, time.UnixMilli(now), jobtoken.DefaultMaxTokenLifetime)
	require.NoError(t, v.Verify(ctx, sealed(t, k2)), "the new key is read on first sight")
	require.NoError(t, v.Verify(ctx, sealed(t, k1)), "the old one still counts")
	assert.Equal(t, int32(2), reads.Load())

	broken := jobtoken.Verifier{Keys: jobtoken.NewKeys(func(context.Context) (string, error) { return "", errors.New("throttled") })}
	err := broken.Verify(ctx, sealed(t, k1))
	require.Error(t, err)
	assert.NotErrorIs(t, err, jobtoken.ErrInvalid, "a keyring that cannot be read says nothing about the outcome")
}

func TestSignerSignsWithTheCurrentKey(t *testing.T) {
	j := jobmsg.Job{Key: 42, Deadline: now + 60_000, CustomHeaders: map[string]string{"identifier": "book-hotel"}}
	require.NoError(t, jobtoken.Signer{Keys: jobtoken.Static(ring)}.Sign(context.Background(), &j))
	assert.Equal(t, "k2", j.Token.KeyID)
	assert.Equal(t, jobtoken.Sign(k2, 42, now+60_000, "book-hotel"), j.Token)
}

// TestUnknownKeyIDWithinMinRefresh: an outcome signed with a key rotated in
// less than MinRefresh after the last read is retried, not dead-lettered,
// and verified once a read is allowed; a key id no read ever shows is invalid.
func TestUnknownKeyIDWithinMinRefresh(t *testing.T) {
	var reads atomic.Int32
	current := jobtoken.Keyring{Current: k1}
	clock := time.UnixMilli(now)
	keys := jobtoken.NewKeys(func(context.Context) (string, error) {
		reads.Add(1)
		b, err := json.Marshal(current)
		return string(b), err
	})
	keys.Now = func() time.Time { return clock }
	v := jobtoken.Verifier{Keys: keys, Now: func() time.Time { return time.UnixMilli(now) }}
	ctx := context.Background()
	require.NoError(t, v.Verify(ctx, sealed(t, k1)))

	current = current.Rotate(k2, time.UnixMilli(now), jobtoken.DefaultMaxTokenLifetime)
	k9 := jobtoken.Key{ID: "k9", Secret: strings.Repeat("z", 32)}
	for _, tt := range []struct {
		name    string
		after   time.Duration // since the first read
		key     jobtoken.Key
		want    error // nil: verified
		invalid bool
		reads   int32
	}{
		{name: "rotated in, read 1 s ago", after: time.Second, key: k2, want: jobtoken.ErrKeyNotYetRead, reads: 1},
		{name: "forged, read 5 s ago", after: 5 * time.Second, key: k9, want: jobtoken.ErrKeyNotYetRead, reads: 1},
		{name: "rotated in, MinRefresh later", after: 10 * time.Second, key: k2, reads: 2},
		{name: "forged, 1 s after that read", after: 11 * time.Second, key: k9, want: jobtoken.ErrKeyNotYetRead, reads: 2},
		{name: "forged, MinRefresh after that read", after: 20 * time.Second, key: k9, want: jobtoken.ErrUnknownKey, invalid: true, reads: 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock = time.UnixMilli(now).Add(tt.after)
			err := v.Verify(ctx, sealed(t, tt.key))
			assert.Equal(t, tt.reads, reads.Load(), "reads so far")
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
			assert.Equal(t, tt.invalid, errors.Is(err, jobtoken.ErrInvalid), "dead-lettered only when invalid")
		})
	}

	static := jobtoken.Verifier{Keys: jobtoken.Static(jobtoken.Keyring{Current: k1}), Now: v.Now}
	assert.ErrorIs(t, static.Verify(ctx, sealed(t, k9)), jobtoken.ErrUnknownKey, "a static keyring is never read again: unknown is final")
}
