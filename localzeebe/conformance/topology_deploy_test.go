package conformance

import (
	"strings"
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Reference §1.1 and §1.0 (keys, health service).
func TestTopology(t *testing.T) {
	t.Parallel()
	resp, err := gw.Topology(ctx15(t), &pb.TopologyRequest{})
	require.NoError(t, err)
	assert.NotEmpty(t, resp.GetGatewayVersion(), "gatewayVersion")
	require.NotEmpty(t, resp.GetBrokers())
	if !external {
		// Zeebe's in-memory engine: one broker, one partition, leader and healthy.
		assert.EqualValues(t, 1, resp.GetClusterSize(), "clusterSize")
		assert.EqualValues(t, 1, resp.GetPartitionsCount(), "partitionsCount")
		assert.EqualValues(t, 1, resp.GetReplicationFactor(), "replicationFactor")
		require.Len(t, resp.GetBrokers(), 1)
		b := resp.GetBrokers()[0]
		assert.NotEmpty(t, b.GetHost())
		assert.Positive(t, b.GetPort())
		assert.NotEmpty(t, b.GetVersion(), "broker version")
		require.Len(t, b.GetPartitions(), 1)
		p := b.GetPartitions()[0]
		assert.EqualValues(t, 1, p.GetPartitionId())
		assert.Equal(t, pb.Partition_LEADER, p.GetRole())
		assert.Equal(t, pb.Partition_HEALTHY, p.GetHealth())
		return
	}
	// A real cluster: every partition has a healthy leader.
	leaders := map[int32]bool{}
	for _, b := range resp.GetBrokers() {
		for _, p := range b.GetPartitions() {
			if p.GetRole() == pb.Partition_LEADER && p.GetHealth() == pb.Partition_HEALTHY {
				leaders[p.GetPartitionId()] = true
			}
		}
	}
	for id := int32(1); id <= resp.GetPartitionsCount(); id++ {
		assert.True(t, leaders[id], "partition %d has a healthy leader", id)
	}
}

func TestHealthService(t *testing.T) {
	t.Parallel()
	conn := healthpb.NewHealthClient(gwConn())
	for _, service := range []string{"gateway_protocol.Gateway", ""} {
		resp, err := conn.Check(ctx15(t), &healthpb.HealthCheckRequest{Service: service})
		require.NoError(t, err, "health of %q", service)
		assert.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus(), "health of %q", service)
	}
}

