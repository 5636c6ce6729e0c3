package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe"
)

// addressEnv selects an external gateway instead of the in-process engine.
const addressEnv = "ZEEBE_CONFORMANCE_ADDRESS"

// The Go client's environment overrides: cleared in local mode so that a
// ZEEBE_ADDRESS meant for something else cannot redirect the suite.
var clientEnv = []string{
	zbc.GatewayAddressEnvVar, zbc.GatewayHostEnvVar, zbc.GatewayPortEnvVar, zbc.InsecureEnvVar,
	zbc.CaCertificatePath, zbc.OverrideAuthorityEnvVar, zbc.OAuthClientIdEnvVar, zbc.OAuthClientSecretEnvVar,
}

var (
	conn      *grpc.ClientConn
	dialOpts  []grpc.DialOption // conn's options (TLS, OAuth, keep-alive), for connections with more
	gw        pb.GatewayClient  // raw gateway stubs: exact requests, exact status errors
	zb        zbc.Client        // the unmodified Go client
	external  bool              // running against ZEEBE_CONFORMANCE_ADDRESS
	recordLog *recordReader     // the local engine's record log (nil when external)
	restBase  string            // the local engine's REST API, for user tasks ("" when external)
	runID     = time.Now().UnixNano() % 1_000_000_000
	seq       atomic.Int64
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	addr := os.Getenv(addressEnv)
	if addr == "" {
		for _, k := range clientEnv {
			_ = os.Unsetenv(k)
		}
		dir, err := os.MkdirTemp("", "localzeebe-conformance-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "conformance:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		logPath := filepath.Join(dir, "records.jsonl")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		srv, err := localzeebe.Start(ctx, localzeebe.Options{Addr: "127.0.0.1:0", RESTAddr: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"), RecordLog: logPath})
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "conformance: start the local engine:", err)
			return 1
		}
		defer srv.Close()
		addr = srv.Addr()
		restBase = "http://" + srv.RESTAddr()
		recordLog = &recordReader{path: logPath}
	} else {
		external = true
	}
	cfg := &zbc.ClientConfig{GatewayAddress: addr, UsePlaintextConnection: os.Getenv(zbc.OAuthClientIdEnvVar) == ""}
	client, err := zbc.NewClient(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance: client:", err)
		return 1
	}
	defer client.Close()
	zb = client
	// NewClient completed cfg (address overrides, TLS, OAuth, keep-alive):
	// the raw stubs use the same connection settings.
	dialOpts = cfg.DialOpts
	conn, err = grpc.NewClient(cfg.GatewayAddress, dialOpts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance: dial:", err)
		return 1
	}
	defer conn.Close()
	gw = pb.NewGatewayClient(conn)
	return m.Run()
}

func gwConn() *grpc.ClientConn { return conn }

// needRecords skips a check that reads the engine's record log, in external
// mode only.
func needRecords(t *testing.T) {
	t.Helper()
	if external {
		t.Skip("needs the local engine's record log: run without " + addressEnv)
	}
}

// localOnly skips a check of a deliberate local-engine limitation (Zeebe
// itself supports the feature), in external mode only.
func localOnly(t *testing.T, why string) {
	t.Helper()
	if external {
		t.Skip("local engine limitation, Zeebe supports it: " + why)
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func ctx15(t *testing.T) context.Context { return ctxT(t, 15*time.Second) }

var nonID = regexp.MustCompile(`[^A-Za-z0-9]+`)

// uniq returns a name unique to this run and call, valid as a BPMN id.
func uniq(t *testing.T, what string) string {
	name := nonID.ReplaceAllString(strings.TrimPrefix(t.Name(), "Test"), "-")
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	return fmt.Sprintf("conf-%s-%s-%d-%d", what, strings.Trim(name, "-"), runID, seq.Add(1))
}

// unknownKey is a key no engine of this run has handed out (partition 1,
// counter far beyond anything a test creates).
func unknownKey() int64 { return 1<<51 + 1<<45 + seq.Add(1) }

// ---- status assertions ----

// rejection is the message of a broker rejection as the gateway forwards it.
func rejection(intent, typ, reason string, args ...any) string {
	return fmt.Sprintf("Command '%s' rejected with code '%s': %s", intent, typ, fmt.Sprintf(reason, args...))
}

// requireStatus asserts the gRPC code and, when msg is not empty, the exact message.
func requireStatus(t *testing.T, err error, code codes.Code, msg string) {
	t.Helper()
	require.Error(t, err, "expected %s", code)
	st, ok := status.FromError(err)
	require.True(t, ok, "not a gRPC status error: %v", err)
	assert.Equal(t, code.String(), st.Code().String(), "status code; message was %q", st.Message())
	if msg != "" {
		assert.Equal(t, msg, st.Message(), "status message")
	}
}

// statusMessage returns the message of a status error after checking its code.
func statusMessage(t *testing.T, err error, code codes.Code) string {
	t.Helper()
	requireStatus(t, err, code, "")
	return status.Convert(err).Message()
}

// ---- models ----

// model is a deployed test model with its unique process id and job type.
type model struct {
	pid  string // bpmnProcessId
	jt   string // job type prefix: JOB_TYPE in the file; "JOB_TYPE-x" becomes jt+"-x"
	msg  string // message name: MESSAGE_NAME in the file
	meta *pb.ProcessMetadata
}

// render reads testdata/file and replaces its placeholders.
func render(t *testing.T, file string, repl ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	require.NoError(t, err)
	return strings.NewReplacer(repl...).Replace(string(b))
}

// deployModel deploys testdata/file with fresh ids; extra are more
// placeholder/value pairs.
func deployModel(t *testing.T, file string, extra ...string) model {
	t.Helper()
	m := model{pid: uniq(t, "p"), jt: uniq(t, "jt")}
	m.msg = m.pid + "-msg"
	xml := render(t, file, append([]string{"PROCESS_ID", m.pid, "JOB_TYPE", m.jt, "MESSAGE_NAME", m.msg}, extra...)...)
	m.meta = deployXML(t, m.pid+".bpmn", xml)
	require.Equal(t, m.pid, m.meta.GetBpmnProcessId())
	return m
}

func deployXML(t *testing.T, name, xml string) *pb.ProcessMetadata {
	t.Helper()
	resp, err := gw.DeployResource(ctx15(t), &pb.DeployResourceRequest{Resources: []*pb.Resource{{Name: name, Content: []byte(xml)}}})
	require.NoError(t, err, "deploy %s", name)
	require.Len(t, resp.GetDeployments(), 1)
	p := resp.GetDeployments()[0].GetProcess()
	require.NotNil(t, p, "deployment is a process")
	return p
}

// typ is the job type of a "JOB_TYPE-suffix" placeholder ("" = JOB_TYPE).
func (m model) typ(suffix string) string {
	if suffix == "" {
		return m.jt
	}
	return m.jt + "-" + suffix
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func (m model) create(t *testing.T, vars any) int64 {
	t.Helper()
	resp, err := gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: m.pid, Version: -1, Variables: jsonOf(t, vars)})
	require.NoError(t, err, "create an instance of %s", m.pid)
	require.Positive(t, resp.GetProcessInstanceKey())
	return resp.GetProcessInstanceKey()
}

// createWithResult starts CreateProcessInstanceWithResult in the background.
func (m model) createWithResult(t *testing.T, vars any, fetch ...string) <-chan withResult {
	t.Helper()
	ch := make(chan withResult, 1)
	req := &pb.CreateProcessInstanceWithResultRequest{
		Request:        &pb.CreateProcessInstanceRequest{BpmnProcessId: m.pid, Version: -1, Variables: jsonOf(t, vars)},
		RequestTimeout: 20_000, FetchVariables: fetch,
	}
	ctx := ctxT(t, 30*time.Second)
	go func() {
		resp, err := gw.CreateProcessInstanceWithResult(ctx, req)
		ch <- withResult{resp, err}
	}()
	return ch
}

type withResult struct {
	resp *pb.CreateProcessInstanceWithResultResponse
	err  error
}

// awaitResult waits for a createWithResult and returns its variables.
func awaitResult(t *testing.T, ch <-chan withResult) (*pb.CreateProcessInstanceWithResultResponse, map[string]any) {
	t.Helper()
	select {
	case r := <-ch:
		require.NoError(t, r.err, "CreateProcessInstanceWithResult")
		return r.resp, varsOf(t, r.resp.GetVariables())
	case <-time.After(20 * time.Second):
		require.FailNow(t, "CreateProcessInstanceWithResult did not return: the instance did not complete")
	}
	return nil, nil
}

func varsOf(t *testing.T, doc string) map[string]any {
	t.Helper()
	out := map[string]any{}
	require.NoError(t, json.Unmarshal([]byte(doc), &out), "variables %q", doc)
	return out
}

// ---- jobs ----

// act is an ActivateJobs request with the suite's defaults.
type act struct {
	typ     string
	worker  string
	timeout time.Duration // job timeout; default 5 min
	max     int32         // default 1
	fetch   []string
	poll    time.Duration // long-poll time (requestTimeout); 0 sends -1 (answer at once)
}

// pollDefault sends requestTimeout 0: the gateway's default long poll (10 s).
const pollDefault = time.Duration(-1)

func (a act) request() *pb.ActivateJobsRequest {
	r := &pb.ActivateJobsRequest{Type: a.typ, Worker: a.worker, Timeout: a.timeout.Milliseconds(), MaxJobsToActivate: a.max, FetchVariable: a.fetch}
	if r.Worker == "" {
		r.Worker = "conformance"
	}
	if a.timeout == 0 {
		r.Timeout = (5 * time.Minute).Milliseconds()
	}
	if r.MaxJobsToActivate == 0 {
		r.MaxJobsToActivate = 1
	}
	switch a.poll {
	case 0:
		r.RequestTimeout = -1
	case pollDefault:
		r.RequestTimeout = 0
	default:
		r.RequestTimeout = a.poll.Milliseconds()
	}
	return r
}

// activateRaw sends ActivateJobs and reads the stream to its end.
func activateRaw(ctx context.Context, req *pb.ActivateJobsRequest) (jobs []*pb.ActivatedJob, messages int, err error) {
	stream, err := gw.ActivateJobs(ctx, req)
	if err != nil {
		return nil, 0, err
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return jobs, messages, nil
		}
		if err != nil {
			return jobs, messages, err
		}
		messages++
		jobs = append(jobs, resp.GetJobs()...)
	}
}

func activate(t *testing.T, a act) []*pb.ActivatedJob {
	t.Helper()
	jobs, _, err := activateRaw(ctxT(t, a.poll+15*time.Second), a.request())
	require.NoError(t, err, "activate jobs of type %s", a.typ)
	return jobs
}

// awaitJobs activates until n jobs of the type were activated (10 s at most).
func awaitJobs(t *testing.T, a act, n int) []*pb.ActivatedJob {
	t.Helper()
	var got []*pb.ActivatedJob
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		b := a
		b.max = int32(n - len(got))
		b.poll = time.Second
		got = append(got, activate(t, b)...)
	}
	require.Len(t, got, n, "jobs of type %s activated within 10 s", a.typ)
	return got
}

