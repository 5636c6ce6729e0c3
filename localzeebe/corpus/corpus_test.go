package corpus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/engine"
)

// The corpus as the manifest lists it: every model is counted here so that a
// model added, dropped or changing outcome shows in the diff.
const (
	wantModels       = 48 // models (a model is one deployment: a BPMN file with what it calls)
	wantZeebeRefuses = 5  // models Zeebe 8.5 refuses as well: not runnable Camunda 8.5 models
	wantEnded        = 42 // models that run to an end event
)

// corpusDir is where the models and the manifest live; LOCALZEEBE_CORPUS
// points the test at another copy (e.g. a larger corpus kept elsewhere).
func corpusDir() string {
	if d := os.Getenv("LOCALZEEBE_CORPUS"); d != "" {
		return d
	}
	return "testdata"
}

// manifest is testdata/MANIFEST.json.
type manifest struct {
	Sources map[string]source `json:"sources"`
	Files   []file            `json:"files"`
	Models  []model           `json:"models"`
}

// source is a public repository the files come from.
type source struct {
	Repository string `json:"repository"` // owner/name on GitHub
	Licence    string `json:"licence"`    // SPDX identifier
	// LicenceFiles are the licence text and any NOTICE the licence asks
	// to pass on with the files, under the corpus directory.
	LicenceFiles []string `json:"licenceFiles"`
}

// file is one committed resource and where it was taken from.
type file struct {
	File   string `json:"file"`   // path under the corpus directory
	Source string `json:"source"` // key into Sources
	Path   string `json:"path"`   // path in the source repository
	Commit string `json:"commit"` // the source repository's commit
	// Changes says what differs from the source ("" = nothing): the diagram
	// interchange is left out of most, since the engine does not read it.
	Changes string `json:"changes,omitempty"`
	SHA256  string `json:"sha256"` // of the file as committed
}

// model is one run of the driver.
type model struct {
	Name      string   `json:"name"`
	Resources []string `json:"resources"` // files deployed together; the first is the model
	// Process is the BPMN process id to start; "" = the first process of the
	// first resource that the deployment reports.
	Process string `json:"process,omitempty"`
	// Variables are the instance's start variables (what its conditions and
	// correlation keys read).
	Variables json.RawMessage `json:"variables,omitempty"`
	// JobVariables complete jobs: by element id, else by job type.
	JobVariables map[string]json.RawMessage `json:"jobVariables,omitempty"`
	// JobErrors throw a BPMN error (this code) instead of completing, by
	// element id: the models' error paths.
	JobErrors map[string]string `json:"jobErrors,omitempty"`
	Expect    outcome           `json:"expect"`
}

// outcome is how a run ends.
type outcome struct {
	Kind    string `json:"kind"`              // ended, incident, refused
	Element string `json:"element,omitempty"` // the element that stops it (incident, refused)
	Reason  string `json:"reason,omitempty"`  // a part of the incident's or refusal's message
	// EndEvents are the end events the root instance completed (ended).
	EndEvents []string `json:"endEvents,omitempty"`
	// ZeebeRefuses marks a model that Zeebe 8.5 refuses to deploy as well
	// (invalid there too: an older syntax, a broken expression): the engine
	// matches Zeebe, and the model is no Camunda 8.5 model to run.
	ZeebeRefuses bool `json:"zeebeRefuses,omitempty"`
	// Why explains, for the manifest's reader, what stops the model.
	Why string `json:"why,omitempty"`
}

const (
	ended    = "ended"
	incident = "incident"
	refused  = "refused"
)

