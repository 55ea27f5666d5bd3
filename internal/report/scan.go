package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tokenscope/tokenscope/internal/planfile"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/quote"
	"github.com/tokenscope/tokenscope/internal/use"
)

// ScanFormatVersion is the version of the scan JSON document. Bump it only
// when a consumer must change; adding fields does not.
const ScanFormatVersion = 1

// Scan formats.
const (
	FormatTable    = "table"
	FormatJSON     = "json"
	FormatMarkdown = "markdown"
	FormatCSV      = "csv"
	FormatDOT      = "dot"
	FormatMermaid  = "mermaid"
)

// ScanFormats lists the formats of `tokenscope scan`, for flag help and
// validation.
var ScanFormats = []string{FormatTable, FormatJSON, FormatMarkdown, FormatCSV, FormatDOT, FormatMermaid}

// Scan renders a discovery graph in format.
func Scan(w io.Writer, g *graph.Graph, format string) error {
	switch format {
	case FormatTable, "":
		return scanTable(w, g)
	case FormatJSON:
		return scanJSON(w, g)
	case FormatMarkdown:
		return scanMarkdown(w, g)
	case FormatCSV:
		return scanCSV(w, g)
	case FormatDOT:
		return DOT(w, g)
	case FormatMermaid:
		return Mermaid(w, g)
	default:
		return fmt.Errorf("unknown format %q (valid: %s)", format, strings.Join(ScanFormats, ", "))
	}
}

// Wire structs of the scan JSON document (docs/design.md §5). They are separate
// from the model so that the contract changes only on purpose.
type (
	scanDoc struct {
		Version    int              `json:"version"`
		Edges      []scanEdge       `json:"edges"`
		Unresolved []scanUnresolved `json:"unresolved"`
		Notes      []scanNote       `json:"notes"`
	}
	scanEdge struct {
		Caller string        `json:"caller"`
		Callee string        `json:"callee"`
		Access []access.Kind `json:"access"`
		Uses   []scanUse     `json:"uses"`
	}
	// The evidence and unresolved-reference shapes are one contract shared
	// by the scan and plan documents: planfile holds them.
	scanUse        = planfile.Use
	scanUnresolved = planfile.Unresolved
	scanNote       struct {
		Project string       `json:"project"`
		Caller  string       `json:"caller,omitempty"`
		File    string       `json:"file"`
		Line    int          `json:"line"`
		Kind    use.NoteKind `json:"kind"`
		Detail  string       `json:"detail"`
		// Variants (additive): the job's variable sets the note applies to.
		Variants []string `json:"variants,omitempty"`
	}
)

// ScanDocument returns the wire form of g (docs/design.md §5).
func ScanDocument(g *graph.Graph) any {
	doc := scanDoc{Version: ScanFormatVersion, Edges: []scanEdge{}, Unresolved: []scanUnresolved{}, Notes: []scanNote{}}
	for _, e := range g.Edges {
		we := scanEdge{Caller: e.Caller, Callee: e.Callee, Access: e.Access, Uses: []scanUse{}}
		if we.Access == nil {
			we.Access = []access.Kind{}
		}
		for _, u := range e.Uses {
			we.Uses = append(we.Uses, scanUse{Origin: u.Origin, Access: u.Access, Project: evidenceProject(u),
				File: u.Evidence.File, Line: u.Evidence.Line, Job: u.Evidence.Job, Detail: u.Evidence.Detail,
				Variants: u.Evidence.Variants.List()})
		}
		doc.Edges = append(doc.Edges, we)
	}
	for _, u := range g.Unresolved {
		doc.Unresolved = append(doc.Unresolved, scanUnresolved{Project: u.Project, Caller: u.Caller, File: u.File, Line: u.Line,
			Job: u.Job, Reference: u.Reference, Reason: u.Reason, Variants: u.Variants.List()})
	}
	for _, n := range g.Notes {
		doc.Notes = append(doc.Notes, scanNote{Project: n.Project, Caller: n.Caller, File: n.File, Line: n.Line, Kind: n.Kind, Detail: noteDetail(n),
			Variants: n.Variants.List()})
	}
	return doc
}

func evidenceProject(u use.Use) string {
	if u.Evidence.Project != "" {
		return u.Evidence.Project
	}
	return u.Caller
}

// noteDetail folds the job into the detail: the note wire format has no
// job field.
func noteDetail(n use.Note) string {
	if n.Job == "" {
		return n.Detail
	}
	return "job " + n.Job + ": " + n.Detail
}

func scanJSON(w io.Writer, g *graph.Graph) error {
	return writeJSON(w, ScanDocument(g))
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// place is file:line, without the project (the caller names it, or the
// row is about the caller); "" for no file.
func place(file string, line int) string {
	if file == "" {
		return ""
	}
	return loc.Pos{File: file, Line: line}.Place()
}

// usePlace is where a use was found: [project:]file:line (job), or "" for
// uses without a file (the authentication log).
func usePlace(u use.Use) string {
	p := place(u.Evidence.File, u.Evidence.Line)
	if p == "" {
		return ""
	}
	if u.Evidence.Project != "" && u.Evidence.Project != u.Caller {
		p = u.Evidence.Project + ":" + p
	}
	if u.Evidence.Job != "" {
		p += " (" + u.Evidence.Job + ")"
	}
	return p
}

// useSummary is one line of evidence: place, access and what was matched.
func useSummary(u use.Use) string {
	p := usePlace(u)
	if p == "" {
		return u.Evidence.Detail
	}
	if u.Access != "" {
		p += ": " + string(u.Access)
	}
	return p + " " + u.Evidence.Detail
}

// firstEvidence picks the evidence shown when there is room for one: a
// file location beats the authentication log.
func firstEvidence(e graph.Edge) string {
	for _, u := range e.Uses {
		if p := usePlace(u); p != "" {
			return p
		}
	}
	return e.Uses[0].Evidence.Detail
}

func kinds(ks []access.Kind) string {
	if len(ks) == 0 {
		return "(unknown)"
	}
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ",")
}

