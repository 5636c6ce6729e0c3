package jobtoken_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// update rewrites testdata/seal-vectors.json from the Go code: run it once
// after adding a vector (go test ./internal/jobtoken -run TestSealVectors
// -update), never to make a failing seal pass.
var update = flag.Bool("update", false, "rewrite testdata/seal-vectors.json")

const vectorsFile = "testdata/seal-vectors.json"

// vectorKey signs every vector's token; the fulfiller tests use it too.
var vectorKey = jobtoken.Key{ID: "vectors", Secret: "zeebe-lambda-bridge seal vectors, not a secret"}

const vectorDeadline = int64(1_800_000_060_000)

// Vector is one case of testdata/seal-vectors.json: an outcome message as
// it travels (without token, mac and sealVersion), the token it answers, and
// its canonical content and seal under each seal version. A seal of "" means
// the outcome cannot be sealed (every implementation must refuse it).
type Vector struct {
	Name        string       `json:"name"`
	Token       jobmsg.Token `json:"token"`
	Message     string       `json:"message"`
	CanonicalV1 string       `json:"canonicalV1"`
	SealV1      string       `json:"sealV1"`
	CanonicalV2 string       `json:"canonicalV2"`
	SealV2      string       `json:"sealV2"`
}

// VectorFile is testdata/seal-vectors.json.
type VectorFile struct {
	Comment []string `json:"comment"`
	Vectors []Vector `json:"vectors"`
}

// vectorInputs are the cases: the hard parts of both canonical forms.
var vectorInputs = []struct{ name, message string }{
	{"floats", `{"v":1,"jobKey":2251799813685249,"outcome":"complete","variables":{"a":123456789.5,"b":1e21,"c":0.1,"d":-0,"e":-0.0,"f":1.0,"g":1e-7,"h":0.000001,"i":5e-324,"j":1.7976931348623157e308,"k":100000.0,"l":1e5,"m":-2.5E-3,"n":1e20,"o":0.30000000000000004}}`},
	{"integral floats beyond 2^53", `{"v":1,"jobKey":2251799813685249,"outcome":"complete","variables":{"a":9007199254740993.0,"b":1.152921504606846976e18,"c":1152921504606847000,"d":1e22,"e":-1e300}}`},
	{"big integers", `{"v":1,"jobKey":2251799813685249,"outcome":"complete","variables":{"id":9007199254740993,"neg":-9007199254740993,"max":9007199254740992,"u64":18446744073709551615,"huge":123456789012345678901234567890,"zero":0,"minus zero":-0}}`},
	{"HTML characters and line separators", `{"v":1,"jobKey":2251799813685249,"outcome":"complete","variables":{"html":"<a href=\"x?a=1&b=2\">x</a>","sep":"a\u2028b\u2029c","raw":"a b","<key>":"&"}}`},
	{"non-ASCII text and emoji", `{"v":1,"jobKey":2251799813685249,"outcome":"complete","variables":{"name":"Zoë Łódź 東京","emoji":"😀 🚀 \ud83d\ude00","é":1,"e":2,"z":3,"｡":4,"😀":5,"\u00e9t\u00e9":"\u00e9t\u00e9"}}`},
	{"control characters and escapes", `{"v":1,"jobKey":2251799813685249,"outcome":"complete","variables":{"s":"tab\there\nline\r \"q\" back\\slash \u0001 \u001f \u007f \b\f \/ end"}}`},
	{"lone surrogate", `{"v":1,"jobKey":2251799813685249,"outcome":"complete","variables":{"s":"x\ud800y","\udc00":"z"}}`},
	{"empty object", `{"v":1,"jobKey":2251799813685249,"outcome":"complete","variables":{}}`},
	{"null variables", `{"v":1,"jobKey":2251799813685249,"outcome":"complete","variables":null}`},
	{"no variables", `{"v":1,"jobKey":2251799813685249,"outcome":"complete"}`},
	{"nested arrays", `{"v":1,"jobKey":2251799813685249,"outcome":"complete","variables":{"m":[[1,[2.50,[3e0,[]]]],[],[{}],[null,true,false,"x"],[{"b":1,"a":[{"d":0,"c":0}]}]]}}`},
	{"whitespace and key order as a re-serialiser leaves them", `{ "variables" : { "b" : [ 1 , 2.5 , 1000.0 ] , "a" : "x<y \u0026 \u00e9" } , "outcome" : "complete" , "jobKey" : 2251799813685249 , "v" : 1 }`},
	{"fail", `{"v":1,"jobKey":2251799813685249,"processInstanceKey":2251799813685250,"outcome":"fail","errorMessage":"boom <&> ü\n","retries":2,"retryBackoffMs":1500}`},
	{"BPMN error", `{"v":1,"jobKey":2251799813685249,"outcome":"error","errorCode":"FLIGHT_UNAVAILABLE","errorMessage":"no seats","variables":{"reason":"sold out"}}`},
	{"asynchronous completion", `{"v":1,"jobKey":2251799813685249,"outcome":"complete","variables":{"ok":true},"async":true,"deadline":1800000060000}`},
	{"heartbeat", `{"v":1,"jobKey":2251799813685249,"outcome":"heartbeat","async":true,"deadline":1800000060000,"timeoutMs":300000}`},
	{"job key beyond 2^53", `{"v":1,"jobKey":9007199254740993,"outcome":"complete","variables":{"a":1}}`},
	{"number out of range", `{"v":1,"jobKey":2251799813685249,"outcome":"complete","variables":{"big":1e400}}`},
}

