//lint:file-ignore SA1019 DeployProcess is deprecated in the protocol, but `zbctl deploy` still calls it.

package localzeebe

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/engine"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/internal/jobwait"
)

const (
	defaultLongPoll       = 10 * time.Second // Zeebe's default when requestTimeout is 0
	defaultRequestTimeout = 15 * time.Second // the gateway's request timeout
	maxMessageSize        = 4 << 20
)

// gateway serves the Zeebe gateway API on top of the engine.
type gateway struct {
	pb.UnimplementedGatewayServer
	eng     *engine.Engine
	host    string
	port    int32
	waiters *jobwait.Waiters // parked activations and streams
}

func newGateway(eng *engine.Engine, addr net.Addr) *gateway {
	g := &gateway{eng: eng, waiters: jobwait.New(eng)}
	if ta, ok := addr.(*net.TCPAddr); ok {
		g.host, g.port = ta.IP.String(), int32(ta.Port)
	}
	return g
}

// toStatus maps engine errors to the gRPC status Zeebe's gateway would answer.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	var rej *engine.Rejection
	switch {
	case errors.As(err, &rej):
		code := codes.Unknown
		switch rej.Type {
		case "INVALID_ARGUMENT":
			code = codes.InvalidArgument
		case "NOT_FOUND":
			code = codes.NotFound
		case "ALREADY_EXISTS":
			code = codes.AlreadyExists
		case "INVALID_STATE":
			code = codes.FailedPrecondition
		case "PROCESSING_ERROR":
			code = codes.Internal
		}
		return status.Error(code, rej.Error())
	case errors.Is(err, engine.ErrInvalidDocument):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, engine.ErrClosed):
		return status.Error(codes.Unavailable, "the local Zeebe engine is shutting down; retry against the restarted engine")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	return status.Error(codes.Internal, "Unexpected error occurred during the request processing: "+err.Error())
}

// checkDocument validates a variables document as the gateway does, before the engine.
func checkDocument(doc string) (json.RawMessage, error) {
	if _, err := engine.ParseDocument([]byte(doc)); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return json.RawMessage(doc), nil
}

func checkTenant(cmd, tenant string) error {
	if tenant == "" || tenant == engine.DefaultTenant {
		return nil
	}
	return status.Errorf(codes.InvalidArgument, "Expected to handle gRPC request %s with tenant identifier '%s', but multi-tenancy is disabled", cmd, tenant)
}

// Topology describes the one broker and partition.
func (g *gateway) Topology(context.Context, *pb.TopologyRequest) (*pb.TopologyResponse, error) {
	return &pb.TopologyResponse{
		Brokers: []*pb.BrokerInfo{{NodeId: 0, Host: g.host, Port: g.port, Version: engine.BrokerVersion,
			Partitions: []*pb.Partition{{PartitionId: 1, Role: pb.Partition_LEADER, Health: pb.Partition_HEALTHY}}}},
		ClusterSize: 1, PartitionsCount: 1, ReplicationFactor: 1, GatewayVersion: engine.BrokerVersion,
	}, nil
}

func (g *gateway) deploy(ctx context.Context, res []*pb.Resource) (*engine.DeployResult, error) {
	var rs []engine.Resource
	for _, r := range res {
		rs = append(rs, engine.Resource{ResourceName: r.GetName(), Resource: r.GetContent()})
	}
	out, err := g.eng.Deploy(ctx, rs)
	return out, toStatus(err)
}