func origins(os []use.Origin) string {
	s := make([]string, len(os))
	for i, o := range os {
		s[i] = string(o)
	}
	return strings.Join(s, ",")
}

func scanTable(w io.Writer, g *graph.Graph) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "%d edges, %d unresolved references, %d notes\n\n", len(g.Edges), len(g.Unresolved), len(g.Notes))
	if len(g.Edges) > 0 {
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CALLER\tCALLEE\tACCESS\tORIGIN\tEVIDENCE")
		for _, e := range g.Edges {
			ev := firstEvidence(e)
			if n := len(e.Uses) - 1; n > 0 {
				ev += fmt.Sprintf(" +%d more", n)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", quote.OneLine(e.Caller), quote.OneLine(e.Callee), kinds(e.Access), origins(e.Origins()), quote.OneLine(ev))
		}
		tw.Flush()
	}
	if len(g.Unresolved) > 0 {
		fmt.Fprintf(ew, "\nUnresolved references (review by hand):\n")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PROJECT\tWHERE\tACCESS\tREFERENCE\tREASON")
		for _, u := range g.Unresolved {
			where := place(u.File, u.Line)
			if u.Job != "" {
				where += " (" + u.Job + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", quote.OneLine(use.Owner(u.Project, u.Caller)), quote.OneLine(where), u.Access, quote.OneLine(u.Reference), quote.OneLine(u.Reason))
		}
		tw.Flush()
	}
	if len(g.Notes) > 0 {
		fmt.Fprintf(ew, "\nNotes:\n")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PROJECT\tWHERE\tKIND\tDETAIL")
		for _, n := range g.Notes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", quote.OneLine(use.Owner(n.Project, n.Caller)), quote.OneLine(place(n.File, n.Line)), n.Kind, quote.OneLine(noteDetail(n)))
		}
		tw.Flush()
	}
	return ew.err
}

func scanMarkdown(w io.Writer, g *graph.Graph) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "# CI_JOB_TOKEN edges\n\n%d edges, %d unresolved references, %d notes.\n\n", len(g.Edges), len(g.Unresolved), len(g.Notes))
	if len(g.Edges) > 0 {
		fmt.Fprintf(ew, "```mermaid\n")
		if err := Mermaid(ew, g); err != nil {
			return err
		}
		fmt.Fprintf(ew, "```\n\n")
		fmt.Fprintf(ew, "| caller | callee | access | origin | evidence |\n|---|---|---|---|---|\n")
		for _, e := range g.Edges {
			var ev []string
			for _, u := range e.Uses {
				ev = append(ev, quote.MarkdownCode(useSummary(u)))
			}
			fmt.Fprintf(ew, "| %s | %s | %s | %s | %s |\n", quote.MarkdownCode(e.Caller), quote.MarkdownCode(e.Callee), kinds(e.Access), origins(e.Origins()), strings.Join(ev, "<br>"))
		}
	}
	if len(g.Unresolved) > 0 {
		fmt.Fprintf(ew, "\n## Unresolved references\n\n| project | where | access | reference | reason |\n|---|---|---|---|---|\n")
		for _, u := range g.Unresolved {
			where := place(u.File, u.Line)
			if u.Job != "" {
				where += " (" + u.Job + ")"
			}
			fmt.Fprintf(ew, "| %s | %s | %s | %s | %s |\n", quote.MarkdownCode(use.Owner(u.Project, u.Caller)), quote.MarkdownCode(where), u.Access, quote.MarkdownCode(u.Reference), md(u.Reason))
		}
	}
	if len(g.Notes) > 0 {
		fmt.Fprintf(ew, "\n## Notes\n\n| project | where | kind | detail |\n|---|---|---|---|\n")
		for _, n := range g.Notes {
			fmt.Fprintf(ew, "| %s | %s | %s | %s |\n", quote.MarkdownCode(use.Owner(n.Project, n.Caller)), quote.MarkdownCode(place(n.File, n.Line)), n.Kind, quote.MarkdownCode(noteDetail(n)))
		}
	}
	return ew.err
}

// md escapes text for a Markdown table cell.
func md(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;")
	return r.Replace(quote.OneLine(s)) // oneLine: \r and U+2028 end a line too
}

func scanCSV(w io.Writer, g *graph.Graph) error {
	cw := csv.NewWriter(w)
	csvWrite(cw, []string{"type", "caller", "callee", "access", "origin", "project", "file", "line", "job", "detail"})
	for _, e := range g.Edges {
		for _, u := range e.Uses {
			csvWrite(cw, []string{"use", e.Caller, e.Callee, string(u.Access), string(u.Origin), evidenceProject(u),
				u.Evidence.File, itoa(u.Evidence.Line), u.Evidence.Job, quote.CSVCell(u.Evidence.Detail)})
		}
	}
	for _, u := range g.Unresolved {
		csvWrite(cw, []string{"unresolved", u.RunBy(), "", string(u.Access), "", u.Project, u.File, itoa(u.Line), u.Job,
			quote.CSVCell(u.Reference + ": " + u.Reason)})
	}
	for _, n := range g.Notes {
		csvWrite(cw, []string{"note", n.RunBy(), "", "", string(n.Kind), n.Project, n.File, itoa(n.Line), n.Job, quote.CSVCell(n.Detail)})
	}
	cw.Flush()
	return cw.Error()
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// errWriter keeps the first write error so renderers can write freely and
// check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
