package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// BrokerVersion is the Zeebe version whose records and gateway behaviour the
// engine reproduces; it appears in every record and in the topology.
const BrokerVersion = "8.5.8"

// DefaultTenant is the only tenant: multi-tenancy is off, as in a default Zeebe.
const DefaultTenant = "<default>"

// Record types.
const (
	Event            = "EVENT"
	Command          = "COMMAND"
	CommandRejection = "COMMAND_REJECTION"
)

// Value types, as Zeebe names them.
const (
	VTDeployment               = "DEPLOYMENT"
	VTProcess                  = "PROCESS"
	VTProcessInstance          = "PROCESS_INSTANCE"
	VTProcessInstanceCreation  = "PROCESS_INSTANCE_CREATION"
	VTProcessEvent             = "PROCESS_EVENT"
	VTVariable                 = "VARIABLE"
	VTVariableDocument         = "VARIABLE_DOCUMENT"
	VTJob                      = "JOB"
	VTJobBatch                 = "JOB_BATCH"
	VTIncident                 = "INCIDENT"
	VTMessage                  = "MESSAGE"
	VTMessageSubscription      = "MESSAGE_SUBSCRIPTION"
	VTProcessMessageSubscr     = "PROCESS_MESSAGE_SUBSCRIPTION"
	VTTimer                    = "TIMER"
	VTCompensationSubscription = "COMPENSATION_SUBSCRIPTION"
	VTMessageStartSubscription = "MESSAGE_START_EVENT_SUBSCRIPTION"
	VTSignal                   = "SIGNAL"
	VTSignalSubscription       = "SIGNAL_SUBSCRIPTION"
	VTEscalation               = "ESCALATION"
)

// Record is one entry of the engine's log: a command, an event or a rejection,
// serialised in the shape Zeebe's exporters use.
type Record struct {
	PartitionID          int    `json:"partitionId"`
	Value                any    `json:"value"`
	Key                  int64  `json:"key"`
	Position             int64  `json:"position"`
	Timestamp            int64  `json:"timestamp"`
	ValueType            string `json:"valueType"`
	Intent               string `json:"intent"`
	RejectionType        string `json:"rejectionType"`
	RejectionReason      string `json:"rejectionReason"`
	RecordVersion        int    `json:"recordVersion"`
	Authorizations       auths  `json:"authorizations"`
	SourceRecordPosition int64  `json:"sourceRecordPosition"`
	BrokerVersion        string `json:"brokerVersion"`
	RecordType           string `json:"recordType"`
}

type auths struct {
	AuthorizedTenants []string `json:"authorized_tenants"`
}

var defaultAuths = auths{AuthorizedTenants: []string{DefaultTenant}}

// rawRecord is a Record whose value is still JSON, for decoding.
type rawRecord struct {
	Record
	Value json.RawMessage `json:"value"`
}

// MarshalJSON writes the record without HTML escaping, so payloads keep
// their bytes.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("localzeebe: encode record: %v", err)) // values are our own types
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// decodeRecord decodes a stored record with its typed value.
func decodeRecord(b []byte) (*Record, error) {
	var raw rawRecord
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	rec := raw.Record
	var v any
	switch rec.ValueType {
	case VTDeployment:
		v = &DeploymentValue{}
	case VTProcessInstanceCreation:
		v = &CreationValue{}
	case VTProcessInstance:
		v = &ProcessInstanceValue{}
	case VTJob:
		v = &JobValue{}
	case VTJobBatch:
		v = &JobBatchValue{}
	case VTUserTask:
		v = &UserTaskValue{}
	case VTIncident:
		v = &IncidentValue{}
	case VTVariableDocument:
		v = &VariableDocumentValue{}
	case VTMessage:
		v = &MessageValue{}
	case VTTimer:
		v = &TimerValue{}
	case VTSignal:
		v = &SignalValue{}
	case VTDecisionEvaluation:
		v = &DecisionEvaluationValue{}
	default:
		v = &map[string]any{}
	}
	if err := json.Unmarshal(raw.Value, v); err != nil {
		return nil, fmt.Errorf("decode %s value: %w", rec.ValueType, err)
	}
	rec.Value = v
	return &rec, nil
}

