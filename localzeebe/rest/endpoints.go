package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/engine"
)

type partition struct {
	PartitionID int32  `json:"partitionId"`
	Role        string `json:"role"`
	Health      string `json:"health"`
}

type broker struct {
	NodeID     int32       `json:"nodeId"`
	Host       string      `json:"host"`
	Port       int32       `json:"port"`
	Partitions []partition `json:"partitions"`
	Version    string      `json:"version"`
}

type topology struct {
	Brokers           []broker `json:"brokers"`
	ClusterSize       int32    `json:"clusterSize"`
	PartitionsCount   int32    `json:"partitionsCount"`
	ReplicationFactor int32    `json:"replicationFactor"`
	GatewayVersion    string   `json:"gatewayVersion"`
}

// topology describes the one broker and partition, as the gRPC Topology does.
func (h *Handler) topology(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, topology{
		Brokers: []broker{{NodeID: 0, Host: h.opts.GatewayHost, Port: h.opts.GatewayPort, Version: engine.BrokerVersion,
			Partitions: []partition{{PartitionID: 1, Role: "leader", Health: "healthy"}}}},
		ClusterSize: 1, PartitionsCount: 1, ReplicationFactor: 1, GatewayVersion: engine.BrokerVersion,
	})
}

// status answers 204: the engine serving this is healthy.
func (h *Handler) status(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }

type processDefinition struct {
	ProcessDefinitionID      string `json:"processDefinitionId"`
	ProcessDefinitionVersion int32  `json:"processDefinitionVersion"`
	ResourceName             string `json:"resourceName"`
	TenantID                 string `json:"tenantId"`
	ProcessDefinitionKey     key    `json:"processDefinitionKey"`
}

type decisionDefinition struct {
	DecisionDefinitionID    string `json:"decisionDefinitionId"`
	Version                 int32  `json:"version"`
	Name                    string `json:"name"`
	TenantID                string `json:"tenantId"`
	DecisionRequirementsID  string `json:"decisionRequirementsId"`
	DecisionDefinitionKey   key    `json:"decisionDefinitionKey"`
	DecisionRequirementsKey key    `json:"decisionRequirementsKey"`
}

type decisionRequirements struct {
	DecisionRequirementsID   string `json:"decisionRequirementsId"`
	Version                  int32  `json:"version"`
	DecisionRequirementsName string `json:"decisionRequirementsName"`
	TenantID                 string `json:"tenantId"`
	ResourceName             string `json:"resourceName"`
	DecisionRequirementsKey  key    `json:"decisionRequirementsKey"`
}

type form struct {
	FormID       string `json:"formId"`
	Version      int32  `json:"version"`
	ResourceName string `json:"resourceName"`
	TenantID     string `json:"tenantId"`
	FormKey      key    `json:"formKey"`
}

type deploymentMetadata struct {
	ProcessDefinition    *processDefinition    `json:"processDefinition,omitempty"`
	DecisionDefinition   *decisionDefinition   `json:"decisionDefinition,omitempty"`
	DecisionRequirements *decisionRequirements `json:"decisionRequirements,omitempty"`
	Form                 *form                 `json:"form,omitempty"`
}

type deployment struct {
	DeploymentKey key                  `json:"deploymentKey"`
	TenantID      string               `json:"tenantId"`
	Deployments   []deploymentMetadata `json:"deployments"`
}

