package viewtest

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// Want is what an instance's page must show.
type Want struct {
	State     string            // the instance's state in the heading
	Elements  map[string]string // element id -> its marker: completed, active, incident, terminated; "" none
	Runs      map[string]string // element id -> the count drawn on it
	Pixels    []string          // elements whose fill colour the screenshot must show (tasks and events without icons)
	Variables map[string]string // name -> value as compact JSON
	Incident  string            // an incident message shown
	LogsOf    string            // a task whose job shows its function's log lines
	LogLines  int               // how many (0: one or more)
	LogLine   string            // a text one of them contains
}

// CheckPage opens url in headless Chromium and checks, from the page, its
// DOM and a screenshot against want. $PROCESSVIEW_SCREENSHOTS keeps the
// screenshots there, one directory a test.
func CheckPage(ctx context.Context, t *testing.T, url string, want Want) {
	t.Helper()
	doc, err := DumpDOM(ctx, t.TempDir(), url)
	require.NoError(t, err)
	CheckDOM(t, doc, want)
	dir := t.TempDir()
	if keep := os.Getenv("PROCESSVIEW_SCREENSHOTS"); keep != "" {
		dir = filepath.Join(keep, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}
	img, err := Screenshot(ctx, dir, url)
	require.NoError(t, err)
	CheckPixels(t, doc, img, want)
}

func byID(id string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		return n.Data == "div" && n.Parent != nil && HasClass(n, "pv-count") && Attr(n, "data-element-id") == id
	}
}

// CheckDOM checks the page's DOM against want.
func CheckDOM(t *testing.T, doc *html.Node, want Want) {
	t.Helper()
	state := Find(doc, ByAttr("id", "pv-state"))
	require.Len(t, state, 1)
	assert.Equal(t, want.State, Text(state[0]), "the instance's state")
	require.Len(t, Find(doc, func(n *html.Node) bool { return n.Data == "body" && Attr(n, "data-marked") == "true" }), 1,
		"the diagram was drawn and marked")
	for id, marker := range want.Elements {
		shapes := Find(doc, func(n *html.Node) bool {
			return n.Data == "g" && HasClass(n, "djs-element") && Attr(n, "data-element-id") == id
		})
		require.Len(t, shapes, 1, "the diagram has %s", id)
		var markers []string
		for _, c := range strings.Fields(Attr(shapes[0], "class")) {
			if c != "pv-taken" && strings.HasPrefix(c, "pv-") {
				markers = append(markers, strings.TrimPrefix(c, "pv-"))
			}
		}
		if marker == "" {
			assert.Empty(t, markers, "%s never ran: no marker", id)
		} else {
			assert.Equal(t, []string{marker}, markers, "the markers of %s", id)
		}
	}
	for id, runs := range want.Runs {
		counts := Find(doc, byID(id))
		require.Len(t, counts, 1, "the run count on %s", id)
		assert.Equal(t, runs, Text(counts[0]), "the run count on %s", id)
	}
	for name, value := range want.Variables {
		rows := Find(doc, func(n *html.Node) bool { return n.Data == "tr" && Attr(n, "data-variable") == name })
		require.Len(t, rows, 1, "variable %s", name)
		codes := Find(rows[0], func(n *html.Node) bool { return n.Data == "code" })
		require.Len(t, codes, 1)
		assert.Equal(t, value, Text(codes[0]), "variable %s", name)
	}
	if want.Incident != "" {
		var msgs []string
		for _, n := range Find(doc, func(n *html.Node) bool { return HasClass(n, "pv-incident-message") }) {
			msgs = append(msgs, Text(n))
		}
		assert.Contains(t, msgs, want.Incident, "the incident messages")
	}
	if want.LogsOf != "" {
		jobs := Find(doc, func(n *html.Node) bool {
			return n.Data == "tr" && HasClass(n, "pv-job") && Attr(n, "data-element-id") == want.LogsOf
		})
		require.NotEmpty(t, jobs, "a job of %s", want.LogsOf)
		key := Attr(jobs[len(jobs)-1], "data-job-key")
		logs := Find(doc, func(n *html.Node) bool {
			return n.Data == "tr" && HasClass(n, "pv-logs") && Attr(n, "data-job-key") == key
		})
		require.Len(t, logs, 1, "the log lines of job %s", key)
		var lines []string
		for _, n := range Find(logs[0], func(n *html.Node) bool { return HasClass(n, "pv-log-line") }) {
			lines = append(lines, Text(n))
		}
		if want.LogLines > 0 {
			assert.Len(t, lines, want.LogLines, "the log lines of job %s", key)
		} else {
			assert.NotEmpty(t, lines, "the log lines of job %s", key)
		}
		found := false
		for _, l := range lines {
			assert.Contains(t, l, `"jobKey":`+key, "a line of another job")
			found = found || strings.Contains(l, want.LogLine)
		}
		assert.True(t, found, "no log line of job %s contains %q: %q", key, want.LogLine, lines)
	}
}

// CheckPixels checks that the screenshot shows each of want.Pixels filled
// with its state's colour, where the page says the shape is.
func CheckPixels(t *testing.T, doc *html.Node, img image.Image, want Want) {
	t.Helper()
	for _, id := range want.Pixels {
		marker := want.Elements[id]
		items := Find(doc, func(n *html.Node) bool { return n.Data == "li" && Attr(n, "data-element-id") == id })
		require.Len(t, items, 1, "the page lists where %s is", id)
		box, err := ParseBox(Attr(items[0], "data-box"))
		require.NoError(t, err)
		x, y := box.FillPoint()
		require.True(t, image.Pt(x, y).In(img.Bounds()), "%s at %v is outside the screenshot %v", id, box, img.Bounds())
		got := At(img, x, y)
		assert.True(t, got.Near(Fills[marker], 8), "%s at (%d,%d) is %s, want %s (%s)", id, x, y, got, Fills[marker], marker)
	}
}

func (c RGB) String() string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }
