package jobtoken

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// differentialDocs are the hard cases of reading JSON as encoding/json
// does: the streamed canonical forms must write what the tree wrote, and
// refuse what it refused, with the same error.
var differentialDocs = []string{
	``, ` `, "\t\r\n", "\u00a0", "\f{}",
	`null`, `true`, `false`, `0`, `-0`, `1.5`, `"s"`, `{}`, `[]`, ` { } `, `[ ]`,
	`{"b":1,"a":2}`, `{"a":1,"a":2}`, `{"a":1,"b":0,"a":{"z":1,"y":2}}`, `{"a":[1e400],"a":1}`, `{"a":1e400}`,
	`{"\u0061":1,"a":2}`, `{"a":2,"\u0061":1}`, `{"é":1,"e\u0301":2,"e":3}`,
	`{"😀":1,"｡":2,"\ue000":3,"\ud7ff":4,"a":5,"😁":6,"\ud800":7,"\udfff":8,"\ud83d\ude00x":9}`,
	`{"<a>":"<&>","\u2028":"\u2029","x":"a` + "\u2028" + `b"}`,
	`"tab\there\nline\r \"q\" back\\slash \u0001 \u001f \u007f \b\f \/ end"`,
	"\"bad \xff utf-8 \xc3\x28\"", "{\"\xff\":\"\xfe\"}", `"x\ud800y\udc00z\ud83d\ude00"`, `"\uD83D\uDE00"`,
	`[1.0, 1e5, 100000, -0, 0.1, 123456789012345678901234567890, 1e20, 1e21, 5e-324, -0.0, 1E+2, 9007199254740993.0]`,
	`[[[[[]]]],[{}],[{"b":[{"d":0,"c":0}],"a":null}]]`,
	`{"a":1} {"b":2}`, `{"a":1}{"b":2}`, `{"a":1} x`, `{"a":1}x`, `{"a":1} ]`, `{"a":1} [`, `{"a":1} 1`, `{"a":1} "x`, `{"a":1} tru`,
	`1 2`, `1x`, `1]`, `1 x`, `"a"x`, `"a" x`, `truex`, `true x`, `null,`, `[1]x`, `[1] 2`,
	`{`, `}`, `[`, `]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`, `{1:2}`, `{'a':1}`, `[01]`, `[-]`, `[1.]`, `[.5]`, `[1e]`,
	`[1e+]`, `[+1]`, `[NaN]`, `[Infinity]`, `[tru]`, `[nul]`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\x01\"", `"unterminated`, `[1 2]`,
	`{"a" 1}`, `{"a":1 "b":2}`, `[true false]`, "[1,\v2]",
}

func TestStreamedCanonicalMatchesTheTree(t *testing.T) {
	deep := func(n int, open, close string) string { return strings.Repeat(open, n) + strings.Repeat(close, n) }
	docs := append(copyOf(differentialDocs), deep(10000, "[", "]"), deep(10001, "[", "]"),
		deep(9999, `{"a":`, "}")[:9999*5]+"1"+strings.Repeat("}", 9999), deep(10001, `{"a":`, "}")[:10001*5]+"1"+strings.Repeat("}", 10001))
	for i, doc := range docs {
		name := doc
		if len(name) > 40 {
			name = fmt.Sprintf("%d: %s...", i, name[:40])
		}
		t.Run(name, func(t *testing.T) { sameAsTree(t, doc) })
	}
}

// TestStreamedCanonicalMatchesTheTreeOnRandomDocuments: random documents
// with what trips canonicalisers (duplicate keys, escapes, invalid UTF-8,
// numbers of every form, space everywhere, truncation).
func TestStreamedCanonicalMatchesTheTreeOnRandomDocuments(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 12))
	for range 3000 {
		doc := randomJSON(r, 0)
		if r.IntN(10) == 0 {
			doc = doc[:r.IntN(len(doc)+1)]
		}
		sameAsTree(t, doc)
	}
}