// deploy deploys the multipart form's "resources" files at once.
func (h *Handler) deploy(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(maxBody); err != nil {
		h.fail(w, r, invalid("Expected a multipart/form-data body with the files as 'resources': %v", err))
		return
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }() // parts past the memory limit went to temporary files
	if err := checkTenant(r.FormValue("tenantId")); err != nil {
		h.fail(w, r, err)
		return
	}
	var res []engine.Resource
	for _, fh := range r.MultipartForm.File["resources"] {
		f, err := fh.Open()
		if err != nil {
			h.fail(w, r, fmt.Errorf("open the part %s: %w", fh.Filename, err))
			return
		}
		b, err := io.ReadAll(f)
		_ = f.Close()
		if err != nil {
			h.fail(w, r, fmt.Errorf("read the part %s: %w", fh.Filename, err))
			return
		}
		res = append(res, engine.Resource{ResourceName: fh.Filename, Resource: b})
	}
	if len(res) == 0 {
		h.fail(w, r, invalid("No resources provided."))
		return
	}
	out, err := h.eng.Deploy(r.Context(), res)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	resp := deployment{DeploymentKey: key(out.Key), TenantID: engine.DefaultTenant, Deployments: []deploymentMetadata{}}
	// Zeebe's order: processes, decisions, then decision requirements.
	for _, p := range out.Processes {
		resp.Deployments = append(resp.Deployments, deploymentMetadata{ProcessDefinition: &processDefinition{
			ProcessDefinitionID: p.BpmnProcessID, ProcessDefinitionVersion: p.Version, ResourceName: p.ResourceName,
			TenantID: engine.DefaultTenant, ProcessDefinitionKey: key(p.ProcessDefinitionKey)}})
	}
	for _, d := range out.Decisions {
		resp.Deployments = append(resp.Deployments, deploymentMetadata{DecisionDefinition: &decisionDefinition{
			DecisionDefinitionID: d.DecisionID, Version: d.Version, Name: d.DecisionName, TenantID: engine.DefaultTenant,
			DecisionRequirementsID: d.DecisionRequirementsID, DecisionDefinitionKey: key(d.DecisionKey),
			DecisionRequirementsKey: key(d.DecisionRequirementsKey)}})
	}
	for _, d := range out.DecisionRequirements {
		resp.Deployments = append(resp.Deployments, deploymentMetadata{DecisionRequirements: &decisionRequirements{
			DecisionRequirementsID: d.DecisionRequirementsID, Version: d.DecisionRequirementsVersion,
			DecisionRequirementsName: d.DecisionRequirementsName, TenantID: engine.DefaultTenant, ResourceName: d.ResourceName,
			DecisionRequirementsKey: key(d.DecisionRequirementsKey)}})
	}
	for _, f := range out.Forms {
		resp.Deployments = append(resp.Deployments, deploymentMetadata{Form: &form{FormID: f.FormID, Version: f.Version,
			ResourceName: f.ResourceName, TenantID: engine.DefaultTenant, FormKey: key(f.FormKey)}})
	}
	writeJSON(w, http.StatusOK, resp)
}

type createInstanceRequest struct {
	ProcessDefinitionID      string          `json:"processDefinitionId"`
	ProcessDefinitionVersion *int32          `json:"processDefinitionVersion"`
	ProcessDefinitionKey     key             `json:"processDefinitionKey"`
	Variables                json.RawMessage `json:"variables"`
	TenantID                 string          `json:"tenantId"`
	StartInstructions        []struct {
		ElementID string `json:"elementId"`
	} `json:"startInstructions"`
	AwaitCompletion bool     `json:"awaitCompletion"`
	FetchVariables  []string `json:"fetchVariables"`
	RequestTimeout  int64    `json:"requestTimeout"` // ms
}

type createdInstance struct {
	ProcessDefinitionID      string          `json:"processDefinitionId"`
	ProcessDefinitionVersion int32           `json:"processDefinitionVersion"`
	TenantID                 string          `json:"tenantId"`
	Variables                json.RawMessage `json:"variables"`
	ProcessDefinitionKey     key             `json:"processDefinitionKey"`
	ProcessInstanceKey       key             `json:"processInstanceKey"`
	Tags                     []string        `json:"tags"`
}

// createInstance starts an instance by definition id (latest version unless
// one is given) or key; with awaitCompletion it answers when it completes.
func (h *Handler) createInstance(w http.ResponseWriter, r *http.Request) {
	var req createInstanceRequest
	if err := decode(r, &req, true); err != nil {
		h.fail(w, r, err)
		return
	}
	switch {
	case req.ProcessDefinitionID == "" && req.ProcessDefinitionKey == 0:
		h.fail(w, r, invalid("At least one of [processDefinitionId, processDefinitionKey] is required."))
		return
	case req.ProcessDefinitionID != "" && req.ProcessDefinitionKey != 0:
		h.fail(w, r, invalid("Only one of [processDefinitionId, processDefinitionKey] is allowed."))
		return
	}
	if err := checkTenant(req.TenantID); err != nil {
		h.fail(w, r, err)
		return
	}
	vars, err := document(req.Variables)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cr := engine.CreateRequest{BpmnProcessID: req.ProcessDefinitionID, Version: -1,
		ProcessDefinitionKey: int64(req.ProcessDefinitionKey), Variables: vars}
	if req.ProcessDefinitionVersion != nil {
		cr.Version = *req.ProcessDefinitionVersion
	}
	for _, si := range req.StartInstructions {
		cr.StartElementIDs = append(cr.StartElementIDs, si.ElementID)
	}
	if !req.AwaitCompletion {
		out, err := h.eng.CreateInstance(r.Context(), cr)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, created(*out, json.RawMessage(`{}`)))
		return
	}
	timeout := time.Duration(req.RequestTimeout) * time.Millisecond
	if timeout <= 0 {
		timeout = defaultRequestTimeout
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	out, err := h.eng.CreateInstanceWithResult(ctx, cr, req.FetchVariables)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil {
			writeProblem(w, r, http.StatusGatewayTimeout, "DEADLINE_EXCEEDED", fmt.Sprintf(
				"Expected to handle the request within %s, but the process instance did not complete in time", timeout))
			return
		}
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, created(out.Created, out.Variables))
}