// Resource is one deployed file.
type Resource struct {
	Resource     []byte `json:"resource"`
	ResourceName string `json:"resourceName"`
}

// ProcessMetadata describes one deployed process version.
type ProcessMetadata struct {
	BpmnProcessID        string `json:"bpmnProcessId"`
	Version              int32  `json:"version"`
	ProcessDefinitionKey int64  `json:"processDefinitionKey"`
	ResourceName         string `json:"resourceName"`
	Checksum             []byte `json:"checksum"`
	Duplicate            bool   `json:"duplicate"`
	TenantID             string `json:"tenantId"`
}

// DeploymentValue is the value of DEPLOYMENT records.
type DeploymentValue struct {
	Resources                    []Resource                  `json:"resources"`
	ProcessesMetadata            []ProcessMetadata           `json:"processesMetadata"`
	DecisionsMetadata            []DecisionValue             `json:"decisionsMetadata"`
	DecisionRequirementsMetadata []DecisionRequirementsValue `json:"decisionRequirementsMetadata"`
	FormMetadata                 []FormValue                 `json:"formMetadata"`
	TenantID                     string                      `json:"tenantId"`
}

// ProcessValue is the value of PROCESS records.
type ProcessValue struct {
	BpmnProcessID        string `json:"bpmnProcessId"`
	Version              int32  `json:"version"`
	ProcessDefinitionKey int64  `json:"processDefinitionKey"`
	ResourceName         string `json:"resourceName"`
	Checksum             []byte `json:"checksum"`
	Resource             []byte `json:"resource"`
	Duplicate            bool   `json:"duplicate"`
	TenantID             string `json:"tenantId"`
}

// StartInstruction names an element to start a process instance at.
type StartInstruction struct {
	ElementID string `json:"elementId"`
}

// CreationValue is the value of PROCESS_INSTANCE_CREATION records.
type CreationValue struct {
	BpmnProcessID        string             `json:"bpmnProcessId"`
	Version              int32              `json:"version"`
	ProcessDefinitionKey int64              `json:"processDefinitionKey"`
	ProcessInstanceKey   int64              `json:"processInstanceKey"`
	StartInstructions    []StartInstruction `json:"startInstructions"`
	Variables            json.RawMessage    `json:"variables"`
	TenantID             string             `json:"tenantId"`
	// FetchVariables and WithResult are the local engine's own fields: they
	// make the command replayable on its own.
	FetchVariables []string `json:"fetchVariables,omitempty"`
	WithResult     bool     `json:"withResult,omitempty"`
}

// ProcessInstanceValue is the value of PROCESS_INSTANCE records.
type ProcessInstanceValue struct {
	BpmnProcessID            string `json:"bpmnProcessId"`
	Version                  int32  `json:"version"`
	ProcessDefinitionKey     int64  `json:"processDefinitionKey"`
	ProcessInstanceKey       int64  `json:"processInstanceKey"`
	ElementID                string `json:"elementId"`
	FlowScopeKey             int64  `json:"flowScopeKey"`
	BpmnElementType          string `json:"bpmnElementType"`
	ParentProcessInstanceKey int64  `json:"parentProcessInstanceKey"`
	ParentElementInstanceKey int64  `json:"parentElementInstanceKey"`
	BpmnEventType            string `json:"bpmnEventType"`
	TenantID                 string `json:"tenantId"`
}

// ProcessEventValue is the value of PROCESS_EVENT records.
type ProcessEventValue struct {
	ScopeKey             int64           `json:"scopeKey"`
	TargetElementID      string          `json:"targetElementId"`
	Variables            json.RawMessage `json:"variables"`
	ProcessDefinitionKey int64           `json:"processDefinitionKey"`
	ProcessInstanceKey   int64           `json:"processInstanceKey"`
	TenantID             string          `json:"tenantId"`
}

// VariableValue is the value of VARIABLE records; Value is JSON text.
type VariableValue struct {
	Name                 string `json:"name"`
	Value                string `json:"value"`
	ScopeKey             int64  `json:"scopeKey"`
	ProcessInstanceKey   int64  `json:"processInstanceKey"`
	ProcessDefinitionKey int64  `json:"processDefinitionKey"`
	BpmnProcessID        string `json:"bpmnProcessId"`
	TenantID             string `json:"tenantId"`
}