func FuzzStreamedCanonicalMatchesTheTree(f *testing.F) {
	for _, doc := range differentialDocs {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) { sameAsTree(t, doc) })
}

func copyOf(s []string) []string { return append([]string(nil), s...) }

// sameAsTree holds both forms, and both outcomes' content, of doc to the
// tree version's.
func sameAsTree(t *testing.T, doc string) {
	t.Helper()
	for _, v := range []struct {
		name       string
		tree, strm func(json.RawMessage) (json.RawMessage, error)
	}{{"v1", legacyCanonical, Canonical}, {"v2", legacyCanonicalJCS, CanonicalJCS}} {
		want, wantErr := v.tree(json.RawMessage(doc))
		got, err := v.strm(json.RawMessage(doc))
		if wantErr != nil {
			require.EqualError(t, err, wantErr.Error(), "%s of %q", v.name, doc)
			continue
		}
		require.NoError(t, err, "%s of %q", v.name, doc)
		require.Equal(t, string(want), string(got), "%s of %q", v.name, doc)
	}
	for _, o := range []jobmsg.Outcome{
		{JobKey: 9007199254740993, Outcome: jobmsg.Complete, Variables: json.RawMessage(doc)},
		{JobKey: 1, Outcome: jobmsg.Fail, ErrorMessage: "boom <&> ü\n\u2028", Retries: 2, RetryBackoffMs: 1500, Variables: json.RawMessage(doc)},
		{JobKey: 1, Outcome: jobmsg.Error, ErrorCode: "E\"1", Variables: json.RawMessage(doc), Async: true, Deadline: 1800000060000, TimeoutMs: -3},
	} {
		for _, version := range []int{0, SealV1, SealV2, 3} {
			o.SealVersion = version
			want, wantErr := legacyCanonicalOutcome(o)
			got, err := CanonicalOutcome(o)
			if wantErr != nil {
				require.EqualError(t, err, wantErr.Error(), "version %d of %q", version, doc)
				continue
			}
			require.NoError(t, err, "version %d of %q", version, doc)
			require.Equal(t, string(want), string(got), "version %d of %q", version, doc)
		}
	}
}

// randomJSON writes a random value, at times not quite JSON.
func randomJSON(r *rand.Rand, depth int) string {
	sp := func() string { return []string{"", "", " ", "\n\t", "\r "}[r.IntN(5)] }
	keys := []string{"a", "b", "a", "é", `\u00e9`, "😀", "｡", `\ud83d\ude00`, `\ud800`, "<x>", "", `\"`, "A", "\xff"}
	kind := r.IntN(12)
	if depth > 4 {
		kind = 4 + r.IntN(8)
	}
	switch kind {
	case 0, 1:
		var b strings.Builder
		b.WriteString("{" + sp())
		for i := range r.IntN(6) {
			if i > 0 {
				b.WriteString("," + sp())
			}
			b.WriteString(`"` + keys[r.IntN(len(keys))] + `"` + sp() + ":" + sp() + randomJSON(r, depth+1) + sp())
		}
		return b.String() + "}"
	case 2, 3:
		var b strings.Builder
		b.WriteString("[" + sp())
		for i := range r.IntN(6) {
			if i > 0 {
				b.WriteString("," + sp())
			}
			b.WriteString(randomJSON(r, depth+1) + sp())
		}
		return b.String() + "]"
	case 4, 5, 6:
		return []string{"0", "-0", "1", "-12", "1.0", "1e5", "1E-7", "0.1", "123456789012345678901234567890", "9007199254740993.0",
			"1e400", "-1e-400", "5e-324", "1.7976931348623157e308", "100000.0", "1e21", "01", "1.", "-"}[r.IntN(19)]
	case 7, 8, 9:
		return `"` + []string{"plain", "<&>", "\u2028", `\u2028`, `\n\t\"\\\/`, `\u0001`, "\xff\xfe", `\ud800`, `\udc00\ud800`, "日本", "😀", `\ud83d\ude00`, "\x01", `\q`}[r.IntN(14)] + `"`
	}
	return []string{"true", "false", "null", "nul", "tru"}[r.IntN(5)]
}