// Reference §1.2.
func TestDeploy(t *testing.T) {
	t.Parallel()

	t.Run("DeployResource", func(t *testing.T) {
		t.Parallel()
		pid := uniq(t, "p")
		xml := render(t, "one-task.bpmn", "PROCESS_ID", pid, "JOB_TYPE", uniq(t, "jt"))
		resp, err := gw.DeployResource(ctx15(t), &pb.DeployResourceRequest{Resources: []*pb.Resource{{Name: pid + ".bpmn", Content: []byte(xml)}}})
		require.NoError(t, err)
		assert.Positive(t, resp.GetKey(), "deployment key")
		assert.Equal(t, "<default>", resp.GetTenantId())
		require.Len(t, resp.GetDeployments(), 1)
		p := resp.GetDeployments()[0].GetProcess()
		require.NotNil(t, p)
		assert.Equal(t, pid, p.GetBpmnProcessId())
		assert.EqualValues(t, 1, p.GetVersion())
		assert.Positive(t, p.GetProcessDefinitionKey())
		assert.Equal(t, pid+".bpmn", p.GetResourceName())
		assert.Equal(t, "<default>", p.GetTenantId())
		assertKey(t, p.GetProcessDefinitionKey())

		t.Run("identical redeploy is a duplicate", func(t *testing.T) {
			again := deployXML(t, pid+".bpmn", xml)
			assert.Equal(t, p.GetProcessDefinitionKey(), again.GetProcessDefinitionKey(), "same process definition key")
			assert.EqualValues(t, 1, again.GetVersion(), "same version")
		})
		var v2 *pb.ProcessMetadata
		t.Run("changed content is version 2", func(t *testing.T) {
			v2 = deployXML(t, pid+".bpmn", strings.Replace(xml, `value="VISA"`, `value="AMEX"`, 1))
			assert.EqualValues(t, 2, v2.GetVersion())
			assert.NotEqual(t, p.GetProcessDefinitionKey(), v2.GetProcessDefinitionKey())
		})
		t.Run("same content under another resource name is a new version", func(t *testing.T) {
			v3 := deployXML(t, pid+"-renamed.bpmn", strings.Replace(xml, `value="VISA"`, `value="AMEX"`, 1))
			assert.EqualValues(t, 3, v3.GetVersion())
		})
		t.Run("instances choose the version", func(t *testing.T) {
			require.NotNil(t, v2, "version 2 was not deployed")
			latest, err := gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: pid, Version: -1})
			require.NoError(t, err)
			assert.EqualValues(t, 3, latest.GetVersion())
			assert.Equal(t, pid, latest.GetBpmnProcessId())
			assert.Equal(t, "<default>", latest.GetTenantId())
			assertKey(t, latest.GetProcessInstanceKey())
			v1, err := gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: pid, Version: 1})
			require.NoError(t, err)
			assert.EqualValues(t, 1, v1.GetVersion())
			assert.Equal(t, p.GetProcessDefinitionKey(), v1.GetProcessDefinitionKey())
			byKey, err := gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{ProcessDefinitionKey: v2.GetProcessDefinitionKey()})
			require.NoError(t, err)
			assert.EqualValues(t, 2, byKey.GetVersion())
			assert.Equal(t, pid, byKey.GetBpmnProcessId())
		})
	})

	t.Run("xml suffix is BPMN", func(t *testing.T) {
		t.Parallel()
		pid := uniq(t, "p")
		p := deployXML(t, pid+".xml", render(t, "start-end.bpmn", "PROCESS_ID", pid))
		assert.Equal(t, pid, p.GetBpmnProcessId())
		assert.EqualValues(t, 1, p.GetVersion())
	})

	t.Run("two processes in one deployment", func(t *testing.T) {
		t.Parallel()
		a, b := uniq(t, "p"), uniq(t, "p")
		resp, err := gw.DeployResource(ctx15(t), &pb.DeployResourceRequest{Resources: []*pb.Resource{
			{Name: a + ".bpmn", Content: []byte(render(t, "start-end.bpmn", "PROCESS_ID", a))},
			{Name: b + ".bpmn", Content: []byte(render(t, "start-end.bpmn", "PROCESS_ID", b))},
		}})
		require.NoError(t, err)
		var ids []string
		for _, d := range resp.GetDeployments() {
			ids = append(ids, d.GetProcess().GetBpmnProcessId())
		}
		assert.ElementsMatch(t, []string{a, b}, ids)
	})

	t.Run("only executable processes are deployed", func(t *testing.T) {
		t.Parallel()
		pid, other := uniq(t, "p"), uniq(t, "p")
		xml := strings.Replace(render(t, "start-end.bpmn", "PROCESS_ID", pid), "</bpmn:definitions>",
			`<bpmn:process id="`+other+`" isExecutable="false"><bpmn:startEvent id="S2"/></bpmn:process></bpmn:definitions>`, 1)
		resp, err := gw.DeployResource(ctx15(t), &pb.DeployResourceRequest{Resources: []*pb.Resource{{Name: pid + ".bpmn", Content: []byte(xml)}}})
		require.NoError(t, err)
		require.Len(t, resp.GetDeployments(), 1)
		assert.Equal(t, pid, resp.GetDeployments()[0].GetProcess().GetBpmnProcessId())
	})

	t.Run("DeployProcess (deprecated, used by zbctl deploy)", func(t *testing.T) {
		t.Parallel()
		pid := uniq(t, "p")
		//lint:ignore SA1019 the deprecated RPC is under test: zbctl deploy calls it
		resp, err := gw.DeployProcess(ctx15(t), &pb.DeployProcessRequest{Processes: []*pb.ProcessRequestObject{
			{Name: pid + ".bpmn", Definition: []byte(render(t, "start-end.bpmn", "PROCESS_ID", pid))},
		}})
		require.NoError(t, err)
		assert.Positive(t, resp.GetKey())
		require.Len(t, resp.GetProcesses(), 1)
		p := resp.GetProcesses()[0]
		assert.Equal(t, pid, p.GetBpmnProcessId())
		assert.EqualValues(t, 1, p.GetVersion())
		assert.Positive(t, p.GetProcessDefinitionKey())
		assert.Equal(t, pid+".bpmn", p.GetResourceName())
		// The process is usable.
		_, err = gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: pid, Version: -1})
		require.NoError(t, err)
	})

	t.Run("Go client DeployResource", func(t *testing.T) {
		t.Parallel()
		pid := uniq(t, "p")
		resp, err := zb.NewDeployResourceCommand().AddResource([]byte(render(t, "start-end.bpmn", "PROCESS_ID", pid)), pid+".bpmn").Send(ctx15(t))
		require.NoError(t, err)
		require.Len(t, resp.GetDeployments(), 1)
		assert.Equal(t, pid, resp.GetDeployments()[0].GetProcess().GetBpmnProcessId())
	})
}

// assertKey checks a key's layout: (partitionId << 51) + counter, partition 1 locally.
func assertKey(t *testing.T, key int64) {
	t.Helper()
	part := key >> 51
	if external {
		assert.Positive(t, part, "key %d carries a partition id", key)
		return
	}
	assert.EqualValues(t, 1, part, "key %d is on partition 1", key)
	assert.Positive(t, key&(1<<51-1), "key %d has a counter", key)
}