func vectorOutcome(t *testing.T, v Vector, version int) jobmsg.Outcome {
	t.Helper()
	o, err := jobmsg.DecodeOutcome([]byte(v.Message))
	require.NoError(t, err, v.Name)
	tok := v.Token
	o.Token, o.SealVersion = &tok, version
	return o
}

// seal returns the canonical content and seal of v under version, both ""
// when it cannot be sealed.
func seal(t *testing.T, v Vector, version int) (canonical, mac string) {
	t.Helper()
	o := vectorOutcome(t, v, version)
	c, err := jobtoken.CanonicalOutcome(o)
	if err != nil {
		return "", ""
	}
	mac, err = jobtoken.Seal(o.Token, o)
	require.NoError(t, err)
	return string(c), mac
}

// TestSealVectors pins Go's seals of both versions to the vectors other
// implementations are tested against.
func TestSealVectors(t *testing.T) {
	if *update {
		f := VectorFile{Comment: []string{
			"Seal test vectors of the zeebe-lambda-bridge contract (docs/contract.md, 'The seal').",
			"message is an outcome message as it travels, without token, mac and sealVersion; token is the job token it answers.",
			"sealV1/sealV2 = base64url(HMAC-SHA256(key = base64url-decode(token.sig), canonicalV1/canonicalV2 as UTF-8)), no padding.",
			"An empty seal means the outcome cannot be sealed: every implementation must refuse it.",
			"Generated once by the Go code (go test ./internal/jobtoken -run TestSealVectors -update); tests pin it.",
		}}
		for _, in := range vectorInputs {
			o, err := jobmsg.DecodeOutcome([]byte(in.message))
			require.NoError(t, err, in.name)
			v := Vector{Name: in.name, Message: in.message, Token: *jobtoken.Sign(vectorKey, o.JobKey, vectorDeadline, "book-hotel")}
			v.CanonicalV1, v.SealV1 = seal(t, v, jobtoken.SealV1)
			v.CanonicalV2, v.SealV2 = seal(t, v, jobtoken.SealV2)
			f.Vectors = append(f.Vectors, v)
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		require.NoError(t, enc.Encode(f))
		require.NoError(t, os.WriteFile(vectorsFile, b.Bytes(), 0o644))
	}
	f := readVectors(t)
	require.Len(t, f.Vectors, len(vectorInputs), "every input has its vector (-update after adding one)")
	for i, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			require.Equal(t, vectorInputs[i].message, v.Message)
			for _, tt := range []struct {
				version        int
				canonical, mac string
			}{{jobtoken.SealV1, v.CanonicalV1, v.SealV1}, {jobtoken.SealV2, v.CanonicalV2, v.SealV2}} {
				c, mac := seal(t, v, tt.version)
				assert.Equal(t, tt.canonical, c, "canonical form, seal version %d", tt.version)
				assert.Equal(t, tt.mac, mac, "seal version %d", tt.version)
				if mac == "" {
					continue
				}
				o := vectorOutcome(t, v, tt.version)
				o.MAC = mac
				assert.NoError(t, jobtoken.Check(jobtoken.Keyring{Current: vectorKey}, o, vectorDeadline), "accepted, seal version %d", tt.version)
			}
		})
	}
}

func readVectors(t *testing.T) VectorFile {
	t.Helper()
	b, err := os.ReadFile(vectorsFile)
	require.NoError(t, err)
	var f VectorFile
	require.NoError(t, json.Unmarshal(b, &f))
	return f
}