func loadManifest(t *testing.T, dir string) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "MANIFEST.json"))
	require.NoError(t, err)
	var m manifest
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// TestManifest checks that every file in the corpus is recorded with its
// source, licence and checksum, and every model names recorded files.
func TestManifest(t *testing.T) {
	dir := corpusDir()
	m := loadManifest(t, dir)
	recorded := map[string]bool{}
	for _, f := range m.Files {
		src, ok := m.Sources[f.Source]
		require.Truef(t, ok, "%s: source %q is not in sources", f.File, f.Source)
		assert.NotEmpty(t, src.Repository, f.File)
		assert.Contains(t, []string{"Apache-2.0", "MIT"}, src.Licence, f.File)
		require.NotEmpty(t, src.LicenceFiles, f.Source)
		for _, l := range src.LicenceFiles {
			assert.FileExists(t, filepath.Join(dir, l), f.Source)
		}
		assert.Len(t, f.Commit, 40, f.File)
		assert.NotEmpty(t, f.Path, f.File)
		b, err := os.ReadFile(filepath.Join(dir, f.File))
		require.NoError(t, err)
		sum := sha256.Sum256(b)
		assert.Equal(t, f.SHA256, hex.EncodeToString(sum[:]), f.File)
		assert.Falsef(t, recorded[f.File], "%s is recorded twice", f.File)
		recorded[f.File] = true
	}
	var onDisk []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "LICENSES" {
			return filepath.SkipDir // licence texts, not models
		}
		if d.IsDir() || d.Name() == "MANIFEST.json" {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		onDisk = append(onDisk, filepath.ToSlash(rel))
		return err
	}))
	for _, f := range onDisk {
		assert.Truef(t, recorded[f], "%s is in the corpus but not in the manifest", f)
	}
	names := map[string]bool{}
	for _, md := range m.Models {
		assert.Falsef(t, names[md.Name], "model %s is listed twice", md.Name)
		names[md.Name] = true
		require.NotEmpty(t, md.Resources, md.Name)
		for _, r := range md.Resources {
			assert.Truef(t, recorded[r], "model %s: resource %s is not in files", md.Name, r)
		}
		assert.Contains(t, []string{ended, incident, refused}, md.Expect.Kind, md.Name)
		if md.Expect.Kind != ended {
			assert.NotEmptyf(t, md.Expect.Element, "model %s: name the element that stops it", md.Name)
			assert.NotEmptyf(t, md.Expect.Reason, "model %s: give the engine's message", md.Name)
			assert.NotEmptyf(t, md.Expect.Why, "model %s: say why it stops", md.Name)
		}
		assert.Falsef(t, md.Expect.ZeebeRefuses && md.Expect.Kind != refused, "model %s: only a refusal can be Zeebe's too", md.Name)
	}
}

// TestCorpus runs every model of the manifest and checks its outcome, then
// the totals: how many models run to an end event, and that they are at
// least 90% of the models Zeebe 8.5 deploys (the others are refused here as
// there, which their expected outcome asserts).
func TestCorpus(t *testing.T) {
	dir := corpusDir()
	m := loadManifest(t, dir)
	var mu sync.Mutex
	got := map[string]outcome{}
	t.Run("models", func(t *testing.T) {
		for _, md := range m.Models {
			t.Run(md.Name, func(t *testing.T) {
				t.Parallel()
				res := runModel(t, dir, md)
				t.Logf("outcome: %+v", res)
				mu.Lock()
				got[md.Name] = res
				mu.Unlock()
				assert.Equal(t, md.Expect.Kind, res.Kind, "outcome (%s %s)", res.Element, res.Reason)
				assert.Equal(t, md.Expect.Element, res.Element)
				if md.Expect.Kind == ended {
					assert.Equal(t, md.Expect.EndEvents, res.EndEvents)
				} else {
					assert.Contains(t, res.Reason, md.Expect.Reason)
				}
			})
		}
	})
	// LOCALZEEBE_CORPUS_OUTCOMES names a file to write the outcomes to, as
	// JSON by model: what a new model's manifest entry starts from.
	if out := os.Getenv("LOCALZEEBE_CORPUS_OUTCOMES"); out != "" {
		b, err := json.MarshalIndent(got, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(out, b, 0o644))
	}
	if dir != "testdata" {
		return // another corpus has other totals
	}
	endedCount, zeebeRefuses := 0, 0
	for _, md := range m.Models {
		if got[md.Name].Kind == ended {
			endedCount++
		}
		if md.Expect.ZeebeRefuses {
			zeebeRefuses++
		}
	}
	runnable := len(m.Models) - zeebeRefuses // the models Zeebe 8.5 deploys
	assert.Equal(t, wantModels, len(m.Models), "models in the corpus")
	assert.Equal(t, wantZeebeRefuses, zeebeRefuses, "models Zeebe 8.5 refuses too")
	assert.Equal(t, wantEnded, endedCount, "models that run to an end event")
	assert.GreaterOrEqual(t, endedCount*10, runnable*9, "at least 90%% of the models Zeebe 8.5 deploys run to an end event")
	t.Logf("corpus: %d models; %d run to an end event: %.1f%% of the %d that Zeebe 8.5 deploys, %.1f%% of all",
		len(m.Models), endedCount, 100*float64(endedCount)/float64(runnable), runnable, 100*float64(endedCount)/float64(len(m.Models)))
}

// clock is the engine's clock, moved by the driver to the next timer.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// advanceTo moves the clock to ms (Unix milliseconds) if that is later.
func (c *clock) advanceTo(ms int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := time.UnixMilli(ms); t.After(c.now) {
		c.now = t
	}
}

