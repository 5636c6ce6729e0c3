// Package rest serves the part of Camunda's Orchestration Cluster REST API
// (v2) that the 8.8 clients call by default — camunda-client-java prefers it
// over gRPC — on the same engine as the gRPC gateway (issue 22). Requests and
// answers follow the public OpenAPI spec: keys are JSON strings, variables
// and custom headers JSON objects, errors RFC 9457 problem+json. Every other
// /v2 endpoint answers 501 with a problem naming it.
package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/engine"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/internal/jobwait"
)

const (
	defaultLongPoll       = 10 * time.Second // a requestTimeout of 0, as over gRPC
	defaultRequestTimeout = 15 * time.Second // awaitCompletion without requestTimeout
	maxBody               = 4 << 20          // the gRPC gateway's message limit
)

// Options configure a Handler.
type Options struct {
	// GatewayHost and GatewayPort are the gRPC gateway's, which the topology
	// names as the broker's address, as Zeebe's does.
	GatewayHost string
	GatewayPort int32
	Logger      *slog.Logger // nil = discard
}

// Handler serves the REST API. Close it before the engine.
type Handler struct {
	eng     *engine.Engine
	opts    Options
	log     *slog.Logger
	waiters *jobwait.Waiters
	mux     *http.ServeMux
}

// New returns the REST API of eng.
func New(eng *engine.Engine, opts Options) *Handler {
	h := &Handler{eng: eng, opts: opts, log: opts.Logger, waiters: jobwait.New(eng), mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	routes := map[string]http.HandlerFunc{
		"GET /v2/topology":                              h.topology,
		"POST /v2/deployments":                          h.deploy,
		"POST /v2/process-instances":                    h.createInstance,
		"POST /v2/process-instances/{key}/cancellation": h.cancelInstance,
		"POST /v2/jobs/activation":                      h.activateJobs,
		"POST /v2/jobs/{key}/completion":                h.completeJob,
		"POST /v2/jobs/{key}/failure":                   h.failJob,
		"POST /v2/jobs/{key}/error":                     h.throwError,
		"PATCH /v2/jobs/{key}":                          h.updateJob,
		"POST /v2/incidents/{key}/resolution":           h.resolveIncident,
		"POST /v2/messages/publication":                 h.publishMessage,
		"POST /v2/signals/broadcast":                    h.broadcastSignal,
		"PUT /v2/element-instances/{key}/variables":     h.setVariables,
		"POST /v2/user-tasks/{key}/completion":          h.completeUserTask,
		"POST /v2/user-tasks/{key}/assignment":          h.assignUserTask,
		"DELETE /v2/user-tasks/{key}/assignee":          h.unassignUserTask,
		"PATCH /v2/user-tasks/{key}":                    h.updateUserTask,
		// The Zeebe 8.5 REST API served user tasks only, under /v1.
		"POST /v1/user-tasks/{key}/completion":                 h.completeUserTask,
		"POST /v1/user-tasks/{key}/assignment":                 h.assignUserTask,
		"DELETE /v1/user-tasks/{key}/assignee":                 h.unassignUserTask,
		"PATCH /v1/user-tasks/{key}":                           h.updateUserTask,
		"/v2/":                                                 h.notImplemented,
		"/":                                                    h.notFound,
		"POST /v2/messages/correlation":                        h.notImplemented,
		"POST /v2/decision-definitions/evaluation":             h.notImplemented,
		"POST /v2/process-instances/{key}/modification":        h.notImplemented,
		"POST /v2/process-instances/{key}/migration":           h.notImplemented,
		"POST /v2/resources/{key}/deletion":                    h.notImplemented,
		"GET /v2/user-tasks/{key}":                             h.notImplemented,
		"POST /v2/user-tasks/search":                           h.notImplemented,
		"POST /v2/process-instances/search":                    h.notImplemented,
		"POST /v2/incidents/search":                            h.notImplemented,
		"POST /v2/jobs/search":                                 h.notImplemented,
		"POST /v2/process-definitions/search":                  h.notImplemented,
		"GET /v2/process-instances/{key}":                      h.notImplemented,
		"GET /v2/incidents/{key}":                              h.notImplemented,
		"GET /v2/authentication/me":                            h.notImplemented,
		"GET /v2/license":                                      h.notImplemented,
		"GET /v2/status":                                       h.status,
		"POST /v2/process-instances/{key}/incident-resolution": h.notImplemented,
	}
	for pattern, fn := range routes {
		h.mux.HandleFunc(pattern, fn)
	}
	return h
}

// Close stops listening to the engine's job notifications.
func (h *Handler) Close() { h.waiters.Close() }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	// The catch-alls "/v2/" and "/" leave ServeMux no plain-text 404 or 405
	// to answer: every answer is a problem document.
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	h.mux.ServeHTTP(sw, r)
	h.log.Debug("REST request", "method", r.Method, "path", r.URL.Path, "status", sw.status)
}

