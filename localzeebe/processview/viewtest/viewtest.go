// Package viewtest opens the process view in headless Chromium for tests:
// the DOM the page built (scripts run, the diagram drawn) and a screenshot
// of it, parsed, so a test checks what a person would see.
package viewtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// Chromium is Debian's chromium, installed by localstack/viewdeps chromium
// (which make test runs); $CHROMIUM names another.
func Chromium() (string, error) {
	p := os.Getenv("CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(p); err != nil {
		return "", fmt.Errorf("no Chromium at %s (run localstack/viewdeps chromium, or set CHROMIUM): %w", p, err)
	}
	return p, nil
}

// Window is the size of the page both DumpDOM and Screenshot render, so the
// boxes the page lists are where the screenshot has them.
const Window = "1280,1600"

// budget is the virtual time the page gets to run its scripts and draw the
// diagram; a page that polls is still cut there.
const budget = "8000"

func run(ctx context.Context, dir string, args ...string) ([]byte, error) {
	bin, err := Chromium()
	if err != nil {
		return nil, err
	}
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--window-size=" + Window,
		"--force-device-scale-factor=1", "--hide-scrollbars", "--virtual-time-budget=" + budget}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("chromium %s: %w: %s", strings.Join(args, " "), err, tail(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

// DumpDOM loads url and returns the DOM after its scripts ran. dir is an
// empty directory for Chromium's profile.
func DumpDOM(ctx context.Context, dir, url string) (*html.Node, error) {
	out, err := run(ctx, dir, "--dump-dom", url)
	if err != nil {
		return nil, err
	}
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("parse the DOM of %s: %w", url, err)
	}
	return doc, nil
}

// Screenshot loads url and returns what the window shows.
func Screenshot(ctx context.Context, dir, url string) (image.Image, error) {
	path := filepath.Join(dir, "screenshot.png")
	if _, err := run(ctx, dir, "--screenshot="+path, url); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the screenshot: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode the screenshot: %w", err)
	}
	return img, nil
}

// Find returns every element below n for which match is true, in document order.
func Find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && match(c) {
			out = append(out, c)
		}
	}
	return out
}

// Attr is an attribute of n, "" if it has none.
func Attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// HasClass reports whether n's class attribute names class.
func HasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(Attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// ByAttr matches elements whose attribute name is value.
func ByAttr(name, value string) func(*html.Node) bool {
	return func(n *html.Node) bool { return Attr(n, name) == value }
}

// Text is the text below n, its runs of white space made one space.
func Text(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
			b.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// Box is where a shape is on the screen, in CSS pixels.
type Box struct{ X, Y, W, H int }

// ErrNoBox is returned for a box attribute that is not four integers.
var ErrNoBox = errors.New("not a box")

// ParseBox reads the page's data-box attribute: "x,y,w,h".
func ParseBox(s string) (Box, error) {
	f := strings.Split(s, ",")
	if len(f) != 4 {
		return Box{}, fmt.Errorf("%q: %w", s, ErrNoBox)
	}
	var v [4]int
	for i, p := range f {
		n, err := strconv.Atoi(p)
		if err != nil {
			return Box{}, fmt.Errorf("%q: %w", s, ErrNoBox)
		}
		v[i] = n
	}
	return Box{v[0], v[1], v[2], v[3]}, nil
}

// RGB is a pixel's colour, 8 bits a channel.
type RGB struct{ R, G, B uint8 }

// At is the colour of img at (x, y).
func At(img image.Image, x, y int) RGB {
	r, g, b, _ := img.At(x, y).RGBA()
	return RGB{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}

// Near reports whether c is within tol of want on every channel.
func (c RGB) Near(want RGB, tol int) bool {
	d := func(a, b uint8) int {
		if a > b {
			return int(a - b)
		}
		return int(b - a)
	}
	return d(c.R, want.R) <= tol && d(c.G, want.G) <= tol && d(c.B, want.B) <= tol
}

// Fills are the colours view.css fills a shape of each state with.
var Fills = map[string]RGB{
	"completed":  {0xc8, 0xe6, 0xc9},
	"active":     {0xbb, 0xde, 0xfb},
	"incident":   {0xff, 0xcd, 0xd2},
	"terminated": {0xe0, 0xe0, 0xe0},
}

// Assets is bpmn-js's dist directory as localstack/viewdeps installs it:
// $PROCESSVIEW_ASSETS, or node_modules under $BRIDGE_LOCAL_DIR/processview
// (default .local of the repository holding the working directory).
func Assets() (string, error) {
	dir := os.Getenv("PROCESSVIEW_ASSETS")
	if dir == "" {
		local := os.Getenv("BRIDGE_LOCAL_DIR")
		if local == "" {
			wd, err := os.Getwd()
			if err != nil {
				return "", fmt.Errorf("find the repository: %w", err)
			}
			for d := wd; ; d = filepath.Dir(d) {
				if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
					local = filepath.Join(d, ".local")
					break
				}
				if filepath.Dir(d) == d {
					return "", fmt.Errorf("no go.mod above %s: set BRIDGE_LOCAL_DIR or PROCESSVIEW_ASSETS", wd)
				}
			}
		}
		dir = filepath.Join(local, "processview", "node_modules", "bpmn-js", "dist")
	}
	if _, err := os.Stat(filepath.Join(dir, "bpmn-navigated-viewer.production.min.js")); err != nil {
		return "", fmt.Errorf("bpmn-js is not installed in %s (run localstack/viewdeps bpmn-js): %w", dir, err)
	}
	return dir, nil
}

// FillPoint is a point inside a shape's fill, clear of its border, its label
// and its run count (bottom right): a task's label is centred, so near its
// top, in the middle; an event's label is below it, so its centre.
func (b Box) FillPoint() (int, int) {
	return b.X + b.W/2, b.Y + 6
}
