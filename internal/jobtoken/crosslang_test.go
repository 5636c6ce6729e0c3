package jobtoken_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// scriptSeal is one line of seal.py's or seal.mjs's output.
type scriptSeal struct {
	Name        string  `json:"name"`
	CanonicalV1 string  `json:"canonicalV1"`
	SealV1      string  `json:"sealV1"`
	CanonicalV2 string  `json:"canonicalV2"`
	SealV2      string  `json:"sealV2"`
	Sealed      *string `json:"sealed"`
}

// runTool runs a command of the test's environment; a missing one fails
// the test, since the contract is shown only where all three languages run.
func runTool(t *testing.T, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		require.FailNowf(t, "missing tool", "%s is not on PATH: the seal vectors are checked against Python 3 and Node.js (20 or newer); install both", name)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), stderr.String())
	return out
}

func runScript(t *testing.T, name string, args ...string) []scriptSeal {
	t.Helper()
	var got []scriptSeal
	sc := bufio.NewScanner(bytes.NewReader(runTool(t, nil, name, args...)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s scriptSeal
		require.NoError(t, json.Unmarshal(sc.Bytes(), &s), sc.Text())
		got = append(got, s)
	}
	return got
}

// TestSealVectorsInPythonAndNode: the reference implementations in
// testdata, written with nothing but each language's standard library,
// compute Go's seals of both versions for every vector, and the outcomes
// they seal pass the fulfiller's check, also after LocalStack's event source
// mapping has re-serialised them.
func TestSealVectorsInPythonAndNode(t *testing.T) {
	vectors := readVectors(t).Vectors
	ring := jobtoken.Keyring{Current: vectorKey}
	for _, lang := range []struct{ name, tool, script string }{
		{"Python", "python3", "testdata/seal.py"},
		{"Node.js", "node", "testdata/seal.mjs"},
	} {
		t.Run(lang.name, func(t *testing.T) {
			got := runScript(t, lang.tool, lang.script, vectorsFile)
			require.Len(t, got, len(vectors))
			var sealed []string
			for i, v := range vectors {
				require.Equal(t, v.Name, got[i].Name)
				assert.Equal(t, v.CanonicalV1, got[i].CanonicalV1, "%s: canonical form, seal version 1", v.Name)
				assert.Equal(t, v.SealV1, got[i].SealV1, "%s: seal version 1", v.Name)
				assert.Equal(t, v.CanonicalV2, got[i].CanonicalV2, "%s: canonical form", v.Name)
				assert.Equal(t, v.SealV2, got[i].SealV2, "%s: seal", v.Name)
				if v.SealV2 == "" {
					assert.Nil(t, got[i].Sealed, "%s: refused", v.Name)
					continue
				}
				require.NotNil(t, got[i].Sealed, v.Name)
				sealed = append(sealed, *got[i].Sealed)
			}
			// What LocalStack 4.14's SQS event source mapping does to a body
			// (pollers/sqs_poller.py: json.loads, then json.dumps).
			reserialised := strings.Split(strings.TrimSpace(string(runTool(t, []byte(strings.Join(sealed, "\n")), "python3", "-c",
				"import json, sys\nfor line in sys.stdin: print(json.dumps(json.loads(line)))"))), "\n")
			require.Len(t, reserialised, len(sealed))
			for i, body := range append(sealed, reserialised...) {
				o, err := jobmsg.DecodeOutcome([]byte(body))
				require.NoError(t, err, body)
				assert.Equal(t, jobtoken.SealV2, o.SealVersion)
				assert.NoError(t, jobtoken.Check(ring, o, vectorDeadline), "re-serialised: %v; %s", i >= len(sealed), body)
			}
		})
	}
}

// TestSealV1SurvivesLocalStack: outcomes Go seals with version 1 pass the
// check after LocalStack's re-serialisation too.
func TestSealV1SurvivesLocalStack(t *testing.T) {
	var bodies []string
	for _, v := range readVectors(t).Vectors {
		if v.SealV1 == "" {
			continue
		}
		o := vectorOutcome(t, v, jobtoken.SealV1)
		o.MAC = v.SealV1
		m, err := jobmsg.EncodeOutcome(o)
		require.NoError(t, err)
		bodies = append(bodies, string(m.Body))
	}
	out := runTool(t, []byte(strings.Join(bodies, "\n")), "python3", "-c",
		"import json, sys\nfor line in sys.stdin: print(json.dumps(json.loads(line)))")
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, len(bodies))
	for _, body := range lines {
		o, err := jobmsg.DecodeOutcome([]byte(body))
		require.NoError(t, err, body)
		assert.NoError(t, jobtoken.Check(jobtoken.Keyring{Current: vectorKey}, o, vectorDeadline), body)
	}
}

// TestNumbersInPythonAndNode: the number rules of both seal versions agree
// in Go, Python and Node.js for doubles across the whole range, written as
// Go writes them (exponent and plain forms, integral and not), beyond what
// the vectors list.
func TestNumbersInPythonAndNode(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 8785)) // fixed: a failure can be rerun
	var literals []string
	for range 3000 {
		var f float64
		switch r.IntN(3) {
		case 0: // any bit pattern
			f = math.Float64frombits(r.Uint64())
		case 1: // every decimal exponent, few digits
			f = math.Round(r.Float64()*1000) * math.Pow(10, float64(r.IntN(640)-330))
		default: // near integers, around 2^53 and below 1e21
			f = math.Ldexp(1+r.Float64(), r.IntN(80)) + float64(r.IntN(3)-1)*0.5
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			continue
		}
		if r.IntN(2) == 0 {
			f = -f
		}
		literals = append(literals, strconv.FormatFloat(f, 'g', -1, 64))
	}
	want := make([]string, len(literals))
	for i, lit := range literals {
		v1, err := jobtoken.Canonical(json.RawMessage("[" + lit + "]"))
		require.NoError(t, err, lit)
		v2, err := jobtoken.CanonicalJCS(json.RawMessage("[" + lit + "]"))
		require.NoError(t, err, lit)
		want[i] = strings.Trim(string(v1), "[]") + " " + strings.Trim(string(v2), "[]")
	}
	stdin := []byte(strings.Join(literals, "\n") + "\n")
	for _, lang := range []struct{ name, tool, program string }{
		{"Python", "python3", "import json, sys\nsys.path.insert(0, 'testdata')\nimport seal\n" +
			"for line in sys.stdin: x = json.loads(line); print(seal.go_number(x), seal.number(x))"},
		{"Node.js", "node", "import('./testdata/seal.mjs').then(({ parse, number, goNumber }) => {\n" +
			"  for (const line of require('fs').readFileSync(0, 'utf8').trimEnd().split('\\n')) {\n" +
			"    const lit = parse(line).literal; console.log(goNumber(lit) + ' ' + number(lit)); } });"},
	} {
		t.Run(lang.name, func(t *testing.T) {
			flag := "-c"
			if lang.tool == "node" {
				flag = "-e"
			}
			got := strings.Split(strings.TrimSpace(string(runTool(t, stdin, lang.tool, flag, lang.program))), "\n")
			require.Len(t, got, len(literals))
			for i := range literals {
				assert.Equal(t, want[i], got[i], "%s (seal version 1, then 2)", literals[i])
			}
		})
	}
}