func awaitJob(t *testing.T, jobType string) *pb.ActivatedJob {
	t.Helper()
	return awaitJobs(t, act{typ: jobType}, 1)[0]
}

// noJob asserts that no job of the type is activatable now (wait 0) or
// becomes activatable within wait.
func noJob(t *testing.T, jobType string, wait time.Duration) {
	t.Helper()
	jobs := activate(t, act{typ: jobType, max: 10, poll: wait})
	assert.Empty(t, jobs, "no job of type %s should be activatable", jobType)
}

func complete(t *testing.T, key int64, vars any) {
	t.Helper()
	_, err := gw.CompleteJob(ctx15(t), &pb.CompleteJobRequest{JobKey: key, Variables: jsonOf(t, vars)})
	require.NoError(t, err, "complete job %d", key)
}

func jobVars(t *testing.T, j *pb.ActivatedJob) map[string]any {
	t.Helper()
	return varsOf(t, j.GetVariables())
}

// afterElement waits until the element of the instance is activated: from
// the record log locally, by a pause against an external gateway.
func afterElement(t *testing.T, pik int64, elementID string) {
	t.Helper()
	if external {
		time.Sleep(time.Second)
		return
	}
	waitRecord(t, fmt.Sprintf("%s of %d activated", elementID, pik), func(r *record) bool {
		return r.ValueType == "PROCESS_INSTANCE" && r.Intent == "ELEMENT_ACTIVATED" && r.RecordType == "EVENT" &&
			r.V.ProcessInstanceKey == pik && r.V.ElementID == elementID
	})
}