// statusWriter remembers the status, for the debug log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// problem is an RFC 9457 problem detail.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: "about:blank", Title: title, Status: status, Detail: detail, Instance: r.URL.Path})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// badRequest is a request the API refuses before the engine sees it.
type badRequest struct{ detail string }

func (e *badRequest) Error() string { return e.detail }

func invalid(format string, args ...any) error {
	return &badRequest{detail: fmt.Sprintf(format, args...)}
}

// fail answers an error with the status the spec gives for it: a rejection
// by its type (NOT_FOUND 404, INVALID_STATE and ALREADY_EXISTS 409,
// INVALID_ARGUMENT 400), titled with the type, as Camunda's gateway does.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var rej *engine.Rejection
	var bad *badRequest
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &bad):
		writeProblem(w, r, http.StatusBadRequest, "INVALID_ARGUMENT", bad.detail)
	case errors.As(err, &tooBig):
		writeProblem(w, r, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE",
			fmt.Sprintf("the request body is larger than %d bytes", tooBig.Limit))
	case errors.As(err, &rej):
		status := http.StatusInternalServerError
		switch rej.Type {
		case "INVALID_ARGUMENT":
			status = http.StatusBadRequest
		case "NOT_FOUND":
			status = http.StatusNotFound
		case "ALREADY_EXISTS", "INVALID_STATE":
			status = http.StatusConflict
		}
		writeProblem(w, r, status, rej.Type, rej.Error())
	case errors.Is(err, engine.ErrInvalidDocument):
		writeProblem(w, r, http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
	case errors.Is(err, engine.ErrClosed):
		writeProblem(w, r, http.StatusServiceUnavailable, "UNAVAILABLE",
			"the local Zeebe engine is shutting down; retry against the restarted engine")
	case errors.Is(err, context.DeadlineExceeded):
		writeProblem(w, r, http.StatusGatewayTimeout, "DEADLINE_EXCEEDED", err.Error())
	case errors.Is(err, context.Canceled):
		// The client went away: nobody reads the answer.
		writeProblem(w, r, http.StatusServiceUnavailable, "CANCELED", err.Error())
	default:
		h.log.Error("REST request failed", "path", r.URL.Path, "error", err)
		writeProblem(w, r, http.StatusInternalServerError, "INTERNAL_ERROR",
			"Unexpected error occurred during the request processing: "+err.Error())
	}
}

// notImplemented answers the endpoints of the API that the local engine
// does not serve.
func (h *Handler) notImplemented(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, http.StatusNotImplemented, "NOT_IMPLEMENTED", fmt.Sprintf(
		"%s %s is not implemented by localzeebe, the local Zeebe-compatible engine (docs/localzeebe.md lists the REST endpoints it serves); "+
			"run it against a Camunda 8 cluster, or use the gRPC API", r.Method, r.URL.Path))
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("%s is not a path of the REST API, which is under /v2/", r.URL.Path))
}

// completeUserTask completes a Zeebe user task (zeebe:userTask) with
// variables; the v1 body (Zeebe 8.5) and the v2 body (8.6+) are the same.
func (h *Handler) completeUserTask(w http.ResponseWriter, r *http.Request) {
	k, err := pathKey(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req struct {
		Variables json.RawMessage `json:"variables"`
		Action    string          `json:"action"`
	}
	if err := decode(r, &req, false); err != nil {
		h.fail(w, r, err)
		return
	}
	if _, err := document(req.Variables); err != nil {
		h.fail(w, r, err)
		return
	}
	h.userTaskDone(w, r, h.eng.CompleteUserTask(r.Context(), engine.UserTaskCommand{Key: k, Variables: req.Variables, Action: req.Action}))
}

// assignUserTask assigns a user task; allowOverride false (the default is
// true) claims it instead, which an assignee other than the new one refuses.
func (h *Handler) assignUserTask(w http.ResponseWriter, r *http.Request) {
	k, err := pathKey(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req struct {
		Assignee      string `json:"assignee"`
		AllowOverride *bool  `json:"allowOverride"`
		Action        string `json:"action"`
	}
	if err := decode(r, &req, true); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.Assignee == "" {
		h.fail(w, r, invalid("No assignee provided"))
		return
	}
	c := engine.UserTaskCommand{Key: k, Assignee: req.Assignee, Action: req.Action}
	if req.AllowOverride != nil && !*req.AllowOverride {
		h.userTaskDone(w, r, h.eng.ClaimUserTask(r.Context(), c))
		return
	}
	h.userTaskDone(w, r, h.eng.AssignUserTask(r.Context(), c))
}

// unassignUserTask removes a user task's assignee.
func (h *Handler) unassignUserTask(w http.ResponseWriter, r *http.Request) {
	k, err := pathKey(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.userTaskDone(w, r, h.eng.AssignUserTask(r.Context(), engine.UserTaskCommand{Key: k, Action: "unassign"}))
}

// updateUserTask changes the attributes its changeset names; an attribute
// given as null is cleared.
func (h *Handler) updateUserTask(w http.ResponseWriter, r *http.Request) {
	k, err := pathKey(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req struct {
		Changeset map[string]json.RawMessage `json:"changeset"`
		Action    string                     `json:"action"`
	}
	if err := decode(r, &req, false); err != nil {
		h.fail(w, r, err)
		return
	}
	c := engine.UserTaskCommand{Key: k, Action: req.Action, ChangedAttributes: []string{}}
	for _, name := range sortedNames(req.Changeset) {
		raw := req.Changeset[name]
		null := string(raw) == "null"
		var err error
		switch name {
		case "candidateGroups", "candidateUsers":
			var items []string
			if !null {
				err = json.Unmarshal(raw, &items)
			}
			if items == nil {
				items = []string{}
			}
			if name == "candidateGroups" {
				c.CandidateGroups = items
				c.ChangedAttributes = append(c.ChangedAttributes, engine.AttrCandidateGroups)
			} else {
				c.CandidateUsers = items
				c.ChangedAttributes = append(c.ChangedAttributes, engine.AttrCandidateUsers)
			}
		case "dueDate", "followUpDate":
			var d string
			if !null {
				err = json.Unmarshal(raw, &d)
			}
			if name == "dueDate" {
				c.DueDate = d
				c.ChangedAttributes = append(c.ChangedAttributes, engine.AttrDueDate)
			} else {
				c.FollowUpDate = d
				c.ChangedAttributes = append(c.ChangedAttributes, engine.AttrFollowUpDate)
			}
		default:
			h.fail(w, r, invalid("The changeset attribute '%s' cannot be updated by the local engine (Zeebe 8.5 updates candidateGroups, candidateUsers, dueDate and followUpDate)", name))
			return
		}
		if err != nil {
			h.fail(w, r, invalid("The changeset attribute '%s' has the wrong type: %v", name, err))
			return
		}
	}
	h.userTaskDone(w, r, h.eng.UpdateUserTask(r.Context(), c))
}

// userTaskDone answers a user task command: 204 No Content, or its problem.
func (h *Handler) userTaskDone(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func sortedNames(m map[string]json.RawMessage) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// key is a Zeebe key, a JSON string in the v2 API; a number is taken too.
type key int64

func (k *key) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return invalid("The key %s is not a number", b)
	}
	*k = key(n)
	return nil
}

func (k key) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(k), 10) + `"`), nil
}

func pathKey(r *http.Request) (int64, error) {
	s := r.PathValue("key")
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, invalid("The key '%s' in the path is not a number", s)
	}
	return n, nil
}

// decode reads a JSON body; an empty body is the empty request unless required.
func decode(r *http.Request, v any, required bool) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("read the request body: %w", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		if required {
			return invalid("Required request body is missing")
		}
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var bad *badRequest
		if errors.As(err, &bad) {
			return bad
		}
		return invalid("Request body is not valid JSON for %s %s: %v", r.Method, r.URL.Path, err)
	}
	return nil
}

// document checks a variables document as the gRPC gateway does.
func document(doc json.RawMessage) (json.RawMessage, error) {
	if _, err := engine.ParseDocument(doc); err != nil {
		return nil, err
	}
	return doc, nil
}

func checkTenant(tenant string) error {
	if tenant == "" || tenant == engine.DefaultTenant {
		return nil
	}
	return invalid("Expected to handle request with tenant identifier '%s', but multi-tenancy is disabled", tenant)
}
