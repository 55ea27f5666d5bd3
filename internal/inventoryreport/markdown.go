package inventoryreport

import (
	"bytes"
	"fmt"
	"github.com/tokenscope/tokenscope/internal/quote"
	"slices"
	"strings"
)

// MaxMarkdownFile is the size each Markdown file stays under: GitLab
// refuses descriptions and comments over 1,000,000 characters
// (https://docs.gitlab.com/user/markdown/, "Markdown limits"), and renders
// a large repository file slowly. The margin leaves room for one row.
const MaxMarkdownFile = 900_000

// Markdown renders inventory.md, and for a big org the per-group files
// it links to (name → content, names sorted).
func Markdown(doc *Document) map[string][]byte {
	return markdown(doc, draw(doc))
}

func markdown(doc *Document, pics *drawn) map[string][]byte {
	overview := pics.overview
	var head bytes.Buffer
	fmt.Fprintf(&head, "# CI_JOB_TOKEN inventory\n\n")
	if !doc.Trusted {
		fmt.Fprintf(&head, "> **Warning:** no trust file: nothing is approved, every discovered edge is proposed.\n\n")
	}
	var meta []string
	if doc.ServerURL != "" {
		meta = append(meta, quote.MarkdownCode(doc.ServerURL))
	}
	if doc.GitLabVersion != "" {
		meta = append(meta, "GitLab "+quote.MarkdownCode(doc.GitLabVersion))
	}
	if doc.TrustFile != "" {
		meta = append(meta, "reviewed intent "+quote.MarkdownCode(doc.TrustFile))
	}
	if doc.GeneratedAt != "" {
		meta = append(meta, "generated "+doc.GeneratedAt)
	}
	if len(meta) > 0 {
		fmt.Fprintf(&head, "%s.\n\n", strings.Join(meta, ", "))
	}
	s := doc.Summary
	fmt.Fprintf(&head, "| projects | allowlist enforced | edges | approved | pending review | drift |\n|---|---|---|---|---|---|\n")
	fmt.Fprintf(&head, "| %d | %d | %d | %d | %d | %d |\n\n", s.Projects, s.Enforced, s.Edges, s.Approved, s.Pending, s.Drift)
	if len(doc.Edges) > 0 {
		if overview.Aggregated {
			fmt.Fprintf(&head, "One box per top-level group: the org has more than %d projects with edges. Arrows carry the number of edges.\n\n", AggregateAbove)
		}
		fmt.Fprintf(&head, "```mermaid\n")
		mermaid(&head, overview)
		fmt.Fprintf(&head, "```\n\n")
		fmt.Fprintf(&head, "Solid arrows: approved; thick: drift (to add or update); dotted: needs review or stale; crossed: removed, denied or impossible.")
		if overview.Hidden > 0 {
			fmt.Fprintf(&head, " %d weaker links are not drawn.", overview.Hidden)
		}
		fmt.Fprintf(&head, "\n\n")
	}
	// Sections: the allowlists of each top-level group's projects (edges
	// by callee); one section when the org is small.
	type section struct {
		title string
		edges []Edge
	}
	var sections []section
	if !overview.Aggregated {
		sections = append(sections, section{"Edges", doc.Edges})
	} else {
		by := map[string][]Edge{}
		for _, e := range doc.Edges {
			g := topOrSelf(e.Callee)
			by[g] = append(by[g], e)
		}
		for _, g := range sortedKeys(by) {
			sections = append(sections, section{"Group " + quote.MarkdownCode(g), by[g]})
		}
	}
	rendered := make([][]byte, len(sections))
	total := head.Len()
	for i, sec := range sections {
		var b bytes.Buffer
		fmt.Fprintf(&b, "## %s\n\n%d edges (callers of the projects below: their allowlists).\n\n", sec.title, len(sec.edges))
		b.WriteString(tableHead)
		for _, e := range sec.edges {
			b.WriteString(mdRow(e))
		}
		rendered[i] = b.Bytes()
		total += b.Len()
	}
	out := map[string][]byte{}
	if total <= MaxMarkdownFile {
		for _, r := range rendered {
			head.Write(r)
			head.WriteString("\n")
		}
		out["inventory.md"] = head.Bytes()
		return out
	}
	// Too big for one file: inventory.md lists the sections, each in its
	// own file (several when one group alone is too big).
	fmt.Fprintf(&head, "## Groups\n\nThe edge tables are one file per group (GitLab renders a Markdown file up to about 1 MB).\n\n")
	for i, sec := range sections {
		parts := splitRows(sec.edges, string(rendered[i][:bytes.Index(rendered[i], []byte(tableHead))]))
		for k, part := range parts {
			name := fmt.Sprintf("inventory-%03d.md", i+1)
			if len(parts) > 1 {
				name = fmt.Sprintf("inventory-%03d-%d.md", i+1, k+1)
			}
			label := sec.title
			if len(parts) > 1 {
				label += fmt.Sprintf(" (part %d of %d)", k+1, len(parts))
			}
			fmt.Fprintf(&head, "- [%s](%s): %d edges\n", strings.ReplaceAll(strings.ReplaceAll(label, "[", `\[`), "]", `\]`), name, part.edges)
			out[name] = part.body
		}
	}
	out["inventory.md"] = head.Bytes()
	return out
}

