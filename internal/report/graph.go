package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/graph"
)

// DOT renders the edges as a Graphviz digraph, callers pointing at callees,
// nodes and edges in sorted order.
func DOT(w io.Writer, g *graph.Graph) error {
	ew := &errWriter{w: w}
	fmt.Fprintln(ew, "digraph tokenscope {")
	fmt.Fprintln(ew, "  rankdir=LR;")
	fmt.Fprintln(ew, "  node [shape=box, fontname=\"Helvetica\"];")
	for _, n := range nodes(g) {
		fmt.Fprintf(ew, "  %q;\n", n)
	}
	for _, e := range g.Edges {
		fmt.Fprintf(ew, "  %q -> %q [label=%q];\n", e.Caller, e.Callee, kinds(e.Access))
	}
	fmt.Fprintln(ew, "}")
	return ew.err
}

// Mermaid renders the edges as a Mermaid flowchart, which GitLab renders in
// Markdown (merge requests, wikis, repository files).
func Mermaid(w io.Writer, g *graph.Graph) error {
	ew := &errWriter{w: w}
	fmt.Fprintln(ew, "flowchart LR")
	ids := map[string]string{}
	for i, n := range nodes(g) {
		ids[n] = fmt.Sprintf("n%d", i)
		fmt.Fprintf(ew, "  %s[\"%s\"]\n", ids[n], mermaidText(n))
	}
	for _, e := range g.Edges {
		// The label is always quoted: unquoted, "(unknown)" (an edge known
		// only from the authentication log) is Mermaid syntax, and the whole
		// diagram fails to parse (issue 11).
		fmt.Fprintf(ew, "  %s -->|\"%s\"| %s\n", ids[e.Caller], mermaidText(kinds(e.Access)), ids[e.Callee])
	}
	return ew.err
}

// mermaidText makes s safe inside a quoted Mermaid label ("..."): names
// come from repositories and are hostile. Mermaid decodes entity codes
// (#quot;, #35; ...) in labels (https://mermaid.js.org/syntax/flowchart.html#entity-codes-to-escape-characters),
// so every character that could end the string, start an entity, a
// Markdown string (a backtick) or HTML is written as one; "#" first, so
// that a name holding "#quot;" stays literal. Line breaks and other
// control characters become spaces: a label is one line.
func mermaidText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '#':
			b.WriteString("#35;")
		case r == '"':
			b.WriteString("#quot;")
		case r == '|', r == '<', r == '>', r == '`', r == '&':
			fmt.Fprintf(&b, "#%d;", r)
		case r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029 || r == 0x85:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func nodes(g *graph.Graph) []string {
	var out []string
	for _, e := range g.Edges {
		out = append(out, e.Caller, e.Callee)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