// DeployResource deploys BPMN resources.
func (g *gateway) DeployResource(ctx context.Context, r *pb.DeployResourceRequest) (*pb.DeployResourceResponse, error) {
	if err := checkTenant("DeployResource", r.GetTenantId()); err != nil {
		return nil, err
	}
	out, err := g.deploy(ctx, r.GetResources())
	if err != nil {
		return nil, err
	}
	resp := &pb.DeployResourceResponse{Key: out.Key, TenantId: engine.DefaultTenant}
	for _, p := range out.Processes {
		resp.Deployments = append(resp.Deployments, &pb.Deployment{Metadata: &pb.Deployment_Process{Process: &pb.ProcessMetadata{
			BpmnProcessId: p.BpmnProcessID, Version: p.Version, ProcessDefinitionKey: p.ProcessDefinitionKey,
			ResourceName: p.ResourceName, TenantId: engine.DefaultTenant}}})
	}
	// Zeebe's order: processes, decisions, decision requirements, then forms (reference 1.2).
	for _, d := range out.Decisions {
		resp.Deployments = append(resp.Deployments, &pb.Deployment{Metadata: &pb.Deployment_Decision{Decision: &pb.DecisionMetadata{
			DmnDecisionId: d.DecisionID, DmnDecisionName: d.DecisionName, Version: d.Version, DecisionKey: d.DecisionKey,
			DmnDecisionRequirementsId: d.DecisionRequirementsID, DecisionRequirementsKey: d.DecisionRequirementsKey, TenantId: engine.DefaultTenant}}})
	}
	for _, d := range out.DecisionRequirements {
		resp.Deployments = append(resp.Deployments, &pb.Deployment{Metadata: &pb.Deployment_DecisionRequirements{DecisionRequirements: &pb.DecisionRequirementsMetadata{
			DmnDecisionRequirementsId: d.DecisionRequirementsID, DmnDecisionRequirementsName: d.DecisionRequirementsName,
			Version: d.DecisionRequirementsVersion, DecisionRequirementsKey: d.DecisionRequirementsKey, ResourceName: d.ResourceName,
			TenantId: engine.DefaultTenant}}})
	}
	for _, f := range out.Forms {
		resp.Deployments = append(resp.Deployments, &pb.Deployment{Metadata: &pb.Deployment_Form{Form: &pb.FormMetadata{
			FormId: f.FormID, Version: f.Version, FormKey: f.FormKey, ResourceName: f.ResourceName, TenantId: engine.DefaultTenant}}})
	}
	return resp, nil
}

// DeployProcess is the deprecated RPC that `zbctl deploy` still calls.
func (g *gateway) DeployProcess(ctx context.Context, r *pb.DeployProcessRequest) (*pb.DeployProcessResponse, error) {
	var res []*pb.Resource
	for _, p := range r.GetProcesses() {
		res = append(res, &pb.Resource{Name: p.GetName(), Content: p.GetDefinition()})
	}
	out, err := g.deploy(ctx, res)
	if err != nil {
		return nil, err
	}
	resp := &pb.DeployProcessResponse{Key: out.Key}
	for _, p := range out.Processes {
		resp.Processes = append(resp.Processes, &pb.ProcessMetadata{BpmnProcessId: p.BpmnProcessID, Version: p.Version,
			ProcessDefinitionKey: p.ProcessDefinitionKey, ResourceName: p.ResourceName, TenantId: engine.DefaultTenant})
	}
	return resp, nil
}

func createRequest(r *pb.CreateProcessInstanceRequest) (engine.CreateRequest, error) {
	if err := checkTenant("CreateProcessInstance", r.GetTenantId()); err != nil {
		return engine.CreateRequest{}, err
	}
	vars, err := checkDocument(r.GetVariables())
	if err != nil {
		return engine.CreateRequest{}, err
	}
	cr := engine.CreateRequest{BpmnProcessID: r.GetBpmnProcessId(), Version: r.GetVersion(),
		ProcessDefinitionKey: r.GetProcessDefinitionKey(), Variables: vars}
	for _, si := range r.GetStartInstructions() {
		cr.StartElementIDs = append(cr.StartElementIDs, si.GetElementId())
	}
	return cr, nil
}