func created(c engine.Created, vars json.RawMessage) createdInstance {
	if len(vars) == 0 {
		vars = json.RawMessage(`{}`)
	}
	return createdInstance{ProcessDefinitionID: c.BpmnProcessID, ProcessDefinitionVersion: c.Version, TenantID: engine.DefaultTenant,
		Variables: vars, ProcessDefinitionKey: key(c.ProcessDefinitionKey), ProcessInstanceKey: key(c.ProcessInstanceKey), Tags: []string{}}
}

// cancelInstance cancels a root instance.
func (h *Handler) cancelInstance(w http.ResponseWriter, r *http.Request) {
	k, err := pathKey(r)
	if err == nil {
		err = decode(r, &struct{}{}, false)
	}
	if err == nil {
		err = h.eng.CancelInstance(r.Context(), k)
	}
	h.noContent(w, r, err)
}

func (h *Handler) noContent(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type activationRequest struct {
	Type              string   `json:"type"`
	Worker            string   `json:"worker"`
	Timeout           *int64   `json:"timeout"`
	MaxJobsToActivate *int32   `json:"maxJobsToActivate"`
	FetchVariable     []string `json:"fetchVariable"`
	RequestTimeout    int64    `json:"requestTimeout"`
	TenantIDs         []string `json:"tenantIds"`
}

type activatedJob struct {
	Type                     string          `json:"type"`
	ProcessDefinitionID      string          `json:"processDefinitionId"`
	ProcessDefinitionVersion int32           `json:"processDefinitionVersion"`
	ElementID                string          `json:"elementId"`
	CustomHeaders            json.RawMessage `json:"customHeaders"`
	Worker                   string          `json:"worker"`
	Retries                  int32           `json:"retries"`
	Deadline                 int64           `json:"deadline"`
	Variables                json.RawMessage `json:"variables"`
	TenantID                 string          `json:"tenantId"`
	JobKey                   key             `json:"jobKey"`
	ProcessInstanceKey       key             `json:"processInstanceKey"`
	ProcessDefinitionKey     key             `json:"processDefinitionKey"`
	ElementInstanceKey       key             `json:"elementInstanceKey"`
	Kind                     string          `json:"kind"`
	ListenerEventType        string          `json:"listenerEventType"`
	UserTask                 *struct{}       `json:"userTask"` // null: the engine has no Camunda user tasks
	Tags                     []string        `json:"tags"`
}

type activation struct {
	Jobs []activatedJob `json:"jobs"`
}

func toActivated(j engine.ActivatedJob) activatedJob {
	obj := func(raw json.RawMessage) json.RawMessage {
		if len(raw) == 0 {
			return json.RawMessage(`{}`)
		}
		return raw
	}
	return activatedJob{Type: j.Type, ProcessDefinitionID: j.BpmnProcessID, ProcessDefinitionVersion: j.ProcessDefinitionVersion,
		ElementID: j.ElementID, CustomHeaders: obj(j.CustomHeaders), Worker: j.Worker, Retries: j.Retries, Deadline: j.Deadline,
		Variables: obj(j.Variables), TenantID: engine.DefaultTenant, JobKey: key(j.Key), ProcessInstanceKey: key(j.ProcessInstanceKey),
		ProcessDefinitionKey: key(j.ProcessDefinitionKey), ElementInstanceKey: key(j.ElementInstanceKey), Kind: j.JobKind,
		ListenerEventType: "UNSPECIFIED", Tags: []string{}}
}

// activateJobs activates jobs, long-polling as the gRPC ActivateJobs does:
// until a job is activated or requestTimeout (0: 10 s; < 0: no wait) passes.
func (h *Handler) activateJobs(w http.ResponseWriter, r *http.Request) {
	var req activationRequest
	if err := decode(r, &req, true); err != nil {
		h.fail(w, r, err)
		return
	}
	switch {
	case req.Type == "":
		h.fail(w, r, invalid("No type provided."))
		return
	case req.Timeout == nil:
		h.fail(w, r, invalid("No timeout provided."))
		return
	case req.MaxJobsToActivate == nil:
		h.fail(w, r, invalid("No maxJobsToActivate provided."))
		return
	case *req.Timeout < 1:
		h.fail(w, r, invalid("The value for timeout is '%d' but must be greater than 0.", *req.Timeout))
		return
	case *req.MaxJobsToActivate < 1:
		h.fail(w, r, invalid("The value for maxJobsToActivate is '%d' but must be greater than 0.", *req.MaxJobsToActivate))
		return
	}
	for _, t := range req.TenantIDs {
		if err := checkTenant(t); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	ctx := r.Context()
	poll := time.Duration(req.RequestTimeout) * time.Millisecond
	if req.RequestTimeout == 0 {
		poll = defaultLongPoll
	}
	var expire <-chan time.Time
	if poll > 0 {
		t := time.NewTimer(poll)
		defer t.Stop()
		expire = t.C
	}
	ar := engine.ActivateRequest{Type: req.Type, Worker: req.Worker, Timeout: *req.Timeout, MaxJobs: *req.MaxJobsToActivate,
		FetchVariables: req.FetchVariable}
	resp := activation{Jobs: []activatedJob{}}
	for {
		woken, cancel := h.waiters.Wait(req.Type)
		out, err := h.eng.ActivateJobs(ctx, ar)
		if err != nil {
			cancel()
			h.fail(w, r, err)
			return
		}
		if len(out.Jobs) > 0 || poll < 0 {
			cancel()
			if ctx.Err() != nil {
				h.giveBack(out.Jobs) // the client left: nobody gets these
				return
			}
			for _, j := range out.Jobs {
				resp.Jobs = append(resp.Jobs, toActivated(j))
			}
			writeJSON(w, http.StatusOK, resp)
			return
		}
		select {
		case <-woken:
			cancel()
		case <-expire:
			cancel()
			writeJSON(w, http.StatusOK, resp)
			return
		case <-ctx.Done():
			cancel()
			return
		}
	}
}

// giveBack returns undelivered jobs with their retries unchanged.
func (h *Handler) giveBack(jobs []engine.ActivatedJob) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, j := range jobs {
		_ = h.eng.YieldJob(ctx, j.Key)
	}
}

// jobCommand reads a job command's body (optional unless required) and
// runs it on the job in the path.
func (h *Handler) jobCommand(w http.ResponseWriter, r *http.Request, body any, required bool, vars *json.RawMessage,
	run func(context.Context, engine.JobCommand) error, fill func(*engine.JobCommand) error) {
	k, err := pathKey(r)
	if err == nil {
		err = decode(r, body, required)
	}
	cmd := engine.JobCommand{Key: k}
	if err == nil {
		cmd.Variables, err = document(*vars)
	}
	if err == nil && fill != nil {
		err = fill(&cmd)
	}
	if err == nil {
		err = run(r.Context(), cmd)
	}
	h.noContent(w, r, err)
}

func (h *Handler) completeJob(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Variables json.RawMessage `json:"variables"`
		Result    json.RawMessage `json:"result"`
	}
	h.jobCommand(w, r, &req, false, &req.Variables, h.eng.CompleteJob, func(*engine.JobCommand) error {
		if len(req.Result) > 0 && string(req.Result) != "null" {
			return invalid("A job result (corrections or denial by a task listener) is not supported by the local engine, which has no task listeners")
		}
		return nil
	})
}