// VariableDocumentValue is the value of VARIABLE_DOCUMENT records.
type VariableDocumentValue struct {
	ScopeKey        int64           `json:"scopeKey"`
	UpdateSemantics string          `json:"updateSemantics"`
	Variables       json.RawMessage `json:"variables"`
	TenantID        string          `json:"tenantId"`
}

// JobValue is the value of JOB records and of each job in a JOB_BATCH.
type JobValue struct {
	Type                     string          `json:"type"`
	Retries                  int32           `json:"retries"`
	RetryBackoff             int64           `json:"retryBackoff"`
	RecurringTime            int64           `json:"recurringTime"`
	JobKind                  string          `json:"jobKind"`
	ElementID                string          `json:"elementId"`
	ProcessDefinitionKey     int64           `json:"processDefinitionKey"`
	Deadline                 int64           `json:"deadline"`
	CustomHeaders            json.RawMessage `json:"customHeaders"`
	TenantID                 string          `json:"tenantId"`
	BpmnProcessID            string          `json:"bpmnProcessId"`
	ProcessInstanceKey       int64           `json:"processInstanceKey"`
	ElementInstanceKey       int64           `json:"elementInstanceKey"`
	ProcessDefinitionVersion int32           `json:"processDefinitionVersion"`
	ErrorMessage             string          `json:"errorMessage"`
	ErrorCode                string          `json:"errorCode"`
	Variables                json.RawMessage `json:"variables"`
	Timeout                  int64           `json:"timeout"`
	Worker                   string          `json:"worker"`
}

// emptyJob is a job command's value before the engine fills it in.
func emptyJob() JobValue {
	return JobValue{Retries: -1, RecurringTime: -1, JobKind: "BPMN_ELEMENT", ProcessDefinitionKey: -1, Deadline: -1,
		CustomHeaders: json.RawMessage(`{}`), TenantID: DefaultTenant, ProcessInstanceKey: -1, ElementInstanceKey: -1,
		ProcessDefinitionVersion: -1, Variables: json.RawMessage(`{}`), Timeout: -1}
}

// JobBatchValue is the value of JOB_BATCH records.
type JobBatchValue struct {
	Type              string     `json:"type"`
	MaxJobsToActivate int32      `json:"maxJobsToActivate"`
	JobKeys           []int64    `json:"jobKeys"`
	Truncated         bool       `json:"truncated"`
	TenantIDs         []string   `json:"tenantIds"`
	Timeout           int64      `json:"timeout"`
	Worker            string     `json:"worker"`
	Jobs              []JobValue `json:"jobs"`
	// FetchVariables is the local engine's own field, so the command replays alone.
	FetchVariables []string `json:"fetchVariables,omitempty"`
}

// IncidentValue is the value of INCIDENT records.
type IncidentValue struct {
	ErrorType            string `json:"errorType"`
	ErrorMessage         string `json:"errorMessage"`
	BpmnProcessID        string `json:"bpmnProcessId"`
	ProcessDefinitionKey int64  `json:"processDefinitionKey"`
	ProcessInstanceKey   int64  `json:"processInstanceKey"`
	ElementID            string `json:"elementId"`
	ElementInstanceKey   int64  `json:"elementInstanceKey"`
	JobKey               int64  `json:"jobKey"`
	VariableScopeKey     int64  `json:"variableScopeKey"`
	TenantID             string `json:"tenantId"`
}

// MessageValue is the value of MESSAGE records.
type MessageValue struct {
	Name           string          `json:"name"`
	CorrelationKey string          `json:"correlationKey"`
	TimeToLive     int64           `json:"timeToLive"`
	MessageID      string          `json:"messageId"`
	Variables      json.RawMessage `json:"variables"`
	Deadline       int64           `json:"deadline"`
	TenantID       string          `json:"tenantId"`
}