// record is the part of an exported record the driver reads.
type record struct {
	Position   int64  `json:"position"`
	Key        int64  `json:"key"`
	ValueType  string `json:"valueType"`
	Intent     string `json:"intent"`
	RecordType string `json:"recordType"`
	Value      struct {
		BpmnProcessID            string `json:"bpmnProcessId"`
		ProcessInstanceKey       int64  `json:"processInstanceKey"`
		ElementInstanceKey       int64  `json:"elementInstanceKey"`
		ElementID                string `json:"elementId"`
		BpmnElementType          string `json:"bpmnElementType"`
		FlowScopeKey             int64  `json:"flowScopeKey"`
		ParentProcessInstanceKey int64  `json:"parentProcessInstanceKey"`
		Type                     string `json:"type"`
		MessageName              string `json:"messageName"`
		CorrelationKey           string `json:"correlationKey"`
		SignalName               string `json:"signalName"`
		CatchEventInstanceKey    int64  `json:"catchEventInstanceKey"`
		// A timer's due date is epoch ms, a user task's an ISO 8601 string.
		DueDate      json.RawMessage `json:"dueDate"`
		ErrorType    string          `json:"errorType"`
		ErrorMessage string          `json:"errorMessage"`
	} `json:"value"`
}

// driver runs one model on its own engine.
type driver struct {
	t      *testing.T
	eng    *engine.Engine
	clock  *clock
	model  model
	pos    int64 // the next record position to read
	root   int64 // the started root process instance; 0 until it exists
	active map[int64]string
	// What the instance waits for, by subscription (or timer) key.
	jobTypes  map[string]bool
	userTasks map[int64]string  // open Zeebe user tasks: key -> element id
	messages  map[string]record // by element instance and message name
	published map[string]bool
	signals   map[int64]record
	signalled map[int64]bool
	timers    map[int64]int64
	startMsgs []string
	startSigs []string
	endEvents []string
	incident  *outcome
	rootEnded bool
}

// base is the clock's start: fixed, so timer dates are the same every run.
var base = time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)

// maxSteps bounds a run: a model that loops (a timer cycle, a job that
// comes back) stops here and fails with what it was waiting for.
const maxSteps = 200

