package conformance

import (
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
)

// gzipGateway is a gateway client whose requests are gzip-compressed, as the
// official Node.js SDK sends every request. It uses grpc-go's per-connection
// gzip codec on purpose: importing google.golang.org/grpc/encoding/gzip would
// register gzip process-wide, also for the in-process engine, and so hide an
// engine that does not register it itself.
func gzipGateway(t *testing.T) pb.GatewayClient {
	t.Helper()
	cfgOpts := []grpc.DialOption{
		//lint:ignore SA1019 the per-connection codec is the point, see above
		grpc.WithCompressor(grpc.NewGZIPCompressor()),
		//lint:ignore SA1019 the per-connection codec is the point, see above
		grpc.WithDecompressor(grpc.NewGZIPDecompressor()),
	}
	c, err := grpc.NewClient(gwConn().Target(), append(dialOpts, cfgOpts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return pb.NewGatewayClient(c)
}

// Every RPC a client makes in a job's life works with gzip-compressed
// requests (the Node.js SDK; Zeebe's gateway accepts gzip).
func TestGzipRequests(t *testing.T) {
	t.Parallel()
	gz := gzipGateway(t)
	pid, jt := uniq(t, "p"), uniq(t, "jt")
	xml := render(t, "one-task.bpmn", "PROCESS_ID", pid, "JOB_TYPE", jt)

	var pik int64
	var job *pb.ActivatedJob
	for _, step := range []struct {
		name string
		call func(t *testing.T) error
	}{
		{"Topology", func(t *testing.T) error {
			resp, err := gz.Topology(ctx15(t), &pb.TopologyRequest{})
			if err == nil {
				assert.Len(t, resp.GetBrokers(), 1, "the local engine is one broker")
			}
			return err
		}},
		{"DeployResource", func(t *testing.T) error {
			resp, err := gz.DeployResource(ctx15(t), &pb.DeployResourceRequest{Resources: []*pb.Resource{{Name: pid + ".bpmn", Content: []byte(xml)}}})
			if err == nil {
				require.Len(t, resp.GetDeployments(), 1)
				assert.Equal(t, pid, resp.GetDeployments()[0].GetProcess().GetBpmnProcessId())
			}
			return err
		}},
		{"CreateProcessInstance", func(t *testing.T) error {
			resp, err := gz.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: pid, Version: -1, Variables: `{"n":1}`})
			pik = resp.GetProcessInstanceKey()
			return err
		}},
		{"ActivateJobs (server stream)", func(t *testing.T) error {
			stream, err := gz.ActivateJobs(ctx15(t), act{typ: jt, poll: pollDefault}.request())
			if err != nil {
				return err
			}
			resp, err := stream.Recv()
			if err != nil {
				return err
			}
			require.Len(t, resp.GetJobs(), 1)
			job = resp.GetJobs()[0]
			assert.Equal(t, pik, job.GetProcessInstanceKey())
			assert.JSONEq(t, `{"n":1}`, job.GetVariables())
			return nil
		}},
		{"CompleteJob", func(t *testing.T) error {
			_, err := gz.CompleteJob(ctx15(t), &pb.CompleteJobRequest{JobKey: job.GetKey(), Variables: `{"done":true}`})
			return err
		}},
	} {
		// The steps depend on each other: each runs only if the ones before passed.
		ok := t.Run(step.name, func(t *testing.T) {
			require.NoError(t, step.call(t), "%s with a gzip-compressed request", step.name)
		})
		if !ok {
			return
		}
	}
}