func (h *Handler) failJob(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Retries      int32           `json:"retries"`
		ErrorMessage string          `json:"errorMessage"`
		RetryBackOff int64           `json:"retryBackOff"`
		Variables    json.RawMessage `json:"variables"`
	}
	h.jobCommand(w, r, &req, false, &req.Variables, h.eng.FailJob, func(c *engine.JobCommand) error {
		c.Retries, c.ErrorMessage, c.RetryBackoff = req.Retries, req.ErrorMessage, req.RetryBackOff
		return nil
	})
}

func (h *Handler) throwError(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ErrorCode    string          `json:"errorCode"`
		ErrorMessage string          `json:"errorMessage"`
		Variables    json.RawMessage `json:"variables"`
	}
	h.jobCommand(w, r, &req, true, &req.Variables, h.eng.ThrowError, func(c *engine.JobCommand) error {
		if req.ErrorCode == "" {
			return invalid("No errorCode provided.")
		}
		c.ErrorCode, c.ErrorMessage = req.ErrorCode, req.ErrorMessage
		return nil
	})
}

// updateJob changes a job's retries, timeout or both.
func (h *Handler) updateJob(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Changeset *struct {
			Retries *int32 `json:"retries"`
			Timeout *int64 `json:"timeout"`
		} `json:"changeset"`
	}
	k, err := pathKey(r)
	if err == nil {
		err = decode(r, &req, true)
	}
	if err == nil && (req.Changeset == nil || req.Changeset.Retries == nil && req.Changeset.Timeout == nil) {
		err = invalid("At least one of [retries, timeout] is required.")
	}
	if err == nil && req.Changeset.Retries != nil {
		err = h.eng.UpdateJobRetries(r.Context(), engine.JobCommand{Key: k, Retries: *req.Changeset.Retries})
	}
	if err == nil && req.Changeset.Timeout != nil {
		err = h.eng.UpdateJobTimeout(r.Context(), engine.JobCommand{Key: k, Timeout: *req.Changeset.Timeout})
	}
	h.noContent(w, r, err)
}

