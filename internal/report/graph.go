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
		fmt.Fprintf(ew, "  %s -->|%s| %s\n", ids[e.Caller], mermaidText(kinds(e.Access)), ids[e.Callee])
	}
	return ew.err
}

func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "|", "#124;", "<", "#lt;", ">", "#gt;").Replace(s)
}

func nodes(g *graph.Graph) []string {
	var out []string
	for _, e := range g.Edges {
		out = append(out, e.Caller, e.Callee)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
