package processview

import (
	"context"
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
)

//go:embed static templates
var files embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"time": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") },
}).ParseFS(files, "templates/*.html"))

// Options configure the view.
type Options struct {
	// Assets is bpmn-js's dist directory (bpmn-navigated-viewer.production.min.js
	// and assets/), installed by localstack/viewdeps; "" draws no diagram.
	Assets string
	// Logs finds a Lambda task's log lines; nil shows none.
	Logs LogSource
	// Logger logs requests that failed; nil = discard.
	Logger *slog.Logger
	// Now is the clock running jobs are measured with; nil = time.Now.
	Now func() time.Time
}

// Handler serves the view of src's records.
type Handler struct {
	idx  *Index
	opts Options
	mux  *http.ServeMux

	mu   sync.Mutex
	logs map[int64][]LogLine // lines of jobs that ended long enough ago to have all of them
}

// logsSettle is how long after a job ended its function's last lines may
// still reach CloudWatch; until then they are read again on every poll.
const logsSettle = 15 * time.Second

// New returns the view's HTTP handler.
func New(src RecordSource, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Handler{idx: NewIndex(src), opts: opts, mux: http.NewServeMux(), logs: map[int64][]LogLine{}}
	static, _ := fs.Sub(files, "static")
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	if opts.Assets != "" {
		h.mux.Handle("GET /bpmn-js/", http.StripPrefix("/bpmn-js/", http.FileServer(http.Dir(opts.Assets))))
	}
	h.mux.HandleFunc("GET /{$}", h.overview)
	h.mux.HandleFunc("GET /instances/{key}", h.instancePage)
	h.mux.HandleFunc("GET /api/instances/{key}", h.instanceJSON)
	h.mux.HandleFunc("GET /api/processes/{key}/xml", h.processXML)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.opts.Logger.Error("process view request failed", "path", r.URL.Path, "error", err)
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

// maxListed is how many instances the overview lists, newest first: a
// benchmark leaves tens of thousands.
const maxListed = 500

func (h *Handler) overview(w http.ResponseWriter, r *http.Request) {
	procs, insts, err := h.idx.Overview()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	more := 0
	if len(insts) > maxListed {
		more, insts = len(insts)-maxListed, insts[:maxListed]
	}
	h.render(w, r, "overview.html", map[string]any{"Processes": procs, "Instances": insts, "More": more})
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		h.opts.Logger.Error("process view page failed", "path", r.URL.Path, "error", err)
	}
}

func key(w http.ResponseWriter, r *http.Request) (int64, bool) {
	k, err := strconv.ParseInt(r.PathValue("key"), 10, 64)
	if err != nil {
		http.Error(w, "not a key: "+r.PathValue("key"), http.StatusBadRequest)
		return 0, false
	}
	return k, true
}

// Instance returns what an instance's page shows; ok is false for an unknown instance.
func (h *Handler) Instance(ctx context.Context, k int64) (Instance, bool, error) {
	in, p, err := h.idx.records(k)
	if err != nil || in == nil {
		return Instance{}, false, err
	}
	now := h.opts.Now()
	v := build(in, p, now)
	for i := range v.Jobs {
		h.jobLogs(ctx, &v.Jobs[i], now)
	}
	return v, true, nil
}

// jobLogs fills a Lambda job's log lines.
func (h *Handler) jobLogs(ctx context.Context, j *Job, now time.Time) {
	if h.opts.Logs == nil || j.Function == "" {
		return
	}
	h.mu.Lock()
	cached, ok := h.logs[j.Key]
	h.mu.Unlock()
	if ok {
		j.Logs = cached
		return
	}
	to := now
	if j.Ended != nil {
		to = j.Ended.Add(logsSettle)
	}
	// A function's clock and the engine's are the same machine's here; the
	// minute before creation covers a job message read before CREATED was written.
	lines, err := h.opts.Logs.JobLogs(ctx, JobLogQuery{Function: j.Function, JobKey: j.Key, From: j.Created.Add(-time.Minute), To: to})
	if err != nil {
		j.LogsError = err.Error()
		return
	}
	j.Logs = lines
	if j.Ended != nil && now.After(j.Ended.Add(logsSettle)) {
		h.mu.Lock()
		h.logs[j.Key] = lines
		h.mu.Unlock()
	}
}

func (h *Handler) instancePage(w http.ResponseWriter, r *http.Request) {
	k, ok := key(w, r)
	if !ok {
		return
	}
	v, found, err := h.Instance(r.Context(), k)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !found {
		http.Error(w, "no process instance "+strconv.FormatInt(k, 10)+" in the engine's records", http.StatusNotFound)
		return
	}
	xml, _, err := h.idx.ProcessXML(v.ProcessKey)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "instance.html", map[string]any{"I": v, "XML": string(xml), "Diagram": h.opts.Assets != ""})
}

func (h *Handler) instanceJSON(w http.ResponseWriter, r *http.Request) {
	k, ok := key(w, r)
	if !ok {
		return
	}
	v, found, err := h.Instance(r.Context(), k)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !found {
		http.Error(w, "no process instance "+strconv.FormatInt(k, 10), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

func (h *Handler) processXML(w http.ResponseWriter, r *http.Request) {
	k, ok := key(w, r)
	if !ok {
		return
	}
	xml, found, err := h.idx.ProcessXML(k)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !found {
		http.Error(w, "no process "+strconv.FormatInt(k, 10), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write(xml)
}