func (h *Handler) resolveIncident(w http.ResponseWriter, r *http.Request) {
	k, err := pathKey(r)
	if err == nil {
		err = decode(r, &struct{}{}, false)
	}
	if err == nil {
		err = h.eng.ResolveIncident(r.Context(), k)
	}
	h.noContent(w, r, err)
}

// publishMessage publishes a message; it answers before any correlation.
func (h *Handler) publishMessage(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name           string          `json:"name"`
		CorrelationKey string          `json:"correlationKey"`
		TimeToLive     int64           `json:"timeToLive"`
		MessageID      string          `json:"messageId"`
		Variables      json.RawMessage `json:"variables"`
		TenantID       string          `json:"tenantId"`
	}
	err := decode(r, &req, true)
	if err == nil && req.Name == "" {
		err = invalid("No name provided.")
	}
	if err == nil {
		err = checkTenant(req.TenantID)
	}
	var vars json.RawMessage
	if err == nil {
		vars, err = document(req.Variables)
	}
	var k int64
	if err == nil {
		k, err = h.eng.PublishMessage(r.Context(), engine.PublishRequest{Name: req.Name, CorrelationKey: req.CorrelationKey,
			MessageID: req.MessageID, TimeToLive: req.TimeToLive, Variables: vars})
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		TenantID   string `json:"tenantId"`
		MessageKey key    `json:"messageKey"`
	}{engine.DefaultTenant, key(k)})
}

func (h *Handler) broadcastSignal(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SignalName string          `json:"signalName"`
		Variables  json.RawMessage `json:"variables"`
		TenantID   string          `json:"tenantId"`
	}
	err := decode(r, &req, true)
	if err == nil && req.SignalName == "" {
		err = invalid("No signalName provided.")
	}
	if err == nil {
		err = checkTenant(req.TenantID)
	}
	var vars json.RawMessage
	if err == nil {
		vars, err = document(req.Variables)
	}
	var k int64
	if err == nil {
		k, err = h.eng.BroadcastSignal(r.Context(), req.SignalName, vars)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		TenantID  string `json:"tenantId"`
		SignalKey key    `json:"signalKey"`
	}{engine.DefaultTenant, key(k)})
}

// setVariables merges variables into an element instance's scope.
func (h *Handler) setVariables(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Variables json.RawMessage `json:"variables"`
		Local     bool            `json:"local"`
	}
	k, err := pathKey(r)
	if err == nil {
		err = decode(r, &req, true)
	}
	var vars json.RawMessage
	if err == nil {
		vars, err = document(req.Variables)
	}
	if err == nil {
		_, err = h.eng.SetVariables(r.Context(), k, vars, req.Local)
	}
	h.noContent(w, r, err)
}