// MessageSubscriptionValue is the value of MESSAGE_SUBSCRIPTION and
// PROCESS_MESSAGE_SUBSCRIPTION records.
type MessageSubscriptionValue struct {
	ProcessInstanceKey int64           `json:"processInstanceKey"`
	ElementInstanceKey int64           `json:"elementInstanceKey"`
	BpmnProcessID      string          `json:"bpmnProcessId"`
	MessageName        string          `json:"messageName"`
	CorrelationKey     string          `json:"correlationKey"`
	MessageKey         int64           `json:"messageKey"`
	ElementID          string          `json:"elementId,omitempty"`
	Interrupting       bool            `json:"interrupting"`
	Variables          json.RawMessage `json:"variables"`
	TenantID           string          `json:"tenantId"`
}

// MessageStartSubscriptionValue is the value of MESSAGE_START_EVENT_SUBSCRIPTION records.
type MessageStartSubscriptionValue struct {
	ProcessDefinitionKey int64           `json:"processDefinitionKey"`
	BpmnProcessID        string          `json:"bpmnProcessId"`
	StartEventID         string          `json:"startEventId"`
	MessageName          string          `json:"messageName"`
	ProcessInstanceKey   int64           `json:"processInstanceKey"`
	CorrelationKey       string          `json:"correlationKey"`
	MessageKey           int64           `json:"messageKey"`
	Variables            json.RawMessage `json:"variables"`
	TenantID             string          `json:"tenantId"`
}

// TimerValue is the value of TIMER records.
type TimerValue struct {
	ElementInstanceKey   int64  `json:"elementInstanceKey"`
	ProcessInstanceKey   int64  `json:"processInstanceKey"`
	DueDate              int64  `json:"dueDate"`
	TargetElementID      string `json:"targetElementId"`
	Repetitions          int    `json:"repetitions"`
	ProcessDefinitionKey int64  `json:"processDefinitionKey"`
	TenantID             string `json:"tenantId"`
}

// CompensationSubscriptionValue is the value of COMPENSATION_SUBSCRIPTION records.
type CompensationSubscriptionValue struct {
	TenantID                       string          `json:"tenantId"`
	ProcessInstanceKey             int64           `json:"processInstanceKey"`
	ProcessDefinitionKey           int64           `json:"processDefinitionKey"`
	CompensableActivityID          string          `json:"compensableActivityId"`
	ThrowEventID                   string          `json:"throwEventId"`
	ThrowEventInstanceKey          int64           `json:"throwEventInstanceKey"`
	CompensationHandlerID          string          `json:"compensationHandlerId"`
	CompensationHandlerInstanceKey int64           `json:"compensationHandlerInstanceKey"`
	CompensableActivityScopeKey    int64           `json:"compensableActivityScopeKey"`
	CompensableActivityInstanceKey int64           `json:"compensableActivityInstanceKey"`
	Variables                      json.RawMessage `json:"variables"`
}

// SignalValue is the value of SIGNAL records.
type SignalValue struct {
	SignalName string          `json:"signalName"`
	Variables  json.RawMessage `json:"variables"`
	TenantID   string          `json:"tenantId"`
}

// SignalSubscriptionValue is the value of SIGNAL_SUBSCRIPTION records;
// a start event's has catchEventInstanceKey -1.
type SignalSubscriptionValue struct {
	ProcessDefinitionKey  int64  `json:"processDefinitionKey"`
	BpmnProcessID         string `json:"bpmnProcessId"`
	CatchEventID          string `json:"catchEventId"`
	CatchEventInstanceKey int64  `json:"catchEventInstanceKey"`
	SignalName            string `json:"signalName"`
	TenantID              string `json:"tenantId"`
}

// EscalationValue is the value of ESCALATION records.
type EscalationValue struct {
	ProcessInstanceKey int64  `json:"processInstanceKey"`
	EscalationCode     string `json:"escalationCode"`
	ThrowElementID     string `json:"throwElementId"`
	CatchElementID     string `json:"catchElementId"`
	TenantID           string `json:"tenantId"`
}

// Decision value types.
const (
	VTDecisionRequirements = "DECISION_REQUIREMENTS"
	VTDecision             = "DECISION"
	VTDecisionEvaluation   = "DECISION_EVALUATION"
)

