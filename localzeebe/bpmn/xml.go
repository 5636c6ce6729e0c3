package bpmn

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// node is a generic XML element. A tree of them, rather than struct tags, lets the
// parser match by namespace URI and see every element, so nothing unknown slips
// through unnoticed.
type node struct {
	space, local string // namespace URI (not prefix) and local name
	attrs        []xml.Attr
	children     []*node
	text         string // character data directly inside this element
	line         int
}

func (n *node) is(space, local string) bool { return n.space == space && n.local == local }

// attrOK returns an unqualified attribute; BPMN and Zeebe attributes carry no prefix.
func (n *node) attrOK(local string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

func (n *node) attr(local string) string {
	v, _ := n.attrOK(local)
	return v
}

// child returns the first child with the given name, nil if none.
func (n *node) child(space, local string) *node {
	for _, c := range n.children {
		if c.is(space, local) {
			return c
		}
	}
	return nil
}

// zeebeExtensions returns the Zeebe-namespace children of n's bpmn:extensionElements;
// extension elements of other namespaces (modelers, connectors) are not ours to judge.
func (n *node) zeebeExtensions() []*node {
	var out []*node
	for _, c := range n.children {
		if !c.is(nsBPMN, "extensionElements") {
			continue
		}
		for _, x := range c.children {
			if x.space == nsZeebe {
				out = append(out, x)
			}
		}
	}
	return out
}

// label names an element in problems: its id, or its type and line when it has none.
func (n *node) label() string {
	if id := n.attr("id"); id != "" {
		return id
	}
	return fmt.Sprintf("%s at line %d", n.local, n.line)
}

var utf8BOM = []byte("\xef\xbb\xbf")

// decodeTree reads data into a node tree. On failure it returns a problem saying
// where the XML is malformed.
func decodeTree(data []byte) (*node, string) {
	d := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, utf8BOM)))
	var root *node
	var stack []*node
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Sprintf("Malformed XML at line %d: %s", se.Line, se.Msg)
			}
			line, _ := d.InputPos()
			return nil, fmt.Sprintf("Malformed XML at line %d: %v", line, err)
		}
		line, _ := d.InputPos()
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{space: t.Name.Space, local: t.Name.Local, attrs: t.Attr, line: line}
			switch {
			case len(stack) > 0:
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			case root != nil:
				return nil, fmt.Sprintf("Malformed XML at line %d: more than one root element", line)
			default:
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Sprintf("Malformed XML at line %d: text outside the root element", line)
			}
		}
	}
	if root == nil {
		return nil, "Malformed XML at line 1: no root element"
	}
	return root, ""
}

// text returns n's character data trimmed, "" for a nil node.
func text(n *node) string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.text)
}
