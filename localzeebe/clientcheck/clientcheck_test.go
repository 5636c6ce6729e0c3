//go:build integration

package clientcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/localzeebetest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
)

// scenarioTimeout bounds one client's whole scenario, install excluded.
const scenarioTimeout = 60 * time.Second

// scriptOutput is what a scenario script prints (zbctl's run builds it too).
type scriptOutput struct {
	ProcessInstanceKey jsonKey  `json:"processInstanceKey"`
	IncidentKey        jsonKey  `json:"incidentKey"`
	Handled            []string `json:"handled"`
	UserTaskAssignee   string   `json:"userTaskAssignee"`
	Topology           string   `json:"topology"` // the Java client's reading of it
}

// outcome is what the record log says happened to one instance.
type outcome struct {
	Completed  bool
	EndEvent   string
	Elements   []string          // "ELEMENT_COMPLETED Work", ... for the flow's elements, in order
	Jobs       []string          // "client-check-work CREATED", ... in order
	Incidents  []string          // "CREATED JOB_NO_RETRIES", "RESOLVED JOB_NO_RETRIES"
	Messages   []string          // "PROCESS_MESSAGE_SUBSCRIPTION CREATED", ... in order
	Variables  map[string]string // process scope, as JSON text
	IncidentID int64             // the incident's key
}

func TestClients(t *testing.T) {
	bpmn, err := filepath.Abs(filepath.Join("testdata", "client-check.bpmn"))
	require.NoError(t, err)
	// run gets what ./install printed for the client.
	type runFunc func(ctx context.Context, t *testing.T, installed string, eng *localzeebetest.Engine, orderID string) scriptOutput
	python := func(mode string) runFunc {
		return func(ctx context.Context, t *testing.T, venvPython string, eng *localzeebetest.Engine, orderID string) scriptOutput {
			return runScript(ctx, t, script{interpreter: venvPython, path: filepath.Join("python", "scenario.py"), mode: mode}, eng.Addr(), eng.RecordLog, bpmn, orderID)
		}
	}
	// java runs the Java client with its default, REST preferred (job
	// streams still over gRPC), or with gRPC only.
	java := func(mode, protocol string) runFunc {
		return func(ctx context.Context, t *testing.T, classpath string, eng *localzeebetest.Engine, orderID string) scriptOutput {
			return runScript(ctx, t, script{interpreter: "java", path: "clientcheck.Scenario", env: []string{"CLASSPATH=" + classpath}, mode: mode,
				args: []string{"--protocol", protocol, "--rest-address", eng.RESTAddr()}}, eng.Addr(), eng.RecordLog, bpmn, orderID)
		}
	}
	// restEndpoints is what the Java client calls over REST with its
	// defaults, for the scenario, and the 8.8 Node.js SDK's REST client too.
	restEndpoints := []string{
		"GET /v2/topology",
		"PATCH /v2/jobs/{key}",
		"POST /v2/deployments",
		"POST /v2/incidents/{key}/resolution",
		"POST /v2/jobs/activation",
		"POST /v2/jobs/{key}/completion",
		"POST /v2/jobs/{key}/error",
		"POST /v2/jobs/{key}/failure",
		"POST /v2/messages/publication",
		"POST /v2/process-instances",
	}
	tests := []struct {
		name   string
		client string // what ./install installs
		via    string // the message's variable "go"
		run    runFunc
		rest   []string // the REST endpoints it called, sorted; nil: none
	}{
		{name: "pyzeebe polling", client: "python", via: "pyzeebe", run: python("polling")},
		{name: "pyzeebe streaming", client: "python", via: "pyzeebe", run: python("streaming")},
		{
			name: "camunda8 sdk node", client: "node", via: "node",
			run: func(ctx context.Context, t *testing.T, dir string, eng *localzeebetest.Engine, orderID string) scriptOutput {
				return runScript(ctx, t, script{interpreter: "node", path: filepath.Join("node", "scenario.js"),
					env: []string{"NODE_PATH=" + filepath.Join(dir, "node_modules")}}, eng.Addr(), eng.RecordLog, bpmn, orderID)
			},
		},
		{
			name: "camunda8 sdk 8.8 node rest", client: "node-rest", via: "node-rest", rest: restEndpoints,
			run: func(ctx context.Context, t *testing.T, dir string, eng *localzeebetest.Engine, orderID string) scriptOutput {
				return runScript(ctx, t, script{interpreter: "node", path: filepath.Join("node-rest", "scenario.js"),
					env: []string{"NODE_PATH=" + filepath.Join(dir, "node_modules")}, args: []string{"--rest-address", eng.RESTAddr()}},
					eng.Addr(), eng.RecordLog, bpmn, orderID)
			},
		},
		{name: "java client rest default polling", client: "java", via: "java", run: java("polling", "rest"), rest: restEndpoints},
		{name: "java client rest default streaming", client: "java", via: "java", run: java("streaming", "rest"), rest: restEndpoints},
		{name: "java client grpc polling", client: "java", via: "java", run: java("polling", "grpc")},
		{name: "java client grpc streaming", client: "java", via: "java", run: java("streaming", "grpc")},
		{
			name: "zbctl", client: "zbctl", via: "zbctl",
			run: func(ctx context.Context, t *testing.T, zbctl string, eng *localzeebetest.Engine, orderID string) scriptOutput {
				return runZbctl(ctx, t, zbctl, eng.Addr(), eng.RecordLog, bpmn, orderID)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Installed before the scenario's clock starts: a first install
			// takes longer than the scenario may.
			installed := install(t, tc.client)
			calls := &restCalls{}
			eng := localzeebetest.StartLogged(t, slog.New(calls))
			ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
			defer cancel()
			orderID := "order-" + strings.ReplaceAll(tc.name, " ", "-")
			start := time.Now()
			out := tc.run(ctx, t, installed, eng, orderID)
			t.Logf("%s: scenario took %s", tc.name, time.Since(start).Round(time.Millisecond))

			require.NotZero(t, out.ProcessInstanceKey, "the script printed no instance key")
			got := outcomeOf(ctx, t, eng.RecordLog, int64(out.ProcessInstanceKey))
			want := expectedOutcome(orderID, tc.via)
			want.IncidentID = int64(out.IncidentKey) // the key the client resolved is the one the engine raised
			assert.Equal(t, want, got)
			assert.Equal(t, handledByWorker, out.Handled)
			assert.Equal(t, "reviewer", out.UserTaskAssignee, "the user task job's assignee header")
			assert.Equal(t, tc.rest, calls.endpoints(), "the REST endpoints the client called")
			switch tc.client {
			case "java":
				assert.Equal(t, "1 broker(s), 1 partition(s), leader healthy: true HEALTHY", out.Topology)
			case "node-rest":
				assert.Equal(t, "1 broker(s), 1 partition(s), leader healthy", out.Topology)
			}
		})
	}
}

