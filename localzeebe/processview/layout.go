package processview

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"regexp"
	"strings"
)

// A model deployed without a diagram (BPMN DI) is valid for the engine but
// gives bpmn-js nothing to draw, so the view lays one out: flow nodes in
// columns by their distance from a start, in rows by the order they are
// reached, boundary events on their task's lower edge. An embedded
// subprocess is drawn collapsed; its inside is listed in the tables only.

// Shape sizes and grid, in diagram units, as the Camunda Modeler draws them.
const (
	colWidth  = 160
	rowHeight = 130
	marginX   = 60
	marginY   = 60
)

type xnode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []xnode    `xml:",any"`
}

func (n xnode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

type node struct {
	id, kind string // kind: event, gateway, activity
	attached string // a boundary event's host
	w, h     int
	x, y     int
	col, row int
	placed   bool
	subProc  bool
}

type edge struct{ id, from, to, tag string }

// kindOf is how a flow node is drawn, "" for what is not a flow node.
func kindOf(local string) string {
	switch {
	case strings.HasSuffix(local, "Event"):
		return "event"
	case strings.HasSuffix(local, "Gateway"):
		return "gateway"
	case strings.HasSuffix(local, "Task") || local == "task" || local == "callActivity" || local == "subProcess" || local == "transaction":
		return "activity"
	}
	return ""
}

var definitionsEnd = regexp.MustCompile(`</([A-Za-z_][\w.-]*:)?definitions\s*>\s*$`)

// WithDiagram returns model with a laid-out diagram when it has none, and
// model itself when it has one or cannot be read.
func WithDiagram(model []byte) []byte {
	if bytes.Contains(model, []byte("BPMNDiagram")) {
		return model
	}
	var defs xnode
	if err := xml.Unmarshal(model, &defs); err != nil {
		return model
	}
	var proc *xnode
	for i, c := range defs.Children {
		if c.XMLName.Local == "process" {
			proc = &defs.Children[i]
			break
		}
	}
	end := definitionsEnd.FindIndex(model)
	if proc == nil || end == nil {
		return model
	}
	di := layout(*proc)
	out := make([]byte, 0, len(model)+len(di))
	out = append(out, model[:end[0]]...)
	out = append(out, di...)
	return append(out, model[end[0]:]...)
}

func layout(proc xnode) []byte {
	nodes := map[string]*node{}
	var order []string
	var edges []edge
	for _, c := range proc.Children {
		local, id := c.XMLName.Local, c.attr("id")
		switch {
		case local == "sequenceFlow" || local == "association":
			edges = append(edges, edge{id: id, from: c.attr("sourceRef"), to: c.attr("targetRef"), tag: local})
		case kindOf(local) != "" && id != "":
			n := &node{id: id, kind: kindOf(local), attached: c.attr("attachedToRef"), subProc: local == "subProcess" || local == "transaction"}
			switch n.kind {
			case "event":
				n.w, n.h = 36, 36
			case "gateway":
				n.w, n.h = 50, 50
			default:
				n.w, n.h = 100, 80
			}
			nodes[id] = n
			order = append(order, id)
		}
	}
	out := map[string][]string{}
	in := map[string]int{}
	boundaries := map[string][]string{}
	for _, e := range edges {
		if nodes[e.from] == nil || nodes[e.to] == nil {
			continue
		}
		out[e.from] = append(out[e.from], e.to)
		in[e.to]++
	}
	for _, id := range order {
		if h := nodes[id].attached; h != "" && nodes[h] != nil {
			boundaries[h] = append(boundaries[h], id)
		}
	}
	// Breadth first from the nodes nothing leads to, then from any left
	// (a cycle with no way in): a node's column is the step it was reached at.
	rows := map[int]int{}
	place := func(n *node, col int) {
		n.placed, n.col, n.row = true, col, rows[col]
		rows[col]++
	}
	var queue []string
	visit := func(id string) {
		for _, t := range out[id] {
			if tn := nodes[t]; !tn.placed && tn.attached == "" {
				col := nodes[id].col + 1
				if nodes[id].attached != "" {
					col = nodes[id].col // a boundary's target sits right of its host, as the host's
				}
				place(tn, col)
				queue = append(queue, t)
			}
		}
		for _, b := range boundaries[id] {
			bn := nodes[b]
			bn.placed, bn.col, bn.row = true, nodes[id].col+1, nodes[id].row
			queue = append(queue, b)
		}
	}
	for pass := 0; pass < 2; pass++ {
		for _, id := range order {
			n := nodes[id]
			if n.placed || n.attached != "" || (pass == 0 && in[id] > 0) {
				continue
			}
			place(n, 0)
			queue = append(queue, id)
			for len(queue) > 0 {
				next := queue[0]
				queue = queue[1:]
				visit(next)
			}
		}
	}
	for _, id := range order {
		n := nodes[id]
		if n.attached != "" {
			continue
		}
		// Centred in its cell, so flows between cells of a row are straight.
		n.x = marginX + n.col*colWidth + (100-n.w)/2
		n.y = marginY + n.row*rowHeight + (80-n.h)/2
	}
	for h, bs := range boundaries {
		host := nodes[h]
		for i, b := range bs {
			bn := nodes[b]
			bn.x = host.x + host.w - 28 - i*40
			bn.y = host.y + host.h - 18
		}
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, `<bpmndi:BPMNDiagram xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="ProcessView_Diagram">`)
	fmt.Fprintf(&b, `<bpmndi:BPMNPlane id="ProcessView_Plane" bpmnElement="%s">`, esc(proc.attr("id")))
	for _, id := range order {
		n := nodes[id]
		expanded := ""
		if n.subProc {
			expanded = ` isExpanded="false"`
		}
		fmt.Fprintf(&b, `<bpmndi:BPMNShape id="%s_di" bpmnElement="%s"%s><dc:Bounds x="%d" y="%d" width="%d" height="%d"/></bpmndi:BPMNShape>`,
			esc(id), esc(id), expanded, n.x, n.y, n.w, n.h)
	}
	for _, e := range edges {
		from, to := nodes[e.from], nodes[e.to]
		if from == nil || to == nil || e.id == "" {
			continue
		}
		fmt.Fprintf(&b, `<bpmndi:BPMNEdge id="%s_di" bpmnElement="%s">`, esc(e.id), esc(e.id))
		for _, p := range route(from, to) {
			fmt.Fprintf(&b, `<di:waypoint x="%d" y="%d"/>`, p[0], p[1])
		}
		b.WriteString(`</bpmndi:BPMNEdge>`)
	}
	b.WriteString(`</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>`)
	return b.Bytes()
}

// route is a flow's waypoints: from a boundary event down then right, else
// right, with an elbow between rows.
func route(from, to *node) [][2]int {
	tx, ty := to.x, to.y+to.h/2
	if from.attached != "" {
		sx, sy := from.x+from.w/2, from.y+from.h
		if ty <= sy {
			return [][2]int{{sx, sy}, {tx, ty}}
		}
		return [][2]int{{sx, sy}, {sx, ty}, {tx, ty}}
	}
	sx, sy := from.x+from.w, from.y+from.h/2
	if sy == ty {
		return [][2]int{{sx, sy}, {tx, ty}}
	}
	mid := (sx + tx) / 2
	return [][2]int{{sx, sy}, {mid, sy}, {mid, ty}, {tx, ty}}
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
