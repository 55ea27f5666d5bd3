package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"golang.org/x/text/unicode/norm"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/quote"
	"github.com/tokenscope/tokenscope/internal/use"
)

// The renderers' quoting is tested on names validation would refuse: the
// plan is built directly, so that a renderer is never safe only because
// inventory and gitlab refuse such names. Each injection, if it ran, would
// write the file $MARK with a shell builtin (no PATH needed).

// hostileNames are project paths holding what ends a line, a string, a
// comment, a code span or a table cell in some output language.
var hostileNames = []string{
	"g/nl\necho pwned>\"$MARK\"\n#",
	"g/cr\recho pwned>\"$MARK\"",
	"g/sq'$(echo pwned>\"$MARK\")'",
	"g/dq\"$(echo pwned>\"$MARK\")\"",
	"g/sub$(echo pwned>\"$MARK\")",
	"g/bt`echo pwned>\"$MARK\"`",
	"g/var${MARK}x",
	"g/tf${file(\"/etc/passwd\")}",
	"g/dir%{if true}x%{endif}",
	"g/mm-->n0|x|y",
	"g/fence\n```\necho pwned>\"$MARK\"\n```",
	"g/ls\u2028key: value\u2029- item\u0085x",
	"g/esc\x1b[2J\x00\x7f",
	"g/yaml: [x]\n- {caller: a/b}",
	"g/bs\\\"\\n\\",
	"g/bad\xff\xfeutf8",
	"g/bidi\u202eexe.txt\u2066x\u2069",
}

// benignNames stand in for hostileNames in the same plan, to compare the
// shape of the outputs (lines, table cells, fences). They sort as the
// hostile names do, so that both plans list everything in the same order.
func benignNames() []string {
	sorted := slices.Clone(hostileNames)
	slices.Sort(sorted)
	out := make([]string, len(hostileNames))
	for i, n := range hostileNames {
		out[i] = fmt.Sprintf("g/benign%02d", slices.Index(sorted, n))
	}
	return out
}

// namedPlan plans an org where every name calls the next one's project,
// half of them with IDs (REST calls, resources by ID) and half without
// (GraphQL by path, Terraform data sources), and one allowlist entry that
// goes (a removal).
func namedPlan(t *testing.T, names []string) *plan.Plan {
	t.Helper()
	inv := &inventory.Inventory{Version: 1, ServerURL: "https://gitlab.example.com", GitLabVersion: "18.5"}
	var g graph.Graph
	for i, n := range names {
		id := 0
		if i%2 == 0 {
			id = 100 + i
		}
		p := &inventory.Project{Path: n, ID: id}
		if i == 0 {
			p.JobTokenScope = &inventory.JobTokenScope{InboundEnabled: true, Allowlist: inventory.Allowlist{
				Projects: []inventory.Entry{{Path: names[len(names)-1], ID: 100 + len(names) - 1}}}}
		}
		inv.Projects = append(inv.Projects, p)
		callee := names[(i+1)%len(names)]
		g.Edges = append(g.Edges, graph.Edge{Caller: n, Callee: callee, Access: []access.Kind{access.RepositoryRead},
			Uses: []use.Use{{Origin: use.CIConfig, Access: access.RepositoryRead, Caller: n,
				Evidence: use.Evidence{Pos: loc.Pos{Project: n, File: ".gitlab-ci.yml", Line: 3}, Job: "job " + n, Detail: "git clone " + callee}}}})
	}
	g.Unresolved = []use.Unresolved{{Pos: loc.Pos{Project: names[0], File: ".gitlab-ci.yml", Line: 9}, Reference: names[1], Reason: "reason " + names[2]}}
	slices.SortFunc(g.Edges, func(a, b graph.Edge) int { return strings.Compare(a.Caller+" "+a.Callee, b.Caller+" "+b.Callee) })
	return plan.Compute(&g, inventory.NewIndex(inv), nil, plan.Options{})
}