func runModel(t *testing.T, dir string, md model) outcome {
	ck := &clock{now: base}
	eng, err := engine.Open(engine.Config{DataDir: filepath.Join(t.TempDir(), "data"), Now: ck.Now, TickInterval: time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d := &driver{t: t, eng: eng, clock: ck, model: md, pos: 1, active: map[int64]string{},
		jobTypes: map[string]bool{}, userTasks: map[int64]string{}, messages: map[string]record{}, published: map[string]bool{},
		signals: map[int64]record{}, signalled: map[int64]bool{}, timers: map[int64]int64{}}
	return d.run(ctx, dir)
}

func (d *driver) run(ctx context.Context, dir string) outcome {
	t := d.t
	var res []engine.Resource
	for _, r := range d.model.Resources {
		b, err := os.ReadFile(filepath.Join(dir, r))
		require.NoError(t, err)
		res = append(res, engine.Resource{ResourceName: filepath.Base(r), Resource: b})
	}
	dep, err := d.eng.Deploy(ctx, res)
	if err != nil {
		var rej *engine.Rejection
		require.ErrorAs(t, err, &rej, "a deployment fails only by a rejection")
		return outcome{Kind: refused, Element: refusedElement(rej.Reason), Reason: rej.Reason}
	}
	process := d.model.Process
	if process == "" {
		require.NotEmpty(t, dep.Processes, "the deployment has no process")
		process = dep.Processes[0].BpmnProcessID
	}
	vars := d.model.Variables
	if len(vars) == 0 {
		vars = json.RawMessage(`{}`)
	}
	created, err := d.eng.CreateInstance(ctx, engine.CreateRequest{BpmnProcessID: process, Version: -1, Variables: vars})
	if err == nil {
		d.root = created.ProcessInstanceKey
	} else {
		// No none start event: the run starts the way the deployment subscribed.
		var rej *engine.Rejection
		require.ErrorAs(t, err, &rej)
	}
	d.read()
	if d.root == 0 {
		d.start(ctx, vars)
	}
	for step := 0; step < maxSteps; step++ {
		if d.incident != nil {
			return *d.incident
		}
		if d.rootEnded {
			return outcome{Kind: ended, EndEvents: d.endEvents}
		}
		if !d.act(ctx) {
			return outcome{Kind: "stuck", Element: strings.Join(d.activeElements(), ","), Reason: "nothing to complete, publish, broadcast or fire"}
		}
	}
	return outcome{Kind: "looping", Element: strings.Join(d.activeElements(), ","), Reason: fmt.Sprintf("not ended after %d steps", maxSteps)}
}

// start triggers a process without a none start event: a message start, a
// signal start or, failing both, its timer start.
func (d *driver) start(ctx context.Context, vars json.RawMessage) {
	t := d.t
	switch {
	case len(d.startMsgs) > 0:
		_, err := d.eng.PublishMessage(ctx, engine.PublishRequest{Name: d.startMsgs[0], Variables: vars})
		require.NoError(t, err)
	case len(d.startSigs) > 0:
		_, err := d.eng.BroadcastSignal(ctx, d.startSigs[0], vars)
		require.NoError(t, err)
	case len(d.timers) > 0:
		d.fireNextTimer(ctx)
	default:
		require.Fail(t, "the process has no start event the driver can trigger")
	}
	d.read()
	require.NotZero(t, d.root, "the start event started no instance")
}

// act does the next thing the instance waits for, in the order a worker and
// the outside world most plausibly would: complete jobs, then publish
// messages, then broadcast signals, then let the next timer fire. It
// reports false when there is nothing to do.
func (d *driver) act(ctx context.Context) bool {
	t := d.t
	for _, typ := range sortedKeys(d.jobTypes) {
		jobs, err := d.eng.ActivateJobs(ctx, engine.ActivateRequest{Type: typ, Worker: "corpus", Timeout: 300_000, MaxJobs: 32})
		require.NoError(t, err)
		if len(jobs.Jobs) == 0 {
			delete(d.jobTypes, typ)
			continue
		}
		for _, j := range jobs.Jobs {
			if code, ok := d.model.JobErrors[j.ElementID]; ok {
				require.NoError(t, d.eng.ThrowError(ctx, engine.JobCommand{Key: j.Key, ErrorCode: code, Variables: json.RawMessage(`{}`)}), "throw error at %s", j.ElementID)
				continue
			}
			vars, ok := d.model.JobVariables[j.ElementID]
			if !ok {
				vars = d.model.JobVariables[j.Type]
			}
			if len(vars) == 0 {
				vars = json.RawMessage(`{}`)
			}
			require.NoError(t, d.eng.CompleteJob(ctx, engine.JobCommand{Key: j.Key, Variables: vars}), "complete job %s", j.ElementID)
		}
		d.read()
		return true
	}
	// A person completes the Zeebe user tasks, through the REST API in Zeebe.
	if len(d.userTasks) > 0 {
		k := sortedKeys(d.userTasks)[0]
		id := d.userTasks[k]
		delete(d.userTasks, k)
		vars := d.model.JobVariables[id]
		if len(vars) == 0 {
			vars = json.RawMessage(`{}`)
		}
		require.NoError(t, d.eng.CompleteUserTask(ctx, engine.UserTaskCommand{Key: k, Variables: vars}), "complete user task %s", id)
		d.read()
		return true
	}
	for _, k := range sortedKeys(d.messages) {
		m := d.messages[k]
		delete(d.messages, k)
		if d.published[k] {
			continue
		}
		d.published[k] = true
		_, err := d.eng.PublishMessage(ctx, engine.PublishRequest{Name: m.Value.MessageName, CorrelationKey: m.Value.CorrelationKey, Variables: json.RawMessage(`{}`)})
		require.NoError(t, err)
		d.read()
		return true
	}
	for _, k := range sortedKeys(d.signals) {
		s := d.signals[k]
		delete(d.signals, k)
		if d.signalled[k] {
			continue
		}
		d.signalled[k] = true
		_, err := d.eng.BroadcastSignal(ctx, s.Value.SignalName, json.RawMessage(`{}`))
		require.NoError(t, err)
		d.read()
		return true
	}
	if len(d.timers) > 0 {
		d.fireNextTimer(ctx)
		return true
	}
	return false
}

// fireNextTimer moves the clock to the earliest timer and waits until the
// engine has triggered it (its tick runs on its own goroutine).
func (d *driver) fireNextTimer(ctx context.Context) {
	t := d.t
	var next int64
	var due int64
	for _, k := range sortedKeys(d.timers) {
		if next == 0 || d.timers[k] < due {
			next, due = k, d.timers[k]
		}
	}
	d.clock.advanceTo(due)
	for {
		d.read()
		if _, open := d.timers[next]; !open {
			return
		}
		select {
		case <-ctx.Done():
			require.FailNow(t, "timer not triggered", "timer %d due %s", next, time.UnixMilli(due).UTC())
		case <-time.After(time.Millisecond): // polls the store for the trigger record
		}
	}
}

// read applies the records written since the last read.
func (d *driver) read() {
	t := d.t
	var recs []record
	require.NoError(t, d.eng.Records(d.pos, func(b []byte) error {
		var r record
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("decode record: %w", err)
		}
		if r.Position >= d.pos {
			recs = append(recs, r)
		}
		return nil
	}))
	for _, r := range recs {
		d.pos = r.Position + 1
		if r.RecordType != "EVENT" {
			continue
		}
		v := r.Value
		switch r.ValueType + " " + r.Intent {
		case "PROCESS_INSTANCE ELEMENT_ACTIVATED":
			d.active[r.Key] = v.ElementID
			if v.BpmnElementType == "PROCESS" && v.ParentProcessInstanceKey == -1 && d.root == 0 {
				d.root = r.Key
			}
		case "PROCESS_INSTANCE ELEMENT_COMPLETED", "PROCESS_INSTANCE ELEMENT_TERMINATED":
			delete(d.active, r.Key)
			if r.Key == d.root {
				d.rootEnded = true
			}
			if r.Intent == "ELEMENT_COMPLETED" && v.BpmnElementType == "END_EVENT" && v.ProcessInstanceKey == d.root && v.FlowScopeKey == d.root {
				d.endEvents = append(d.endEvents, v.ElementID)
			}
		case "JOB CREATED", "JOB TIMED_OUT", "JOB RETRIES_UPDATED", "JOB FAILED":
			d.jobTypes[v.Type] = true
		case "USER_TASK CREATED":
			d.userTasks[r.Key] = v.ElementID
		case "USER_TASK COMPLETED", "USER_TASK CANCELED":
			delete(d.userTasks, r.Key)
		// Zeebe writes both sides of a subscription; either one says what
		// the instance waits for.
		case "MESSAGE_SUBSCRIPTION CREATED", "PROCESS_MESSAGE_SUBSCRIPTION CREATED":
			d.messages[subscription(v.ElementInstanceKey, v.MessageName)] = r
		case "MESSAGE_SUBSCRIPTION DELETED", "MESSAGE_SUBSCRIPTION CORRELATED",
			"PROCESS_MESSAGE_SUBSCRIPTION DELETED", "PROCESS_MESSAGE_SUBSCRIPTION CORRELATED":
			delete(d.messages, subscription(v.ElementInstanceKey, v.MessageName))
		case "MESSAGE_START_EVENT_SUBSCRIPTION CREATED":
			d.startMsgs = append(d.startMsgs, v.MessageName)
		case "SIGNAL_SUBSCRIPTION CREATED":
			if v.CatchEventInstanceKey <= 0 {
				d.startSigs = append(d.startSigs, v.SignalName)
			} else {
				d.signals[r.Key] = r
			}
		case "SIGNAL_SUBSCRIPTION DELETED":
			delete(d.signals, r.Key)
		case "TIMER CREATED":
			var due int64
			require.NoError(t, json.Unmarshal(v.DueDate, &due), "timer due date")
			d.timers[r.Key] = due
		case "TIMER TRIGGERED", "TIMER CANCELED":
			delete(d.timers, r.Key)
		case "INCIDENT CREATED":
			if d.incident == nil {
				d.incident = &outcome{Kind: incident, Element: v.ElementID, Reason: v.ErrorType + ": " + v.ErrorMessage}
			}
		}
	}
}

// subscription names a message subscription.
func subscription(elementInstance int64, message string) string {
	return fmt.Sprintf("%d/%s", elementInstance, message)
}

// activeElements lists what the instance still has active, for a failure message.
func (d *driver) activeElements() []string {
	var ids []string
	for _, id := range d.active {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// refusedElement is the element a deployment's rejection names ("Element: X"),
// or the resource when it names none.
func refusedElement(reason string) string {
	const prefix = "Element: "
	i := strings.Index(reason, prefix)
	if i < 0 {
		return "(resource)"
	}
	rest := reason[i+len(prefix):]
	if j := strings.IndexAny(rest, " \n"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

func sortedKeys[K int64 | string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

func TestRefusedElement(t *testing.T) {
	tests := []struct {
		name, reason, want string
	}{
		{"element with a path", "Expected to deploy new resources, but encountered the following errors:\n'a.bpmn': Element: taskA > extensionElements\n    ERROR: x", "taskA"},
		{"element at the end of a line", "'a.bpmn': Element: Flow_1\n    ERROR: x", "Flow_1"},
		{"first of several", "Element: A > x\nElement: B > y", "A"},
		{"no element", "'a.bpmn': Malformed XML at line 107: unexpected EOF", "(resource)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, refusedElement(tt.reason))
		})
	}
}
