package catalog_test

import (
	"context"
	"encoding/json"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/catalog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

func names(fns []catalog.Function) []string {
	var out []string
	for _, f := range fns {
		out = append(out, f.Name)
	}
	return out
}

// TestCatalogMatchesMainDirectories keeps the catalog and the
// functions/<name> main packages in step: each main must have an entry and
// each entry a main, since `make build` zips every main directory and
// deployment reads the catalog.
func TestCatalogMatchesMainDirectories(t *testing.T) {
	const functions = "../../../functions"
	entries, err := os.ReadDir(functions)
	require.NoError(t, err)
	var mains []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		pkg, err := build.ImportDir(filepath.Join(functions, e.Name()), 0)
		if err != nil {
			continue // no Go files
		}
		if pkg.IsCommand() {
			mains = append(mains, e.Name())
		}
	}
	require.NotEmpty(t, mains)
	var goFns, scripts []string
	for _, f := range catalog.All() {
		if f.Runtime == "" {
			goFns = append(goFns, f.Name)
			continue
		}
		scripts = append(scripts, f.Name)
		// The handler "module.function" names a file of functions/<name>.
		module, _, ok := strings.Cut(f.Handler, ".")
		require.True(t, ok, f.Handler)
		ext := map[bool]string{true: ".py", false: ".mjs"}[strings.HasPrefix(f.Runtime, "python")]
		assert.FileExists(t, filepath.Join(functions, f.Name, module+ext))
		assert.Nil(t, f.New, "a function in another runtime has no Go handler")
	}
	assert.ElementsMatch(t, []string{"book-car", "book-flight", "chaos-py", "chaos-node", "noop-py", "noop-node"}, scripts)
	// long-work-finish is a plain Lambda fed by the long-work queue, not a
	// Zeebe-ready function, so the catalog does not list it.
	assert.ElementsMatch(t, mains, append(goFns, "long-work-finish"))
	assert.ElementsMatch(t, names(catalog.All()), names(append(append(catalog.TripBooking(), catalog.Chaos()...), catalog.LongWork()...)))
}

// TestModelIdentifiersAreInTheCatalog checks that every function the trip
// booking model calls exists.
func TestModelIdentifiersAreInTheCatalog(t *testing.T) {
	for model, fns := range map[string][]catalog.Function{"trip-booking.bpmn": catalog.TripBooking(), "echo-loop.bpmn": catalog.Chaos(), "long-work.bpmn": catalog.LongWork()} {
		src, err := os.ReadFile("../../../bpmn/" + model)
		require.NoError(t, err)
		ids := regexp.MustCompile(`<zeebe:header key="identifier" value="([^"]+)"`).FindAllStringSubmatch(string(src), -1)
		require.NotEmpty(t, ids, model)
		for _, m := range ids {
			assert.Contains(t, names(fns), m[1], model)
		}
	}
}

type capture struct{ outcomes []jobmsg.Outcome }

func (c *capture) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	for _, m := range msgs {
		o, _ := jobmsg.DecodeOutcome(m.Body)
		c.outcomes = append(c.outcomes, o)
	}
	return make([]error, len(msgs))
}

// TestCatalogEntriesAreDeployableAndRun builds every entry's handler and
// gives it one job, as the in-process harness would.
func TestCatalogEntriesAreDeployableAndRun(t *testing.T) {
	for _, f := range catalog.All() {
		if f.New == nil {
			continue // Python and Node.js: internal/runtimeproxy's integration test runs them
		}
		t.Run(f.Name, func(t *testing.T) {
			// What modules/zeebe-lambda's variable validation accepts.
			assert.Regexp(t, `^[A-Za-z0-9_-]{1,64}$`, f.Name)
			assert.True(t, f.Timeout >= time.Second && f.Timeout <= 900*time.Second && f.Timeout%time.Second == 0, "timeout %s", f.Timeout)
			got, ok := catalog.ByName(f.Name)
			require.True(t, ok)
			assert.Equal(t, f.Timeout, got.Timeout)

			pub := &capture{}
			h, err := f.New(lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn", Logger: joblog.Discard()})
			require.NoError(t, err)
			job, err := jobmsg.EncodeJob(jobmsg.Job{Key: 1, CustomHeaders: map[string]string{"identifier": f.Name}, Retries: 3,
				Deadline: time.Now().Add(time.Minute).UnixMilli(), Variables: json.RawMessage(`{"tripId":"t1","sleepSeconds":0}`)})
			require.NoError(t, err)
			payload, err := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: string(job.Body), EventSource: "aws:sqs"}}})
			require.NoError(t, err)
			_, err = h.Invoke(context.Background(), payload)
			require.NoError(t, err)
			require.Len(t, pub.outcomes, 1, "every function publishes one outcome per job")
			if f.Name == "long-work" {
				// Without its queue it cannot answer pending, and says why.
				assert.Equal(t, jobmsg.Fail, pub.outcomes[0].Outcome)
				assert.Contains(t, pub.outcomes[0].ErrorMessage, "WORK_QUEUE_URL")
			}
		})
	}
	_, ok := catalog.ByName("nope")
	assert.False(t, ok)
}

// TestFunctionsDoNotImportTheZeebeClient guards the design's central
// promise: a function's binary knows SQS, SNS and the contract, nothing of
// the engine.
func TestFunctionsDoNotImportTheZeebeClient(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	const module = "github.com/zeebe-lambda-bridge/zeebe-lambda-bridge"
	out, err := exec.Command(goTool, "list", "-deps", module+"/lambdakit/...", module+"/functions/...").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, module+"/lambdakit", "go list must have listed the packages")
	for _, d := range deps {
		assert.False(t, strings.HasPrefix(d, "github.com/camunda/"), "lambdakit and functions/ depend on %s", d)
	}
}
