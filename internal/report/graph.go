package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/quote"
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
// Markdown (merge requests, wikis, repository files). A big graph is drawn
// per top-level group (see mermaidFlowchart).
func Mermaid(w io.Writer, g *graph.Graph) error {
	ew := &errWriter{w: w}
	edges := make([]mermaidEdge, len(g.Edges))
	for i, e := range g.Edges {
		edges[i] = mermaidEdge{From: e.Caller, To: e.Callee, Arrow: "-->", Label: kinds(e.Access)}
	}
	mermaidFlowchart(ew, edges)
	return ew.err
}

// mermaidEdge is one arrow of a flowchart before layout. Rank orders
// arrows by the attention they need, for merging: the highest wins.
type mermaidEdge struct {
	From, To   string
	FromGroup  bool // From is a group allowlist entry (drawn as a subroutine box)
	Arrow      string
	Label      string
	Rank       int
	aggregated bool
}

// Mermaid's limits: its parser refuses a flowchart of more than 500
// edges (maxEdges) and GitLab's renderer a text over 50,000 characters
// (maxTextSize; https://mermaid.js.org/config/schema-docs/config.html).
// Past mermaidMaxNodes nodes a picture of every project is unreadable
// anyway, so the chart is drawn per top-level group, with at most
// mermaidMaxArrows arrows (the strongest), and a comment says so.
const (
	mermaidMaxNodes  = 60
	mermaidMaxArrows = 150
)

// mermaidFlowchart writes edges as a flowchart, every label quoted and
// escaped (mermaidText); nodes sorted, arrows in the order given.
func mermaidFlowchart(w io.Writer, edges []mermaidEdge) {
	fmt.Fprintln(w, "flowchart LR")
	names := map[string]bool{}
	for _, e := range edges {
		names[mermaidNode(e.From, e.FromGroup)] = true
		names[e.To] = true
	}
	if len(names) > mermaidMaxNodes || len(edges) > mermaidMaxArrows {
		edges = aggregateMermaid(w, edges, len(names))
	}
	var list []string
	groupBox := map[string]bool{}
	for _, e := range edges {
		from := mermaidNode(e.From, e.FromGroup)
		list = append(list, from, e.To)
		groupBox[from] = e.FromGroup
	}
	slices.Sort(list)
	list = slices.Compact(list)
	ids := map[string]string{}
	for i, n := range list {
		ids[n] = fmt.Sprintf("n%d", i)
		if groupBox[n] {
			fmt.Fprintf(w, "  %s[[\"%s\"]]\n", ids[n], quote.MermaidLabel(n))
		} else {
			fmt.Fprintf(w, "  %s[\"%s\"]\n", ids[n], quote.MermaidLabel(n))
		}
	}
	for _, e := range edges {
		// The label is always quoted: unquoted, "(unknown)" (an edge known
		// only from the authentication log) is Mermaid syntax, and the whole
		// diagram fails to parse (issue 11).
		fmt.Fprintf(w, "  %s %s|\"%s\"| %s\n", ids[mermaidNode(e.From, e.FromGroup)], e.Arrow, quote.MermaidLabel(e.Label), ids[e.To])
	}
}

func mermaidNode(p string, group bool) string {
	if group {
		return "group " + p
	}
	return p
}

// aggregateMermaid merges edges per top-level group pair (a group's
// internal edges are counted, not drawn) and keeps the strongest
// mermaidMaxArrows; it writes a comment saying what was done.
func aggregateMermaid(w io.Writer, edges []mermaidEdge, nodes int) []mermaidEdge {
	top := func(p string) string {
		if i := strings.IndexByte(p, '/'); i >= 0 {
			return p[:i] + "/*"
		}
		return p
	}
	type agg struct {
		e     mermaidEdge
		count int
	}
	by := map[[2]string]*agg{}
	internal := 0
	for _, e := range edges {
		a, b := top(e.From), top(e.To)
		if a == b {
			internal++
			continue
		}
		x := by[[2]string{a, b}]
		if x == nil {
			x = &agg{e: mermaidEdge{From: a, To: b, Arrow: e.Arrow, Rank: e.Rank, aggregated: true}}
			by[[2]string{a, b}] = x
		}
		x.count++
		if e.Rank > x.e.Rank {
			x.e.Arrow, x.e.Rank = e.Arrow, e.Rank
		}
	}
	all := make([]*agg, 0, len(by))
	for _, x := range by {
		x.e.Label = fmt.Sprintf("%d edges", x.count)
		if x.count == 1 {
			x.e.Label = "1 edge"
		}
		all = append(all, x)
	}
	slices.SortFunc(all, func(x, y *agg) int {
		return cmp.Or(cmp.Compare(y.count, x.count), cmp.Compare(x.e.From, y.e.From), cmp.Compare(x.e.To, y.e.To))
	})
	hidden := 0
	if len(all) > mermaidMaxArrows {
		hidden = len(all) - mermaidMaxArrows
		all = all[:mermaidMaxArrows]
	}
	slices.SortFunc(all, func(x, y *agg) int { return cmp.Or(cmp.Compare(x.e.From, y.e.From), cmp.Compare(x.e.To, y.e.To)) })
	fmt.Fprintf(w, "  %%%% %d edges between %d nodes: drawn per top-level group (group/*), %d edges inside a group not drawn", len(edges), nodes, internal)
	if hidden > 0 {
		fmt.Fprintf(w, ", %d weaker group links left out", hidden)
	}
	fmt.Fprintf(w, "; every edge is in the table, --format json and dot\n")
	out := make([]mermaidEdge, len(all))
	for i, x := range all {
		out[i] = x.e
	}
	return out
}

func nodes(g *graph.Graph) []string {
	var out []string
	for _, e := range g.Edges {
		out = append(out, e.Caller, e.Callee)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