// DecisionRequirementsValue is the value of DECISION_REQUIREMENTS records
// and the metadata of a deployed decision requirements graph.
type DecisionRequirementsValue struct {
	DecisionRequirementsID      string `json:"decisionRequirementsId"`
	DecisionRequirementsName    string `json:"decisionRequirementsName"`
	DecisionRequirementsVersion int32  `json:"decisionRequirementsVersion"`
	DecisionRequirementsKey     int64  `json:"decisionRequirementsKey"`
	Namespace                   string `json:"namespace"`
	ResourceName                string `json:"resourceName"`
	Checksum                    []byte `json:"checksum"`
	Resource                    []byte `json:"resource,omitempty"` // records only, not the deployment's metadata
	Duplicate                   bool   `json:"duplicate"`
	TenantID                    string `json:"tenantId"`
}

// DecisionValue is the value of DECISION records and the metadata of a deployed decision.
type DecisionValue struct {
	DecisionID              string `json:"decisionId"`
	DecisionName            string `json:"decisionName"`
	Version                 int32  `json:"version"`
	DecisionKey             int64  `json:"decisionKey"`
	DecisionRequirementsID  string `json:"decisionRequirementsId"`
	DecisionRequirementsKey int64  `json:"decisionRequirementsKey"`
	Duplicate               bool   `json:"duplicate"`
	TenantID                string `json:"tenantId"`
}

// DecisionEvaluationValue is the value of DECISION_EVALUATION records; the
// outputs and values inside are JSON texts.
type DecisionEvaluationValue struct {
	DecisionKey              int64                    `json:"decisionKey"`
	DecisionID               string                   `json:"decisionId"`
	DecisionName             string                   `json:"decisionName"`
	DecisionVersion          int32                    `json:"decisionVersion"`
	DecisionRequirementsID   string                   `json:"decisionRequirementsId"`
	DecisionRequirementsKey  int64                    `json:"decisionRequirementsKey"`
	DecisionOutput           string                   `json:"decisionOutput"`
	Variables                json.RawMessage          `json:"variables"`
	ProcessDefinitionKey     int64                    `json:"processDefinitionKey"`
	BpmnProcessID            string                   `json:"bpmnProcessId"`
	ProcessInstanceKey       int64                    `json:"processInstanceKey"`
	ElementInstanceKey       int64                    `json:"elementInstanceKey"`
	ElementID                string                   `json:"elementId"`
	EvaluatedDecisions       []EvaluatedDecisionValue `json:"evaluatedDecisions"`
	EvaluationFailureMessage string                   `json:"evaluationFailureMessage"`
	FailedDecisionID         string                   `json:"failedDecisionId"`
	TenantID                 string                   `json:"tenantId"`
}

// EvaluatedDecisionValue is one decision of a DECISION_EVALUATION.
type EvaluatedDecisionValue struct {
	DecisionID      string                `json:"decisionId"`
	DecisionName    string                `json:"decisionName"`
	DecisionKey     int64                 `json:"decisionKey"`
	DecisionVersion int32                 `json:"decisionVersion"`
	DecisionType    string                `json:"decisionType"`
	DecisionOutput  string                `json:"decisionOutput"`
	EvaluatedInputs []EvaluatedInputValue `json:"evaluatedInputs"`
	MatchedRules    []MatchedRuleValue    `json:"matchedRules"`
	TenantID        string                `json:"tenantId"`
}

// EvaluatedInputValue is a decision table input's value.
type EvaluatedInputValue struct {
	InputID    string `json:"inputId"`
	InputName  string `json:"inputName"`
	InputValue string `json:"inputValue"`
}

// MatchedRuleValue is a matched decision table rule.
type MatchedRuleValue struct {
	RuleID           string                 `json:"ruleId"`
	RuleIndex        int                    `json:"ruleIndex"`
	EvaluatedOutputs []EvaluatedOutputValue `json:"evaluatedOutputs"`
}

// EvaluatedOutputValue is a matched rule's output value.
type EvaluatedOutputValue struct {
	OutputID    string `json:"outputId"`
	OutputName  string `json:"outputName"`
	OutputValue string `json:"outputValue"`
}