// CreateProcessInstance starts an instance.
func (g *gateway) CreateProcessInstance(ctx context.Context, r *pb.CreateProcessInstanceRequest) (*pb.CreateProcessInstanceResponse, error) {
	cr, err := createRequest(r)
	if err != nil {
		return nil, err
	}
	out, err := g.eng.CreateInstance(ctx, cr)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.CreateProcessInstanceResponse{ProcessDefinitionKey: out.ProcessDefinitionKey, BpmnProcessId: out.BpmnProcessID,
		Version: out.Version, ProcessInstanceKey: out.ProcessInstanceKey, TenantId: engine.DefaultTenant}, nil
}

// CreateProcessInstanceWithResult starts an instance and answers when it completes.
func (g *gateway) CreateProcessInstanceWithResult(ctx context.Context, r *pb.CreateProcessInstanceWithResultRequest) (*pb.CreateProcessInstanceWithResultResponse, error) {
	cr, err := createRequest(r.GetRequest())
	if err != nil {
		return nil, err
	}
	timeout := time.Duration(r.GetRequestTimeout()) * time.Millisecond
	if timeout <= 0 {
		timeout = defaultRequestTimeout
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := g.eng.CreateInstanceWithResult(wctx, cr, r.GetFetchVariables())
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, status.Errorf(codes.DeadlineExceeded, "Time out between gateway and broker: Request ProcessInstanceCreationRequest timed out in PT%gS", timeout.Seconds())
		}
		return nil, toStatus(err)
	}
	return &pb.CreateProcessInstanceWithResultResponse{ProcessDefinitionKey: out.ProcessDefinitionKey, BpmnProcessId: out.BpmnProcessID,
		Version: out.Version, ProcessInstanceKey: out.ProcessInstanceKey, Variables: string(out.Variables), TenantId: engine.DefaultTenant}, nil
}

// CancelProcessInstance cancels a root instance.
func (g *gateway) CancelProcessInstance(ctx context.Context, r *pb.CancelProcessInstanceRequest) (*pb.CancelProcessInstanceResponse, error) {
	return &pb.CancelProcessInstanceResponse{}, toStatus(g.eng.CancelInstance(ctx, r.GetProcessInstanceKey()))
}

func toActivated(j engine.ActivatedJob) *pb.ActivatedJob {
	return &pb.ActivatedJob{Key: j.Key, Type: j.Type, ProcessInstanceKey: j.ProcessInstanceKey, BpmnProcessId: j.BpmnProcessID,
		ProcessDefinitionVersion: j.ProcessDefinitionVersion, ProcessDefinitionKey: j.ProcessDefinitionKey, ElementId: j.ElementID,
		ElementInstanceKey: j.ElementInstanceKey, CustomHeaders: string(j.CustomHeaders), Worker: j.Worker, Retries: j.Retries,
		Deadline: j.Deadline, Variables: string(j.Variables), TenantId: engine.DefaultTenant}
}

