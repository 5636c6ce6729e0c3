package fulfiller_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/fulfiller"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

const vectorsDir = "../internal/jobtoken/testdata/"

// TestOutcomesSealedInPythonAndNode: an outcome sealed (seal version 2) by
// the reference code of docs/contract.md in Python and in Node.js, as it
// arrives on the outcomes queue, is applied by the fulfiller: every kind,
// synchronous and asynchronous, big job keys and big integers included.
func TestOutcomesSealedInPythonAndNode(t *testing.T) {
	// The key and deadline internal/jobtoken's vectors are signed with.
	key := jobtoken.Key{ID: "vectors", Secret: "zeebe-lambda-bridge seal vectors, not a secret"}
	now := time.UnixMilli(1_800_000_000_000)
	for _, lang := range []struct{ name, tool, script string }{
		{"Python", "python3", "seal.py"},
		{"Node.js", "node", "seal.mjs"},
	} {
		t.Run(lang.name, func(t *testing.T) {
			bodies := sealedBodies(t, lang.tool, vectorsDir+lang.script)
			require.Len(t, bodies, sealableVectors(t), "one sealed outcome for each vector that has a version 2 seal")
			for i, body := range bodies {
				o, err := jobmsg.DecodeOutcome([]byte(body))
				require.NoError(t, err, body)
				require.Equal(t, jobtoken.SealV2, o.SealVersion)
				zb, rd := &fakeZeebe{}, &fakeRedelivery{}
				h := fulfiller.New(zb, joblog.Discard())
				h.Redelivery, h.Leases, h.Now = rd, &memLeases{}, func() time.Time { return now }
				h.Verifier = jobtoken.Verifier{Keys: jobtoken.Static(jobtoken.Keyring{Current: key}), Now: h.Now}
				id := string(rune('a' + i))
				resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: id, Body: body, EventSource: "aws:sqs"}}})
				require.NoError(t, err)
				assert.Empty(t, resp.BatchItemFailures, body)
				assert.Empty(t, rd.deadLetters, body)
				want := map[jobmsg.Kind]string{jobmsg.Complete: "complete", jobmsg.Fail: "fail", jobmsg.Error: "error", jobmsg.Heartbeat: "timeout"}[o.Outcome]
				if assert.Len(t, zb.calls, 1, body) {
					assert.Equal(t, want, zb.calls[0].Op, body)
					assert.Equal(t, o.JobKey, zb.calls[0].Key, body)
				}
			}
		})
	}
}

// sealedBodies runs a reference script over the seal vectors and returns
// the outcome messages it sealed.
// sealableVectors counts the seal vectors that have a version 2 seal (one
// holds a number no double can hold, and cannot be sealed).
func sealableVectors(t *testing.T) int {
	t.Helper()
	raw, err := os.ReadFile(vectorsDir + "seal-vectors.json")
	require.NoError(t, err)
	var file struct {
		Vectors []map[string]json.RawMessage `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(raw, &file))
	n := 0
	for _, v := range file.Vectors {
		if s, ok := v["sealV2"]; ok && string(s) != "null" && string(s) != `""` {
			n++
		}
	}
	require.Positive(t, n)
	return n
}

func sealedBodies(t *testing.T, tool, script string) []string {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		require.FailNowf(t, "missing tool", "%s is not on PATH: outcomes sealed in Python 3 and Node.js (20 or newer) are part of the contract's tests; install both", tool)
	}
	_, err := os.Stat(script)
	require.NoError(t, err)
	cmd := exec.Command(tool, script, vectorsDir+"seal-vectors.json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var bodies []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Sealed *string `json:"sealed"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line))
		if line.Sealed != nil {
			bodies = append(bodies, *line.Sealed)
		}
	}
	return bodies
}
