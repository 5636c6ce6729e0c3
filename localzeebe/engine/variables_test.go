package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseDocumentNormalizes: a document comes out as Zeebe's MessagePack
// round trip would give it back: compact, in order, without the HTML escapes
// a client's JSON encoder may add, numbers as written.
func TestParseDocumentNormalizes(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":1,"b":[1,2,{"c":"\u003cx\u003e","d":null}],"e":{}}`, `{"a":1,"b":[1,2,{"c":"<x>","d":null}],"e":{}}`},
		{`{"doc":"\u0026\u0026"}`, `{"doc":"&&"}`},
		{`  { "z" : [ ] , "a" : 1.50, "q": "say \"hi\"\n" } `, `{"z":[],"a":1.50,"q":"say \"hi\"\n"}`},
		{`{"n":[[],[{}],{"a":[1,true,false]}]}`, `{"n":[[],[{}],{"a":[1,true,false]}]}`},
		{`{"big":2251799813685249}`, `{"big":2251799813685249}`},
		{``, `{}`},
		{`null`, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			vars, err := ParseDocument([]byte(tt.in))
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(encodeDocument(vars)))
		})
	}
	for _, bad := range []string{`[1]`, `{"a":}`, `{"a":1} x`, `{`, `"s"`} {
		_, err := ParseDocument([]byte(bad))
		assert.ErrorIs(t, err, ErrInvalidDocument, bad)
	}
}