// ActivateJobs activates jobs, long-polling as Zeebe's gateway does.
func (g *gateway) ActivateJobs(r *pb.ActivateJobsRequest, stream pb.Gateway_ActivateJobsServer) error {
	for _, t := range r.GetTenantIds() {
		if err := checkTenant("ActivateJobs", t); err != nil {
			return err
		}
	}
	ctx := stream.Context()
	poll := time.Duration(r.GetRequestTimeout()) * time.Millisecond
	if r.GetRequestTimeout() == 0 {
		poll = defaultLongPoll
	}
	var expire <-chan time.Time
	if poll > 0 {
		t := time.NewTimer(poll)
		defer t.Stop()
		expire = t.C
	}
	req := engine.ActivateRequest{Type: r.GetType(), Worker: r.GetWorker(), Timeout: r.GetTimeout(),
		MaxJobs: r.GetMaxJobsToActivate(), FetchVariables: r.GetFetchVariable()}
	for {
		woken, cancel := g.waiters.Wait(r.GetType())
		out, err := g.eng.ActivateJobs(ctx, req)
		if err != nil {
			cancel()
			return toStatus(err)
		}
		if len(out.Jobs) > 0 {
			cancel()
			return g.sendBatch(ctx, stream, out.Jobs)
		}
		if poll < 0 {
			cancel()
			return nil
		}
		select {
		case <-woken:
			cancel()
		case <-expire:
			cancel()
			return nil // completed with OK and no message, as Zeebe does
		case <-ctx.Done():
			cancel()
			// The client's deadline or cancellation, not an empty OK: a
			// client whose deadline passed must see DEADLINE_EXCEEDED.
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}

// sendBatch sends jobs in as few messages as the size limit allows; jobs it
// cannot deliver go back with their retries unchanged.
func (g *gateway) sendBatch(ctx context.Context, stream pb.Gateway_ActivateJobsServer, jobs []engine.ActivatedJob) error {
	var msg []*pb.ActivatedJob
	size := 0
	flush := func() error {
		if len(msg) == 0 {
			return nil
		}
		err := stream.Send(&pb.ActivateJobsResponse{Jobs: msg})
		msg, size = nil, 0
		return err
	}
	for i, j := range jobs {
		aj := toActivated(j)
		n := len(aj.Variables) + len(aj.CustomHeaders) + 256
		if size+n > maxMessageSize-1024 {
			if err := flush(); err != nil {
				g.giveBack(jobs[i:])
				return status.Error(codes.Canceled, "could not send the activated jobs: "+err.Error())
			}
		}
		msg = append(msg, aj)
		size += n
	}
	if err := flush(); err != nil {
		g.giveBack(jobs)
		return status.Error(codes.Canceled, "could not send the activated jobs: "+err.Error())
	}
	return nil
}

// giveBack returns undelivered jobs with their retries unchanged and no backoff.
func (g *gateway) giveBack(jobs []engine.ActivatedJob) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, j := range jobs {
		_ = g.eng.YieldJob(ctx, j.Key)
	}
}

// StreamActivatedJobs pushes each job of the type as it becomes activatable.
func (g *gateway) StreamActivatedJobs(r *pb.StreamActivatedJobsRequest, stream pb.Gateway_StreamActivatedJobsServer) error {
	if r.GetType() == "" {
		return status.Error(codes.InvalidArgument, "Expected to stream activated jobs with type to be present, but it was blank")
	}
	if r.GetTimeout() < 1 {
		return status.Errorf(codes.InvalidArgument, "Expected to stream activated jobs with timeout to be greater than zero, but it was %d", r.GetTimeout())
	}
	for _, t := range r.GetTenantIds() {
		if err := checkTenant("StreamActivatedJobs", t); err != nil {
			return err
		}
	}
	ctx := stream.Context()
	req := engine.ActivateRequest{Type: r.GetType(), Worker: r.GetWorker(), Timeout: r.GetTimeout(), MaxJobs: 32,
		FetchVariables: r.GetFetchVariable()}
	for {
		woken, cancel := g.waiters.Wait(r.GetType())
		out, err := g.eng.ActivateJobs(ctx, req)
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return nil
			}
			return toStatus(err)
		}
		for i, j := range out.Jobs {
			if err := stream.Send(toActivated(j)); err != nil {
				cancel()
				g.giveBack(out.Jobs[i:])
				return nil
			}
		}
		if len(out.Jobs) == int(req.MaxJobs) {
			cancel()
			continue // there may be more
		}
		select {
		case <-woken:
			cancel()
		case <-ctx.Done():
			cancel()
			return nil
		}
	}
}

// CompleteJob completes a job.
func (g *gateway) CompleteJob(ctx context.Context, r *pb.CompleteJobRequest) (*pb.CompleteJobResponse, error) {
	vars, err := checkDocument(r.GetVariables())
	if err != nil {
		return nil, err
	}
	return &pb.CompleteJobResponse{}, toStatus(g.eng.CompleteJob(ctx, engine.JobCommand{Key: r.GetJobKey(), Variables: vars}))
}