type mdPart struct {
	body  []byte
	edges int
}

// splitRows cuts a section's table into parts under MaxMarkdownFile.
func splitRows(edges []Edge, intro string) []mdPart {
	var parts []mdPart
	var cur bytes.Buffer
	n := 0
	start := func() {
		cur.Reset()
		cur.WriteString(intro)
		cur.WriteString(tableHead)
		n = 0
	}
	start()
	for _, e := range edges {
		r := mdRow(e)
		if n > 0 && cur.Len()+len(r) > MaxMarkdownFile {
			parts = append(parts, mdPart{slices.Clone(cur.Bytes()), n})
			start()
		}
		cur.WriteString(r)
		n++
	}
	return append(parts, mdPart{slices.Clone(cur.Bytes()), n})
}

const tableHead = "| caller | callee | access | policies | status | origin | evidence | last seen | owner | reason | expires |\n|---|---|---|---|---|---|---|---|---|---|---|\n"

// mdRow is one edge; the first evidence only (the others are counted, and
// in the HTML, CSV and JSON), so that a big org's files stay small.
func mdRow(e Edge) string {
	caller := quote.MarkdownCode(e.Caller)
	if e.CallerType == "group" {
		caller = "group " + caller
	}
	access := "(unknown)"
	if len(e.Access) > 0 {
		access = strings.Join(e.Access, ", ")
	}
	pol := "default"
	if !e.DefaultPermissions {
		pol = strings.Join(e.Policies, ", ")
	}
	status := e.Status
	if e.Drift {
		status = "**" + status + "** (drift)"
	}
	ev := ""
	if len(e.Evidence) > 0 {
		v := e.Evidence[primary(e)]
		ev = quote.MarkdownCode(evidenceLine(v))
		if v.URL != "" {
			ev = "[" + ev + "](" + mdURL(v.URL) + ")"
		}
		if n := len(e.Evidence) - 1; n > 0 {
			ev += fmt.Sprintf(" +%d more", n)
		}
	} else if e.Note != "" {
		ev = mdText(e.Note)
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", caller, quote.MarkdownCode(e.Callee), access, pol, status,
		strings.Join(e.Origins, ", "), ev, e.LastSeen, quote.MarkdownCode(e.Owner), mdText(e.Reason), e.Expires)
}

// mdText escapes prose for a table cell: every Markdown punctuation
// character that could start markup gets a backslash (CommonMark: any
// ASCII punctuation may be escaped).
func mdText(s string) string {
	s = quote.OneLine(s)
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_{}[]()<>#+-.!|$~&^", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdURL makes a link destination safe: the URL is already escaped per
// segment (model.go); parentheses and spaces would end it.
func mdURL(u string) string {
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(u)
}

// mermaid writes a picture as a Mermaid flowchart: every label quoted and
// escaped (mermaidText), arrows styled by what needs attention.
func mermaid(b *bytes.Buffer, pic Picture) {
	fmt.Fprintln(b, "flowchart LR")
	for i, n := range pic.Nodes {
		open, end := "[\"", "\"]"
		if n.Class == "group-entry" {
			open, end = "[[\"", "\"]]"
		} else if n.Class == "aggregate" {
			open, end = "([\"", "\"])"
		}
		fmt.Fprintf(b, "  n%d%s%s%s\n", i, open, quote.MermaidLabel(n.Name), end)
	}
	for _, a := range pic.Arrows {
		arrow := "-->"
		switch a.Class {
		case "drift":
			arrow = "==>"
		case "review", "stale":
			arrow = "-.->"
		case "blocked":
			arrow = "--x"
		}
		fmt.Fprintf(b, "  n%d %s|\"%s\"| n%d\n", a.From, arrow, quote.MermaidLabel(a.Label), a.To)
	}
}