func render(t *testing.T, p *plan.Plan, format string) string {
	t.Helper()
	var buf bytes.Buffer
	// Full steps (the calls are what an injection would run) and no
	// wrapping, so that the line count shows a name that broke a line and
	// not one that was long.
	h := testHints
	h.FullSteps, h.Width = true, 1<<20
	if err := Plan(&buf, p, format, h); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// sandbox is a directory holding only a fake curl (and jq) that record
// their arguments, and the marker an injection would write.
type sandbox struct {
	dir, bin, mark, calls string
}

func newSandbox(t *testing.T) sandbox {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	dir := t.TempDir()
	s := sandbox{dir: dir, bin: filepath.Join(dir, "bin"), mark: filepath.Join(dir, "PWNED"), calls: filepath.Join(dir, "calls")}
	if err := os.Mkdir(s.bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// Builtins only: the fake must not need a PATH either. It answers like
	// GitLab does to a change already made.
	fake := "#!/bin/bash\nprintf '%s\\n' \"$0 $*\" >>\"$CALLS\"\nwhile IFS= read -r _; do :; done\nprintf '{}\\n200'\n"
	for _, name := range []string{"curl", "jq"} {
		if err := os.WriteFile(filepath.Join(s.bin, name), []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// run runs a bash script in the sandbox: bash -n first, then with PATH
// the fake tools only (plus grep, which call() needs to read answers).
func (s sandbox) run(t *testing.T, script string, args ...string) (string, int) {
	t.Helper()
	path := filepath.Join(s.dir, "script.sh")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	bash, _ := exec.LookPath("bash")
	if out, err := exec.Command(bash, "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s\n%s", err, out, script)
	}
	// The text tools the script itself uses to read answers; an
	// injection needs none of them (the marker is written by a builtin).
	for _, tool := range []string{"grep", "sed", "tr"} {
		if p, err := exec.LookPath(tool); err == nil {
			_ = os.Symlink(p, filepath.Join(s.bin, tool))
		}
	}
	cmd := exec.Command(bash, append([]string{path}, args...)...)
	cmd.Dir = s.dir
	cmd.Env = []string{"PATH=" + s.bin, "MARK=" + s.mark, "CALLS=" + s.calls, "GITLAB_TOKEN=tok", "GITLAB_URL=https://gitlab.example.com", "HOME=" + s.dir}
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.mark); err == nil {
		t.Fatalf("an injection ran: %s exists\n%s\n--- output\n%s", s.mark, script, out)
	}
	return string(out), code
}

func (s sandbox) recorded(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(s.calls)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// sameShape checks that hostile names change no line structure: the same
// number of lines as the benign plan, and line by line the same count of
// what matters to the format's structure (structure, when not nil).
func sameShape(t *testing.T, format, got, want string, structure func(string) int) {
	t.Helper()
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	if len(gl) != len(wl) {
		t.Fatalf("%s: %d lines with hostile names, %d with benign ones: a name broke a line\n%s", format, len(gl), len(wl), got)
	}
	if structure == nil {
		return
	}
	for i := range gl {
		if g, w := structure(gl[i]), structure(wl[i]); g != w {
			t.Errorf("%s: line %d has a structure of %d, the benign plan's %d:\n%s\n%s", format, i+1, g, w, gl[i], wl[i])
		}
	}
}

func TestHostileNamesScript(t *testing.T) {
	s := newSandbox(t)
	p := namedPlan(t, hostileNames)
	script := render(t, p, FormatScript)
	sameShape(t, "script", script, render(t, namedPlan(t, benignNames()), FormatScript), nil)
	out, code := s.run(t, script)
	if code != 0 || !strings.Contains(out, "dry run") {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	if calls := s.recorded(t); len(calls) != 0 {
		t.Errorf("a dry run ran %v", calls)
	}
	// Executed against the fake curl: the plan's calls, each to a path of
	// the plan; or, where the script first compares the live allowlists
	// with the plan's (the fake answers none), no change at all and a
	// message saying why.
	out, code = s.run(t, script, "--execute", "--unreviewed")
	want := 0
	for _, pr := range p.Projects {
		want += len(pr.Calls(p.Capabilities))
	}
	calls := s.recorded(t)
	changes := 0
	for _, c := range calls {
		if !strings.Contains(c, " https://gitlab.example.com/api/") {
			t.Errorf("a call went elsewhere: %s", c)
		}
		if strings.Contains(c, "--request") && !strings.Contains(c, "--request GET") {
			changes++
		}
	}
	switch {
	case want == 0:
		t.Fatal("the plan has no calls")
	case code == 0 && changes == want:
	case code == 1 && changes == 0 && (strings.Contains(out, "nothing was changed") || strings.Contains(out, "stale")):
	default:
		t.Fatalf("--execute: exit %d, %d changes, want %d\n%s\n%s", code, changes, want, strings.Join(calls, "\n"), out)
	}
}

// apiLines picks the shell commands out of the table's API steps or the
// Markdown's ```sh blocks.
func apiLines(out string, markdown bool) string {
	var b strings.Builder
	in := false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case markdown && l == "```sh":
			in = true
		case markdown && l == "```":
			in = false
		case markdown && in:
			b.WriteString(l + "\n")
		case !markdown && strings.HasPrefix(l, "   API ("):
			in = true
		case !markdown && in && strings.HasPrefix(l, "     "):
			b.WriteString(strings.TrimPrefix(l, "     ") + "\n")
		default:
			in = false
		}
	}
	return b.String()
}

func TestHostileNamesTable(t *testing.T) {
	s := newSandbox(t)
	out := render(t, namedPlan(t, hostileNames), FormatTable)
	benign := render(t, namedPlan(t, benignNames()), FormatTable)
	sameShape(t, "table", out, benign, nil)
	steps := apiLines(out, false)
	if strings.Count(steps, "curl ") != strings.Count(apiLines(benign, false), "curl ") || !strings.Contains(steps, "curl ") {
		t.Fatalf("the API steps differ:\n%s", steps)
	}
	if _, code := s.run(t, steps); code != 0 {
		t.Errorf("pasting the API steps: exit %d", code)
	}
	if got, want := len(s.recorded(t)), strings.Count(steps, "curl "); got != want {
		t.Errorf("%d curl calls, want %d", got, want)
	}
}

func TestHostileNamesMarkdown(t *testing.T) {
	s := newSandbox(t)
	out := render(t, namedPlan(t, hostileNames), FormatMarkdown)
	benign := render(t, namedPlan(t, benignNames()), FormatMarkdown)
	// A table row's cells are split on each "|" not escaped; a line that
	// starts with ``` opens or closes a fence.
	cell := regexp.MustCompile(`(^|[^\\])\|`)
	sameShape(t, "markdown", out, benign, func(l string) int {
		switch {
		case strings.HasPrefix(l, "```"):
			return -1
		case strings.HasPrefix(l, "|"):
			return len(cell.FindAllString(l, -1))
		}
		return 0
	})
	steps := apiLines(out, true)
	if strings.Count(steps, "curl ") != strings.Count(apiLines(benign, true), "curl ") || !strings.Contains(steps, "curl ") {
		t.Fatalf("the API steps differ:\n%s", steps)
	}
	if _, code := s.run(t, steps); code != 0 {
		t.Errorf("pasting the API steps: exit %d", code)
	}
	if got, want := len(s.recorded(t)), strings.Count(steps, "curl "); got != want {
		t.Errorf("%d curl calls, want %d", got, want)
	}
}

func TestHostileNamesTerraform(t *testing.T) {
	p := namedPlan(t, hostileNames)
	out := render(t, p, FormatTerraform)
	benign := render(t, namedPlan(t, benignNames()), FormatTerraform)
	sameShape(t, "terraform", out, benign, nil)
	checkHCL(t, out, benign, hostileNames)
}

// checkHCL parses Terraform output with HCL's own parser and checks that
// it has the benign output's blocks and attributes, that every string is
// a literal (nothing from a name is interpolated or a directive), and that
// the names come back as they went in.
func checkHCL(t *testing.T, out, benign string, names []string) {
	t.Helper()
	parse := func(src string) *hclsyntax.Body {
		f, diags := hclsyntax.ParseConfig([]byte(src), "plan.tf", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("HCL parse: %v\n%s", diags, src)
		}
		return f.Body.(*hclsyntax.Body)
	}
	shape := func(b *hclsyntax.Body) []string {
		var s []string
		for _, bl := range b.Blocks {
			var attrs []string
			for name := range bl.Body.Attributes {
				attrs = append(attrs, name)
			}
			slices.Sort(attrs)
			s = append(s, bl.Type+"/"+fmt.Sprint(len(bl.Labels))+": "+strings.Join(attrs, ","))
		}
		slices.Sort(s)
		return s
	}
	got, want := parse(out), parse(benign)
	if len(got.Attributes) != 0 || !slices.Equal(shape(got), shape(want)) {
		t.Fatalf("HCL structure differs:\n%v\n%v", shape(got), shape(want))
	}
	var strs []string
	var walk func(e hclsyntax.Expression)
	walk = func(e hclsyntax.Expression) {
		switch e := e.(type) {
		case *hclsyntax.TemplateExpr:
			for _, part := range e.Parts {
				lit, ok := part.(*hclsyntax.LiteralValueExpr)
				if !ok {
					t.Errorf("an interpolation survived: %T at %v", part, part.Range())
					continue
				}
				strs = append(strs, lit.Val.AsString())
			}
			if len(e.Parts) > 1 {
				t.Errorf("a template of %d parts (a directive or interpolation) at %v", len(e.Parts), e.Range())
			}
		case *hclsyntax.TemplateWrapExpr:
			t.Errorf("an interpolation survived at %v", e.Range())
		case *hclsyntax.TupleConsExpr:
			for _, x := range e.Exprs {
				walk(x)
			}
		}
	}
	for _, bl := range got.Blocks {
		for _, a := range bl.Body.Attributes {
			walk(a.Expr)
		}
	}
	for i, n := range names {
		// Projects with an ID are named by it; the others by path, in a
		// data source.
		if i%2 == 0 {
			continue
		}
		if n = norm.NFC.String(string([]rune(n))); !slices.Contains(strs, n) {
			t.Errorf("name %q does not come back from the HCL strings %q", n, strs)
		}
	}
}

// TestHCLString checks the quoting alone on every hostile name.
func TestHCLString(t *testing.T) {
	for _, n := range append(hostileNames, "", "$${", "%%{", "${", "$", "%", "a$", "\\") {
		src := "x = " + hclString(n) + "\n"
		f, diags := hclsyntax.ParseConfig([]byte(src), "x.tf", hcl.InitialPos)
		if diags.HasErrors() {
			t.Errorf("%q: %v", n, diags)
			continue
		}
		v, diags := f.Body.(*hclsyntax.Body).Attributes["x"].Expr.Value(nil)
		if diags.HasErrors() {
			t.Errorf("%q: %v (evaluated without variables or functions: something interpolates)", n, diags)
			continue
		}
		if want := norm.NFC.String(string([]rune(n))); v.AsString() != want {
			t.Errorf("%q reads back as %q", n, v.AsString())
		}
	}
}

// quotedWord parses "x=" + q with a shell parser and returns the value of
// the assignment, failing when anything in it would expand or run.
func quotedWord(t *testing.T, q string) string {
	t.Helper()
	f, err := syntax.NewParser().Parse(strings.NewReader("x="+q+"\n"), "")
	if err != nil {
		t.Fatalf("%s does not parse: %v", q, err)
	}
	if len(f.Stmts) != 1 {
		t.Fatalf("%s is %d statements", q, len(f.Stmts))
	}
	call, ok := f.Stmts[0].Cmd.(*syntax.CallExpr)
	if !ok || len(call.Assigns) != 1 || len(call.Args) != 0 || call.Assigns[0].Value == nil {
		t.Fatalf("%s is not one word", q)
	}
	w := call.Assigns[0].Value
	for _, p := range w.Parts {
		if _, ok := p.(*syntax.SglQuoted); !ok {
			if lit, ok := p.(*syntax.Lit); !ok || lit.Value != `\'` {
				t.Fatalf("%s has a part that is not single-quoted: %T", q, p)
			}
		}
	}
	// The value part by part: expand.Literal keeps the backslash of a
	// bare \' (between two single-quoted strings) that bash removes.
	var v strings.Builder
	for _, p := range w.Parts {
		if _, ok := p.(*syntax.Lit); ok {
			v.WriteByte('\'')
			continue
		}
		s, err := expand.Literal(nil, &syntax.Word{Parts: []syntax.WordPart{p}})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		v.WriteString(s)
	}
	return v.String()
}

// FuzzQuoting checks each quoting function on any string: the shell word
// is one single-quoted word with the same value, the HCL string a literal
// with the same value, the comment and Markdown texts one line, the code
// span one span.
func FuzzQuoting(f *testing.F) {
	for _, n := range hostileNames {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !strings.ContainsRune(s, 0) { // no shell string holds a NUL
			if got := quotedWord(t, shellQuote(s)); got != s {
				t.Errorf("shellQuote(%q) reads back as %q", s, got)
			}
		}
		src := "x = " + hclString(s) + "\n"
		file, diags := hclsyntax.ParseConfig([]byte(src), "x.tf", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("hclString(%q): %v", s, diags)
		}
		v, diags := file.Body.(*hclsyntax.Body).Attributes["x"].Expr.Value(nil)
		// cty normalizes every string to NFC: that is HCL's value of it.
		if diags.HasErrors() || v.AsString() != norm.NFC.String(string([]rune(s))) {
			t.Fatalf("hclString(%q) reads back as %#v (%v)", s, v, diags)
		}
		for name, out := range map[string]string{"oneLine": quote.OneLine(s), "md": md(s), "mdCode": quote.MarkdownCode(s)} {
			if strings.ContainsAny(out, "\n\r\u0085\u2028\u2029\u202e\u2066") {
				t.Errorf("%s(%q) = %q breaks the line", name, s, out)
			}
		}
		if c := quote.MarkdownCode(s); strings.Contains(strings.ReplaceAll(c, `\|`, ""), "|") {
			t.Errorf("quote.MarkdownCode(%q) = %q holds an unescaped |", s, c)
		}
	})
}

// FuzzPlanName is the hostile-name property of item 1 for any name: in
// the plan of namedPlan, with the name as one project, every format keeps
// the line structure of a plan of benign names, Terraform parses with
// every string a literal, and the script parses as the benign one does.
func FuzzPlanName(f *testing.F) {
	for _, n := range hostileNames {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, name string) {
		ref := benignNames()
		names := slices.Clone(ref)
		// Index 3: no ID, so the name is written as a path everywhere.
		// Behind the benign name it stands for, it sorts where that one
		// does, so that both plans list everything in the same order.
		names[3] = ref[3] + name
		p, q := namedPlan(t, names), namedPlan(t, ref)
		for _, format := range []string{FormatTable, FormatMarkdown, FormatScript, FormatTerraform} {
			sameShape(t, format, render(t, p, format), render(t, q, format), nil)
		}
		tf, tfRef := render(t, p, FormatTerraform), render(t, q, FormatTerraform)
		checkHCL(t, tf, tfRef, nil)
		if _, err := syntax.NewParser().Parse(strings.NewReader(render(t, p, FormatScript)), "plan.sh"); err != nil {
			t.Fatalf("the script does not parse: %v", err)
		}
	})
}

// namedGraph is the graph of namedPlan, for the scan formats.
func namedGraph(names []string) *graph.Graph {
	g := &graph.Graph{}
	for i, n := range names {
		callee := names[(i+1)%len(names)]
		g.Edges = append(g.Edges, graph.Edge{Caller: n, Callee: callee, Access: []access.Kind{access.RepositoryRead},
			Uses: []use.Use{{Origin: use.CIConfig, Access: access.RepositoryRead, Caller: n,
				Evidence: use.Evidence{Pos: loc.Pos{Project: n, File: ".gitlab-ci.yml", Line: 3}, Job: "job " + n, Detail: "git clone " + callee}}}})
	}
	g.Unresolved = []use.Unresolved{{Pos: loc.Pos{Project: names[0], File: names[1], Line: 9}, Job: names[2], Reference: names[3], Reason: names[4]}}
	g.Notes = []use.Note{{Pos: loc.Pos{Project: names[5], File: names[6], Line: 1}, Job: names[7], Detail: names[8]}}
	slices.SortFunc(g.Edges, func(a, b graph.Edge) int { return strings.Compare(a.Caller+" "+a.Callee, b.Caller+" "+b.Callee) })
	return g
}

// TestHostileNamesScan: the scan's table, Markdown and CSV keep their
// line structure with hostile names, and the CSV reads back the names.
func TestHostileNamesScan(t *testing.T) {
	scan := func(names []string, format string) string {
		var buf bytes.Buffer
		if err := Scan(&buf, namedGraph(names), format); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	// The Mermaid graph of the scan's Markdown is graph.go's (Mermaid),
	// checked there; the comparison starts at the table after it.
	tables := func(s string) string {
		if i := strings.Index(s, "\n| caller | callee |"); i >= 0 {
			return s[i:]
		}
		return s
	}
	for _, format := range []string{FormatTable, FormatMarkdown} {
		sameShape(t, "scan "+format, tables(scan(hostileNames, format)), tables(scan(benignNames(), format)), nil)
	}
	rows, err := csv.NewReader(strings.NewReader(scan(hostileNames, FormatCSV))).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	var callers []string
	for _, r := range rows[1:] {
		if r[0] == "use" {
			callers = append(callers, r[1])
		}
	}
	want := slices.Clone(hostileNames)
	slices.Sort(want)
	slices.Sort(callers)
	if !slices.Equal(callers, want) {
		t.Errorf("CSV callers %q; want %q", callers, want)
	}
}