// FailJob fails a job.
func (g *gateway) FailJob(ctx context.Context, r *pb.FailJobRequest) (*pb.FailJobResponse, error) {
	vars, err := checkDocument(r.GetVariables())
	if err != nil {
		return nil, err
	}
	return &pb.FailJobResponse{}, toStatus(g.eng.FailJob(ctx, engine.JobCommand{Key: r.GetJobKey(), Retries: r.GetRetries(),
		ErrorMessage: r.GetErrorMessage(), RetryBackoff: r.GetRetryBackOff(), Variables: vars}))
}

// ThrowError throws a BPMN error.
func (g *gateway) ThrowError(ctx context.Context, r *pb.ThrowErrorRequest) (*pb.ThrowErrorResponse, error) {
	vars, err := checkDocument(r.GetVariables())
	if err != nil {
		return nil, err
	}
	return &pb.ThrowErrorResponse{}, toStatus(g.eng.ThrowError(ctx, engine.JobCommand{Key: r.GetJobKey(), ErrorCode: r.GetErrorCode(),
		ErrorMessage: r.GetErrorMessage(), Variables: vars}))
}

// UpdateJobRetries sets a job's retries.
func (g *gateway) UpdateJobRetries(ctx context.Context, r *pb.UpdateJobRetriesRequest) (*pb.UpdateJobRetriesResponse, error) {
	return &pb.UpdateJobRetriesResponse{}, toStatus(g.eng.UpdateJobRetries(ctx, engine.JobCommand{Key: r.GetJobKey(), Retries: r.GetRetries()}))
}

// UpdateJobTimeout moves an activated job's deadline.
func (g *gateway) UpdateJobTimeout(ctx context.Context, r *pb.UpdateJobTimeoutRequest) (*pb.UpdateJobTimeoutResponse, error) {
	return &pb.UpdateJobTimeoutResponse{}, toStatus(g.eng.UpdateJobTimeout(ctx, engine.JobCommand{Key: r.GetJobKey(), Timeout: r.GetTimeout()}))
}

// ResolveIncident resolves an incident.
func (g *gateway) ResolveIncident(ctx context.Context, r *pb.ResolveIncidentRequest) (*pb.ResolveIncidentResponse, error) {
	return &pb.ResolveIncidentResponse{}, toStatus(g.eng.ResolveIncident(ctx, r.GetIncidentKey()))
}

// SetVariables merges variables into a scope.
func (g *gateway) SetVariables(ctx context.Context, r *pb.SetVariablesRequest) (*pb.SetVariablesResponse, error) {
	vars, err := checkDocument(r.GetVariables())
	if err != nil {
		return nil, err
	}
	key, err := g.eng.SetVariables(ctx, r.GetElementInstanceKey(), vars, r.GetLocal())
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.SetVariablesResponse{Key: key}, nil
}

// PublishMessage publishes a message.
func (g *gateway) PublishMessage(ctx context.Context, r *pb.PublishMessageRequest) (*pb.PublishMessageResponse, error) {
	if err := checkTenant("PublishMessage", r.GetTenantId()); err != nil {
		return nil, err
	}
	vars, err := checkDocument(r.GetVariables())
	if err != nil {
		return nil, err
	}
	key, err := g.eng.PublishMessage(ctx, engine.PublishRequest{Name: r.GetName(), CorrelationKey: r.GetCorrelationKey(),
		MessageID: r.GetMessageId(), TimeToLive: r.GetTimeToLive(), Variables: vars})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.PublishMessageResponse{Key: key, TenantId: engine.DefaultTenant}, nil
}

func unsupported(rpc string) error {
	return status.Errorf(codes.Unimplemented, "%s is not supported by localzeebe, the local Zeebe-compatible engine; run it against a Camunda 8 cluster (ZEEBE_ADDRESS)", rpc)
}

