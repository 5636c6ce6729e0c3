package localzeebe_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/camunda/zeebe/clients/go/v8/pkg/worker"
	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/localzeebetest"
)

const twoTasks = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">
  <bpmn:process id="durable" isExecutable="true">
    <bpmn:startEvent id="Start"/>
    <bpmn:serviceTask id="A"><bpmn:extensionElements><zeebe:taskDefinition type="dur-a"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:serviceTask id="B"><bpmn:extensionElements><zeebe:taskDefinition type="dur-b"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:endEvent id="End"/>
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="A"/>
    <bpmn:sequenceFlow id="f2" sourceRef="A" targetRef="B"/>
    <bpmn:sequenceFlow id="f3" sourceRef="B" targetRef="End"/>
  </bpmn:process>
</bpmn:definitions>`

// engineProcess runs the engine binary, so the test can kill -9 it.
type engineProcess struct {
	bin, addr, data, records string
	cmd                      *exec.Cmd
}

func (p *engineProcess) start(t *testing.T) {
	t.Helper()
	p.cmd = exec.Command(p.bin, "-addr", p.addr, "-rest-addr", "", "-data", p.data, "-record-log", p.records)
	p.cmd.Stderr = os.Stderr
	require.NoError(t, p.cmd.Start())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for localzeebe.CheckHealth(ctx, p.addr) != nil {
		require.NoError(t, ctx.Err(), "the engine did not become healthy")
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *engineProcess) kill9(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	_ = p.cmd.Wait()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// TestKill9MidFlight kills the engine with SIGKILL while 100 instances are in
// flight and a worker completes their jobs, restarts it, and checks from the
// record log that every instance completed once, and no job was lost or
// completed twice.
func TestKill9MidFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the engine binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "localzeebe")
	build := exec.Command("go", "build", "-o", bin, "../cmd/localzeebe")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run(), "build the engine")
	p := &engineProcess{bin: bin, addr: freeAddr(t), data: filepath.Join(dir, "data"), records: filepath.Join(dir, "records.jsonl")}
	p.start(t)
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })

	zb := localzeebetest.Client(t, p.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := zb.NewDeployResourceCommand().AddResource([]byte(twoTasks), "durable.bpmn").Send(ctx)
	require.NoError(t, err)
	const n = 100
	for i := 0; i < n; i++ {
		cmd, err := zb.NewCreateInstanceCommand().BPMNProcessId("durable").LatestVersion().VariablesFromMap(map[string]any{"i": i})
		require.NoError(t, err)
		_, err = cmd.Send(ctx)
		require.NoError(t, err)
	}

	var mu sync.Mutex
	acked := map[int64]bool{} // jobs whose CompleteJob the engine answered OK
	handler := func(c worker.JobClient, j entities.Job) {
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		defer ccancel()
		if _, err := c.NewCompleteJobCommand().JobKey(j.Key).Send(cctx); err == nil {
			mu.Lock()
			acked[j.Key] = true
			mu.Unlock()
		}
	}
	// A short job timeout: a job whose completion died with the engine comes back soon.
	wa := zb.NewJobWorker().JobType("dur-a").Handler(handler).Timeout(3 * time.Second).MaxJobsActive(8).PollInterval(20 * time.Millisecond).Open()
	var closeOnce sync.Once
	wb := worker.JobWorker(nil)
	closeWorkers := func() {
		closeOnce.Do(func() {
			wa.Close()
			if wb != nil {
				wb.Close()
			}
		})
	}
	defer closeWorkers()
	for {
		mu.Lock()
		done := len(acked)
		mu.Unlock()
		if done >= n/3 {
			break
		}
		require.NoError(t, ctx.Err(), "the worker completed only %d jobs", done)
		time.Sleep(5 * time.Millisecond)
	}
	p.kill9(t)
	p.start(t)
	wb = zb.NewJobWorker().JobType("dur-b").Handler(handler).Timeout(3 * time.Second).MaxJobsActive(8).PollInterval(20 * time.Millisecond).Open()

	// Every instance completes, once.
	var recs []traceRecord
	for {
		recs = readTrace(t, p.records)
		if countCompleted(recs) >= n {
			break
		}
		require.NoError(t, ctx.Err(), "only %d of %d instances completed after the restart", countCompleted(recs), n)
		time.Sleep(100 * time.Millisecond)
	}
	closeWorkers()
	assert.Equal(t, n, countCompleted(recs))

	created, completed := map[int64]bool{}, map[int64]int{}
	positions := map[int64]bool{}
	for _, r := range recs {
		assert.False(t, positions[r.Position], "position %d exported twice", r.Position)
		positions[r.Position] = true
		if r.ValueType == "JOB" && r.RecordType == "EVENT" {
			switch r.Intent {
			case "CREATED":
				created[r.Key] = true
			case "COMPLETED":
				completed[r.Key]++
			}
		}
	}
	assert.Len(t, created, 2*n)
	for k := range created {
		assert.Equal(t, 1, completed[k], "job %d completed %d times", k, completed[k])
	}
	mu.Lock()
	defer mu.Unlock()
	for k := range acked {
		assert.Equal(t, 1, completed[k], "job %d was acknowledged but its completion is not in the log", k)
	}
}

func countCompleted(recs []traceRecord) int {
	n := 0
	for _, r := range recs {
		if r.ValueType == "PROCESS_INSTANCE" && r.Intent == "ELEMENT_COMPLETED" && r.RecordType == "EVENT" {
			var v struct {
				BpmnElementType string `json:"bpmnElementType"`
			}
			_ = json.Unmarshal(r.Value, &v)
			if v.BpmnElementType == "PROCESS" {
				n++
			}
		}
	}
	return n
}

var (
	_ = fmt.Sprint
	_ zbc.Client
)