// restCalls collects the REST requests the engine logs (at debug level),
// with keys in paths as {key}.
type restCalls struct {
	mu    sync.Mutex
	calls map[string]bool
}

var pathKey = regexp.MustCompile(`/[0-9]+(/|$)`)

func (c *restCalls) Enabled(context.Context, slog.Level) bool { return true }
func (c *restCalls) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *restCalls) WithGroup(string) slog.Handler            { return c }

func (c *restCalls) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "REST request" {
		return nil
	}
	var method, path string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "method":
			method = a.Value.String()
		case "path":
			path = pathKey.ReplaceAllString(a.Value.String(), "/{key}$1")
		}
		return true
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]bool{}
	}
	c.calls[method+" "+path] = true
	return nil
}

func (c *restCalls) endpoints() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.calls) == 0 {
		return nil
	}
	out := make([]string, 0, len(c.calls))
	for e := range c.calls {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// handledByWorker is the job types each client handled, in order: the flaky
// job twice, failed then completed.
var handledByWorker = []string{"client-check-work", "client-check-risky", "io.camunda.zeebe:userTask", "client-check-flaky", "client-check-flaky"}

func expectedOutcome(orderID, via string) outcome {
	return outcome{
		Completed: true,
		EndEvent:  "Done",
		Elements: []string{
			"ELEMENT_COMPLETED Start", "ELEMENT_COMPLETED Work", "ELEMENT_TERMINATED Risky", "ELEMENT_COMPLETED Caught",
			"ELEMENT_COMPLETED Wait", "ELEMENT_COMPLETED Approve", "ELEMENT_COMPLETED Flaky", "ELEMENT_COMPLETED Done",
		},
		Jobs: []string{
			"client-check-work CREATED", "client-check-work COMPLETED",
			"client-check-risky CREATED", "client-check-risky ERROR_THROWN",
			"io.camunda.zeebe:userTask CREATED", "io.camunda.zeebe:userTask COMPLETED",
			"client-check-flaky CREATED", "client-check-flaky FAILED", "client-check-flaky RETRIES_UPDATED", "client-check-flaky COMPLETED",
		},
		Incidents: []string{"CREATED JOB_NO_RETRIES", "RESOLVED JOB_NO_RETRIES"},
		Messages:  []string{"PROCESS_MESSAGE_SUBSCRIPTION CREATED", "PROCESS_MESSAGE_SUBSCRIPTION CORRELATED"},
		Variables: map[string]string{
			"orderId": strconv.Quote(orderID), "amount": "21", "total": "42", "go": strconv.Quote(via),
			"approved": "true", "flakyDone": "true",
		},
	}
}

// outcomeOf waits for the instance to complete, then reads what happened.
func outcomeOf(ctx context.Context, t *testing.T, path string, key int64) outcome {
	t.Helper()
	log := recordlog.Open(path)
	_, err := log.WaitFor(ctx, key, func(r recordlog.Record) bool {
		return r.Is("PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Value.BPMNElementType == "PROCESS"
	})
	require.NoError(t, err, "the instance did not complete")
	recs, err := log.Instance(key)
	require.NoError(t, err)
	o := outcome{Variables: map[string]string{}}
	for _, r := range recs {
		if r.RecordType != "EVENT" {
			continue
		}
		switch r.ValueType {
		case "PROCESS_INSTANCE":
			switch {
			case r.Value.BPMNElementType == "PROCESS" && r.Intent == "ELEMENT_COMPLETED":
				o.Completed = true
			case r.Value.BPMNElementType == "PROCESS" || r.Value.BPMNElementType == "SEQUENCE_FLOW":
			case r.Intent == "ELEMENT_COMPLETED" || r.Intent == "ELEMENT_TERMINATED":
				o.Elements = append(o.Elements, r.Intent+" "+r.Value.ElementID)
				if r.Value.BPMNElementType == "END_EVENT" {
					o.EndEvent = r.Value.ElementID
				}
			}
		case "JOB":
			o.Jobs = append(o.Jobs, r.Value.Type+" "+r.Intent)
		case "INCIDENT":
			o.Incidents = append(o.Incidents, r.Intent+" "+r.Value.ErrorType)
			o.IncidentID = r.Key
		case "MESSAGE_SUBSCRIPTION", "PROCESS_MESSAGE_SUBSCRIPTION":
			o.Messages = append(o.Messages, r.ValueType+" "+r.Intent)
		}
	}
	for name, v := range recordlog.Variables(recs) {
		o.Variables[name] = string(v)
	}
	return o
}

// install runs ./install for a client and returns what it printed: the path
// to run. A failed install fails the test with the script's own advice.
func install(t *testing.T, client string) string {
	t.Helper()
	cmd := exec.Command("./install", client)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr // progress of a long first install
	require.NoError(t, cmd.Run(), "localzeebe/clientcheck/install %s failed: see its error above", client)
	return strings.TrimSpace(stdout.String())
}

// script is how to run one scenario script.
type script struct {
	interpreter, path string
	env               []string // NAME=VALUE added to clientEnv
	mode              string   // --mode, when the script has modes
	args              []string // more arguments
}

// runScript runs a scenario script and decodes the JSON it prints.
func runScript(ctx context.Context, t *testing.T, s script, addr, recordLog, bpmn, orderID string) scriptOutput {
	t.Helper()
	args := []string{s.path, "--address", addr, "--record-log", recordLog, "--bpmn", bpmn, "--order-id", orderID}
	if s.mode != "" {
		args = append(args, "--mode", s.mode)
	}
	args = append(args, s.args...)
	interpreter, script := s.interpreter, s.path
	cmd := exec.CommandContext(ctx, interpreter, args...)
	cmd.Env = append(clientEnv(), s.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, err, "%s %s: stderr:\n%s\nstdout:\n%s", interpreter, script, stderr.String(), stdout.String())
	var out scriptOutput
	require.NoError(t, json.Unmarshal(lastLine(stdout.Bytes()), &out), "stdout:\n%s", stdout.String())
	return out
}

func lastLine(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return lines[len(lines)-1]
}

// runZbctl takes the scenario through zbctl, one command per step, as a
// person at a shell would; the record log stands in for Operate to find the
// incident.
func runZbctl(ctx context.Context, t *testing.T, zbctl, addr, recordLog, bpmn, orderID string) scriptOutput {
	t.Helper()
	zb := func(args ...string) []byte {
		t.Helper()
		cmd := exec.CommandContext(ctx, zbctl, append([]string{"--insecure", "--address", addr}, args...)...)
		cmd.Env = clientEnv()
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Run(), "zbctl %s: stderr:\n%s\nstdout:\n%s", strings.Join(args, " "), stderr.String(), stdout.String())
		return stdout.Bytes()
	}
	var out scriptOutput
	activate := func(jobType string) int64 {
		t.Helper()
		var resp struct {
			Jobs []struct {
				Key           jsonKey `json:"key"`
				Type          string  `json:"type"`
				CustomHeaders string  `json:"customHeaders"`
			} `json:"jobs"`
		}
		// zbctl's activate has no long polling flag: the job may still be
		// on its way (the engine creates it after the previous command).
		for {
			body := zb("activate", "jobs", jobType, "--maxJobsToActivate", "1", "--worker", "zbctl", "--timeout", "1m")
			require.NoError(t, json.Unmarshal(body, &resp), "zbctl activate jobs printed:\n%s", body)
			if len(resp.Jobs) == 1 {
				break
			}
			require.NoError(t, ctx.Err(), "no %s job to activate", jobType)
		}
		j := resp.Jobs[0]
		out.Handled = append(out.Handled, j.Type)
		if jobType == "io.camunda.zeebe:userTask" {
			var headers map[string]string
			require.NoError(t, json.Unmarshal([]byte(j.CustomHeaders), &headers))
			out.UserTaskAssignee = headers["io.camunda.zeebe:assignee"]
		}
		return int64(j.Key)
	}
	key := func(j string) string { return strconv.FormatInt(activate(j), 10) }

	zb("deploy", bpmn)
	var created struct {
		ProcessInstanceKey jsonKey `json:"processInstanceKey"`
	}
	body := zb("create", "instance", "client-check", "--variables", fmt.Sprintf(`{"orderId":%q,"amount":21}`, orderID))
	require.NoError(t, json.Unmarshal(body, &created), "zbctl create instance printed:\n%s", body)
	out.ProcessInstanceKey = created.ProcessInstanceKey

	zb("complete", "job", key("client-check-work"), "--variables", `{"total":42}`)
	zb("throwError", "job", key("client-check-risky"), "--errorCode", "REJECTED", "--errorMessage", "rejected by zbctl")
	zb("publish", "message", "client-check-go", "--correlationKey", orderID, "--messageId", "go-"+orderID,
		"--ttl", "1m", "--variables", `{"go":"zbctl"}`)
	zb("complete", "job", key("io.camunda.zeebe:userTask"), "--variables", `{"approved":true}`)
	flaky := key("client-check-flaky")
	zb("fail", "job", flaky, "--retries", "0", "--errorMessage", "flaky the first time")

	incident, err := recordlog.Open(recordLog).WaitFor(ctx, int64(out.ProcessInstanceKey), func(r recordlog.Record) bool {
		return r.Is("INCIDENT", "CREATED")
	})
	require.NoError(t, err)
	out.IncidentKey = jsonKey(incident.Key)
	zb("update", "retries", flaky, "--retries", "1")
	zb("resolve", "incident", strconv.FormatInt(incident.Key, 10))
	zb("complete", "job", key("client-check-flaky"), "--variables", `{"flakyDone":true}`)
	return out
}

// jsonKey is a Zeebe key that zbctl prints as a JSON string (protojson's
// int64) and the scripts as a string or a number.
type jsonKey int64

func (k *jsonKey) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("a Zeebe key: %w", err)
	}
	*k = jsonKey(n)
	return nil
}

// clientEnv is the test's environment without the clients' own settings:
// a ZEEBE_ADDRESS or OAuth credentials meant for another gateway (make
// exports the shared stack's) would send a client there instead.
func clientEnv() []string {
	var out []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "ZEEBE_") && !strings.HasPrefix(e, "CAMUNDA_") {
			out = append(out, e)
		}
	}
	return out
}