// EvaluateDecision evaluates the latest version of a decision (by id) or
// the decision with the key. A failed evaluation is an answer, with the
// failed decision and the failure message, not an error.
func (g *gateway) EvaluateDecision(ctx context.Context, r *pb.EvaluateDecisionRequest) (*pb.EvaluateDecisionResponse, error) {
	if err := checkTenant("EvaluateDecision", r.GetTenantId()); err != nil {
		return nil, err
	}
	vars, err := checkDocument(r.GetVariables())
	if err != nil {
		return nil, err
	}
	out, err := g.eng.EvaluateDecision(ctx, r.GetDecisionKey(), r.GetDecisionId(), vars)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &pb.EvaluateDecisionResponse{DecisionKey: out.DecisionKey, DecisionId: out.DecisionID, DecisionName: out.DecisionName,
		DecisionVersion: out.DecisionVersion, DecisionRequirementsId: out.DecisionRequirementsID, DecisionRequirementsKey: out.DecisionRequirementsKey,
		DecisionOutput: out.DecisionOutput, FailedDecisionId: out.FailedDecisionID, FailureMessage: out.EvaluationFailureMessage,
		TenantId: engine.DefaultTenant}
	for _, d := range out.EvaluatedDecisions {
		ed := &pb.EvaluatedDecision{DecisionKey: d.DecisionKey, DecisionId: d.DecisionID, DecisionName: d.DecisionName,
			DecisionVersion: d.DecisionVersion, DecisionType: d.DecisionType, DecisionOutput: d.DecisionOutput, TenantId: engine.DefaultTenant}
		for _, in := range d.EvaluatedInputs {
			ed.EvaluatedInputs = append(ed.EvaluatedInputs, &pb.EvaluatedDecisionInput{InputId: in.InputID, InputName: in.InputName, InputValue: in.InputValue})
		}
		for _, m := range d.MatchedRules {
			mr := &pb.MatchedDecisionRule{RuleId: m.RuleID, RuleIndex: int32(m.RuleIndex)}
			for _, o := range m.EvaluatedOutputs {
				mr.EvaluatedOutputs = append(mr.EvaluatedOutputs, &pb.EvaluatedDecisionOutput{OutputId: o.OutputID, OutputName: o.OutputName, OutputValue: o.OutputValue})
			}
			ed.MatchedRules = append(ed.MatchedRules, mr)
		}
		resp.EvaluatedDecisions = append(resp.EvaluatedDecisions, ed)
	}
	return resp, nil
}

// ModifyProcessInstance is not supported.
func (g *gateway) ModifyProcessInstance(context.Context, *pb.ModifyProcessInstanceRequest) (*pb.ModifyProcessInstanceResponse, error) {
	return nil, unsupported("ModifyProcessInstance")
}

// MigrateProcessInstance is not supported.
func (g *gateway) MigrateProcessInstance(context.Context, *pb.MigrateProcessInstanceRequest) (*pb.MigrateProcessInstanceResponse, error) {
	return nil, unsupported("MigrateProcessInstance")
}

// DeleteResource is not supported.
func (g *gateway) DeleteResource(context.Context, *pb.DeleteResourceRequest) (*pb.DeleteResourceResponse, error) {
	return nil, unsupported("DeleteResource")
}

// BroadcastSignal broadcasts a signal; the engine refuses none (reference 1.16).
func (g *gateway) BroadcastSignal(ctx context.Context, r *pb.BroadcastSignalRequest) (*pb.BroadcastSignalResponse, error) {
	if err := checkTenant("BroadcastSignal", r.GetTenantId()); err != nil {
		return nil, err
	}
	vars, err := checkDocument(r.GetVariables())
	if err != nil {
		return nil, err
	}
	key, err := g.eng.BroadcastSignal(ctx, r.GetSignalName(), vars)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.BroadcastSignalResponse{Key: key, TenantId: engine.DefaultTenant}, nil
}
