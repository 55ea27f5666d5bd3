package inventoryreport

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// AggregateAbove is the number of nodes above which the graph is drawn per
// top-level group (one node per group, drill-down per group) rather than
// per project: past it a picture of every project is a hairball.
const AggregateAbove = 60

// maxDrawnEdges bounds the arrows of one picture: the strongest links are
// drawn and the caption says how many were left out (every edge stays in
// the tables). It bounds the page size for the largest orgs.
const maxDrawnEdges = 150

// Picture is a graph laid out for SVG: three columns (callers only,
// callers that are also callees, callees only), so that arrows always
// point right or down the middle column.
type Picture struct {
	ID            string // unique in the page, for the arrowhead marker
	Width, Height int
	Nodes         []PicNode
	Arrows        []PicArrow
	Hidden        int // arrows left out (maxDrawnEdges)
	Aggregated    bool
}

// PicNode is a box.
type PicNode struct {
	X, Y, W, H int
	TX, TY     int    // text position
	Label      string // shortened for the box
	Name       string // in full
	Title      string
	Class      string // project | group-entry | aggregate
	Link       string // "#drill-N" for an aggregate with a drill-down
}

// PicArrow is a curve from a caller to a callee.
type PicArrow struct {
	From, To int    // indexes in Picture.Nodes
	Label    string // "status: access" for one edge, "N edges" for more
	D        string
	Class    string // ok | drift | review | blocked | stale
	Width    string
	Title    string
}

const (
	nodeW, nodeH, gapY, gapX, margin = 250, 22, 8, 140, 16
	maxLabel                         = 34
)

// link is one edge between picture nodes, before layout.
type link struct {
	from, to string
	class    string
	count    int
	label    string
}

// nodeInfo describes a picture node.
type nodeInfo struct {
	label, class, drill string
	members             int // projects an aggregate stands for
	internal            int // edges inside an aggregate (not drawn)
}

