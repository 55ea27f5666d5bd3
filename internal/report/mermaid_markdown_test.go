package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/quote"
	"github.com/tokenscope/tokenscope/internal/use"
)

// hostileGraph holds names and evidence that break unquoted Mermaid and
// unfenced Markdown: quotes, arrows, pipes, brackets, entities, newlines,
// backticks, and an edge of unknown access (the authentication log only).
func hostileGraph() *graph.Graph {
	return &graph.Graph{Edges: []graph.Edge{
		{Caller: `a"b/x-->y|z`, Callee: "c[d]/e\nf#quot;", Uses: []use.Use{{Origin: use.AuthLog, Caller: `a"b/x-->y|z`,
			Evidence: use.Evidence{Detail: "job token authentication log: last authorized 2026-11-01T10:00:00Z"}}}},
		{Caller: "g/`h`", Callee: "i/j", Uses: []use.Use{{Origin: use.CIConfig, Caller: "g/`h`",
			Evidence: use.Evidence{Detail: "curl \"${CI_JOB_TOKEN}\" a``b $x$ <b>|"}}}},
	}}
}

func TestMermaidQuotesEveryLabel(t *testing.T) {
	var buf bytes.Buffer
	if err := Mermaid(&buf, hostileGraph()); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(buf.String()), "\n")[1:] {
		line = strings.TrimSpace(line)
		// Between the opening and closing quote nothing may end the string
		// or the label.
		open, end := strings.Index(line, `"`), strings.LastIndex(line, `"`)
		if open < 0 || end <= open {
			t.Fatalf("line %d %q: label not quoted", i+2, line)
		}
		if inner := line[open+1 : end]; strings.ContainsAny(inner, "\"|\n`<>") {
			t.Errorf("line %d %q: label holds a character Mermaid reads as syntax", i+2, line)
		}
	}
	if !strings.Contains(buf.String(), `-->|"(unknown)"|`) {
		t.Errorf("unknown access not quoted:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), "#35;quot;") {
		t.Errorf("a literal #quot; in a name must stay literal (# escaped):\n%s", buf.String())
	}
}

func TestMDCode(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"${CI_JOB_TOKEN} $x$", "`${CI_JOB_TOKEN} $x$`"},
		// A span holding backticks is padded with a space (CommonMark strips
		// one from each side); a line break is shown escaped, as oneLine does.
		{"a`b", "`` a`b ``"},
		{"a``b", "``` a``b ```"},
		{"`x`", "`` `x` ``"},
		{"a|b\nc", "`a\\|b\\nc`"},
	} {
		if got := quote.MarkdownCode(c.in); got != c.want {
			t.Errorf("quote.MarkdownCode(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestScanMarkdownEvidenceInCodeSpans(t *testing.T) {
	var buf bytes.Buffer
	if err := Scan(&buf, hostileGraph(), FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "``` curl \"${CI_JOB_TOKEN}\" a``b $x$ <b>\\| ```") {
		t.Errorf("evidence not in a code span fenced past its backticks:\n%s", buf.String())
	}
}

// A graph past Mermaid's limits is drawn per top-level group, the merged
// arrow keeping the most urgent style and the count.
func TestMermaidAggregatesBigGraphs(t *testing.T) {
	var edges []mermaidEdge
	for i := range 400 {
		arrow, rank := "-->", 0
		if i == 7 {
			arrow, rank = "--x", 2
		}
		edges = append(edges, mermaidEdge{From: fmt.Sprintf("team%02d/svc%03d", i%40, i), To: fmt.Sprintf("libs/l%d", i%5), Arrow: arrow, Rank: rank, Label: "x"})
	}
	edges = append(edges, mermaidEdge{From: "libs/l1", To: "libs/l2", Arrow: "-->", Label: "x"})
	var buf bytes.Buffer
	mermaidFlowchart(&buf, edges)
	out := buf.String()
	if !strings.Contains(out, "%% 401 edges between 405 nodes: drawn per top-level group (group/*), 1 edges inside a group not drawn") {
		t.Errorf("no comment saying the chart is aggregated:\n%s", out)
	}
	if n := strings.Count(out, `|"`); n != 40 {
		t.Errorf("%d arrows, want one per group pair (40)", n)
	}
	if !strings.Contains(out, `--x|"10 edges"|`) || !strings.Contains(out, `-->|"10 edges"|`) {
		t.Errorf("merged arrows lost their count or style:\n%s", out)
	}
}