// TestCompareUTF16 against encoding both strings.
func TestCompareUTF16(t *testing.T) {
	strs := []string{"", "a", "ab", "b", "é", "｡", "\ue000", "\uffff", "\ud7ff", "😀", "😁", "😀a", "\U0010ffff", "\U00010000", "a😀", "a\uffff"}
	for _, a := range strs {
		for _, b := range strs {
			want := compareUnits(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
			assert.Equal(t, want, compareUTF16(a, b), "%q vs %q", a, b)
		}
	}
}

func compareUnits(a, b []uint16) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// document4MiB is a 4 MiB variables document as a function might return
// it: records of short strings, numbers of each kind, nested objects and
// arrays, some escapes and non-ASCII text.
func document4MiB() json.RawMessage {
	var b bytes.Buffer
	b.WriteString(`{"batch":"2026-12-06","records":[`)
	for i := 0; b.Len() < 4<<20-512; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"sku":"SKU-%06d","name":"Zoë's item \"%d\" <b>","price":%d.%02d,"qty":%d,"ratio":%g,"tags":["a","b%d","é"],`+
			`"active":%t,"note":null,"dims":{"w":%d,"h":%d.5,"unit":"cm"},"big":9007199254740%03d}`,
			i, i, i, i%1000, i%100, i%7, float64(i)/3, i%10, i%2 == 0, i%50, i%30, i%1000)
	}
	b.WriteString(`],"total":1e5}`)
	return b.Bytes()
}

// peakHeap runs f and returns the most heap its objects took above what
// they took before, sampled as f runs: live data and not yet collected
// garbage both, as a function's memory holds them.
func peakHeap(f func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	stop, peak := make(chan struct{}), make(chan uint64)
	go func() {
		var top uint64
		for {
			if b := read(); b > top {
				top = b
			}
			select {
			case <-stop:
				peak <- top
				return
			default:
				runtime.Gosched()
			}
		}
	}()
	f()
	close(stop)
	top := <-peak
	if top < base {
		return 0
	}
	return top - base
}

// BenchmarkCanonicalOutcome4MiB measures the seal's canonicalisation of a 4
// MiB outcome, both seal versions, the tree version (legacy) beside the
// streamed one: B/op, and peak-MiB, the most heap one call took above its
// start (docs/design.md, "Trust and size"):
//
//	go test ./internal/jobtoken -run '^$' -bench CanonicalOutcome4MiB -benchtime 10x
func BenchmarkCanonicalOutcome4MiB(b *testing.B) {
	vars := document4MiB()
	tok := &jobmsg.Token{KeyID: "k", Deadline: 1, Identifier: "x", Sig: "c2lnbmF0dXJl"}
	for _, version := range []int{SealV1, SealV2} {
		o := jobmsg.Outcome{JobKey: 1, Outcome: jobmsg.Complete, Variables: vars, SealVersion: version}
		for _, impl := range []struct {
			name string
			seal func() error
		}{
			{"tree", func() error { // the content built, then hashed, as Seal did
				c, err := legacyCanonicalOutcome(o)
				if err != nil {
					return err
				}
				_, err = sealOver(tok, c)
				return err
			}},
			{"stream", func() error { _, err := Seal(tok, o); return err }},
		} {
			b.Run(fmt.Sprintf("v%d/%s", version, impl.name), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(vars)))
				var peak uint64
				for b.Loop() {
					var err error
					p := peakHeap(func() { err = impl.seal() })
					require.NoError(b, err)
					peak = max(peak, p)
				}
				b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
			})
		}
	}
}