// picture lays out edges, mapping each endpoint through key (which
// returns the node and whether it is an aggregate).
func picture(id string, edges []Edge, key func(path string, group bool) (string, bool), members map[string]int, drill map[string]string) Picture {
	info := map[string]*nodeInfo{}
	links := map[[2]string]*link{}
	node := func(path string, group bool) string {
		k, agg := key(path, group)
		if _, ok := info[k]; !ok {
			n := &nodeInfo{label: k, class: "project"}
			switch {
			case agg:
				n.class, n.members, n.drill = "aggregate", members[k], drill[k]
				n.label = fmt.Sprintf("%s/ (%d)", k, members[k])
			case group:
				n.class, n.label = "group-entry", "group "+k
			}
			info[k] = n
		}
		return k
	}
	aggregated := false
	for _, e := range edges {
		a, b := node(e.Caller, e.CallerType == "group"), node(e.Callee, false)
		if info[a].class == "aggregate" || info[b].class == "aggregate" {
			aggregated = true
		}
		if a == b {
			info[a].internal++
			continue
		}
		l := links[[2]string{a, b}]
		if l == nil {
			l = &link{from: a, to: b}
			links[[2]string{a, b}] = l
		}
		l.count++
		l.class = worse(l.class, arrowClass(e))
		l.label = fmt.Sprintf("%d edges", l.count)
		if l.count == 1 {
			l.label = e.Status + ": " + accessText(e.Access)
		}
	}
	all := make([]*link, 0, len(links))
	for _, l := range links {
		all = append(all, l)
	}
	// Strongest first, then by name: the drawn subset is deterministic.
	slices.SortFunc(all, func(x, y *link) int {
		return cmp.Or(cmp.Compare(y.count, x.count), cmp.Compare(x.from, y.from), cmp.Compare(x.to, y.to))
	})
	pic := Picture{ID: id, Aggregated: aggregated}
	if len(all) > maxDrawnEdges {
		pic.Hidden = len(all) - maxDrawnEdges
		all = all[:maxDrawnEdges]
	}
	out, in := map[string][]string{}, map[string][]string{}
	for _, l := range all {
		out[l.from] = append(out[l.from], l.to)
		in[l.to] = append(in[l.to], l.from)
	}
	var cols [3][]string
	for _, k := range sortedKeys(info) {
		switch o, i := len(out[k]) > 0, len(in[k]) > 0; {
		case o && i:
			cols[1] = append(cols[1], k)
		case o:
			cols[0] = append(cols[0], k)
		case i:
			cols[2] = append(cols[2], k)
		default:
			// Only internal edges (or none drawn): shown with the callees.
			cols[2] = append(cols[2], k)
		}
	}
	// Callees by name; then each column to their left by the mean place of
	// what it calls (a barycenter pass), which keeps arrows short.
	pos := map[string]float64{}
	for i, k := range cols[2] {
		pos[k] = float64(i)
	}
	for c := 1; c >= 0; c-- {
		bary := map[string]float64{}
		for _, k := range cols[c] {
			sum, n := 0.0, 0
			for _, t := range out[k] {
				if p, ok := pos[t]; ok {
					sum += p
					n++
				}
			}
			bary[k] = math.Inf(1)
			if n > 0 {
				bary[k] = sum / float64(n)
			}
		}
		slices.SortStableFunc(cols[c], func(a, b string) int { return cmp.Compare(bary[a], bary[b]) })
		for i, k := range cols[c] {
			pos[k] = float64(i)
		}
	}
	var used [][]string
	for _, c := range cols {
		if len(c) > 0 {
			used = append(used, c)
		}
	}
	tallest := 0
	for _, c := range used {
		tallest = max(tallest, len(c))
	}
	colH := func(n int) int { return n*nodeH + max(n-1, 0)*gapY }
	type box struct{ x, y, i int }
	at := map[string]box{}
	for ci, c := range used {
		x := margin + ci*(nodeW+gapX)
		y0 := margin + (colH(tallest)-colH(len(c)))/2
		for i, k := range c {
			y := y0 + i*(nodeH+gapY)
			at[k] = box{x, y, len(pic.Nodes)}
			n := info[k]
			title := n.label
			if n.class == "aggregate" {
				title = fmt.Sprintf("%s: %d projects, %d edges inside", k, n.members, n.internal)
			} else if n.internal > 0 {
				title = fmt.Sprintf("%s (%d edges inside)", n.label, n.internal)
			}
			pic.Nodes = append(pic.Nodes, PicNode{X: x, Y: y, W: nodeW, H: nodeH, TX: x + 6, TY: y + 15,
				Label: shorten(n.label), Name: n.label, Title: title, Class: n.class, Link: n.drill})
		}
	}
	pic.Width = margin*2 + len(used)*nodeW + max(len(used)-1, 0)*gapX + 60
	pic.Height = margin*2 + colH(tallest)
	// Arrows in a stable order: by source then target.
	slices.SortFunc(all, func(x, y *link) int { return cmp.Or(cmp.Compare(x.from, y.from), cmp.Compare(x.to, y.to)) })
	for _, l := range all {
		a, b := at[l.from], at[l.to]
		var d string
		if a.x == b.x {
			// Both in the middle column: a loop out to the right.
			x := a.x + nodeW
			bend := 30 + min(abs(b.y-a.y)/4, 50)
			d = fmt.Sprintf("M%d %d C%d %d %d %d %d %d", x, a.y+nodeH/2, x+bend, a.y+nodeH/2, x+bend, b.y+nodeH/2, x+4, b.y+nodeH/2)
		} else {
			x1, y1, x2, y2 := a.x+nodeW, a.y+nodeH/2, b.x-4, b.y+nodeH/2
			mid := (x1 + x2) / 2
			d = fmt.Sprintf("M%d %d C%d %d %d %d %d %d", x1, y1, mid, y1, mid, y2, x2, y2)
		}
		w := 1 + math.Log2(float64(l.count))
		title := fmt.Sprintf("%s → %s", info[l.from].label, info[l.to].label)
		if l.count > 1 {
			title += fmt.Sprintf(": %d edges", l.count)
		}
		pic.Arrows = append(pic.Arrows, PicArrow{From: a.i, To: b.i, Label: l.label, D: d, Class: l.class, Width: fmt.Sprintf("%.1f", w), Title: title})
	}
	return pic
}

func accessText(ks []string) string {
	if len(ks) == 0 {
		return "(unknown)"
	}
	return strings.Join(ks, ",")
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// arrowClass is how an edge is drawn, from what needs attention.
func arrowClass(e Edge) string {
	switch e.Status {
	case "review":
		return "review"
	case "remove", "denied", "never", "unapproved":
		return "blocked"
	case "stale":
		return "stale"
	}
	if !e.Approved {
		// Proposed without a review (no trust file): not "approved".
		return "review"
	}
	if e.Drift {
		return "drift"
	}
	return "ok"
}

// worse keeps the class that needs more attention, for merged arrows.
func worse(a, b string) string {
	rank := map[string]int{"": 0, "ok": 1, "stale": 2, "drift": 3, "review": 4, "blocked": 5}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func shorten(s string) string {
	if utf8.RuneCountInString(s) <= maxLabel {
		return s
	}
	r := []rune(s)
	return "…" + string(r[len(r)-maxLabel+1:])
}

// pictures draws the overview and, when it is aggregated, one drill-down
// per top-level group: its projects (or its subgroups, when it is itself
// too big) and the other groups it touches.
func pictures(doc *Document) (overview Picture, drills []Drill) {
	nodes := map[string]bool{}
	for _, e := range doc.Edges {
		nodes[nodeName(e.Caller, e.CallerType == "group")] = true
		nodes[e.Callee] = true
	}
	full := func(p string, group bool) (string, bool) { return p, false }
	if len(nodes) <= AggregateAbove {
		return picture("overview", doc.Edges, full, nil, nil), nil
	}
	members := map[string]int{}
	for _, p := range doc.Projects {
		members[topOrSelf(p.Path)]++
	}
	groups := map[string][]Edge{}
	for _, e := range doc.Edges {
		a, b := topOrSelf(e.Caller), topOrSelf(e.Callee)
		groups[a] = append(groups[a], e)
		if b != a {
			groups[b] = append(groups[b], e)
		}
	}
	drill := map[string]string{}
	names := sortedKeys(groups)
	for i, g := range names {
		drill[g] = fmt.Sprintf("#drill-%d", i)
	}
	top := func(p string, group bool) (string, bool) { return topOrSelf(p), true }
	overview = picture("overview", doc.Edges, top, members, drill)
	for i, g := range names {
		inside := map[string]bool{}
		for _, e := range groups[g] {
			for _, p := range []string{e.Caller, e.Callee} {
				if topOrSelf(p) == g {
					inside[p] = true
				}
			}
		}
		sub := map[string]int{}
		for _, p := range doc.Projects {
			if topOrSelf(p.Path) == g {
				sub[subOf(p.Path, g)]++
			}
		}
		split := len(inside) > AggregateAbove
		key := func(p string, group bool) (string, bool) {
			if topOrSelf(p) != g {
				return topOrSelf(p), true
			}
			if split {
				if s := subOf(p, g); s != p {
					return s, true
				}
			}
			return p, false
		}
		m := map[string]int{}
		for k, v := range members {
			m[k] = v
		}
		for k, v := range sub {
			m[k] = v
		}
		d := map[string]string{}
		for k, v := range drill {
			if k != g {
				d[k] = v
			}
		}
		drills = append(drills, Drill{Anchor: fmt.Sprintf("drill-%d", i), Group: g, Edges: len(groups[g]), Members: members[g],
			Picture: picture(fmt.Sprintf("drill%d", i), groups[g], key, m, d)})
	}
	return overview, drills
}

// Drill is the picture of one top-level group.
type Drill struct {
	Anchor  string
	Group   string
	Edges   int
	Members int
	Picture Picture
}

func nodeName(p string, group bool) string {
	if group {
		return "group " + p
	}
	return p
}

// topOrSelf is the top-level group of p, or p for a path at the root.
func topOrSelf(p string) string {
	if g := topGroup(p); g != "" {
		return g
	}
	return p
}

// subOf is the subgroup of g (one level down) that holds p, or p when p
// is directly in g.
func subOf(p, g string) string {
	rest := strings.TrimPrefix(p, g+"/")
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return g + "/" + rest[:i]
	}
	return p
}
