package inventoryreport

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/trust"
	"github.com/tokenscope/tokenscope/internal/use"
)

func ciUse(caller, callee string, k access.Kind, file string, line int, detail string) use.Use {
	return use.Use{Origin: use.CIConfig, Access: k, Caller: caller, Callee: callee,
		Evidence: use.Evidence{Pos: loc.Pos{Project: caller, File: file, Line: line}, Job: "build", Detail: detail}}
}

// small is a four-project org: one approved edge on the allowlist already
// (keep), one approved and missing (add: drift), one discovered and not
// approved (review), one on the allowlist without approval (unapproved).
func small(t *testing.T) Input {
	t.Helper()
	inv := &inventory.Inventory{Version: 1, ServerURL: "https://gitlab.example.com", GitLabVersion: "18.5", Projects: []*inventory.Project{
		{Path: "apps/web", ID: 1, DefaultBranch: "main"},
		{Path: "apps/api", ID: 2, DefaultBranch: "trunk"},
		{Path: "libs/js", ID: 3, JobTokenScope: &inventory.JobTokenScope{InboundEnabled: true, Allowlist: inventory.Allowlist{
			Projects: []inventory.Entry{{Path: "apps/web", Policies: []string{"read_packages"}}, {Path: "old/thing"}}}},
			AuthLog: []inventory.AuthLogEntry{{Origin: "apps/web", LastAuthorizedAt: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)}}},
		{Path: "libs/py", ID: 4},
	}}
	g := &graph.Graph{Edges: []graph.Edge{
		{Caller: "apps/api", Callee: "libs/js", Access: []access.Kind{access.PackagesRead}, Uses: []use.Use{
			ciUse("apps/api", "libs/js", access.PackagesRead, ".npmrc", 2, "=HYPERLINK(\"http://evil\") </script><script>alert(1)</script> ${CI_JOB_TOKEN}")}},
		{Caller: "apps/api", Callee: "libs/py", Access: []access.Kind{access.PackagesRead}, Uses: []use.Use{
			ciUse("apps/api", "libs/py", access.PackagesRead, "ci/pip.sh", 7, "pip install --index-url ...")}},
		{Caller: "apps/web", Callee: "libs/js", Access: []access.Kind{access.PackagesRead}, Uses: []use.Use{
			ciUse("apps/web", "libs/js", access.PackagesRead, ".gitlab-ci.yml", 12, "npm ci with ${CI_JOB_TOKEN}")}},
	}}
	tf := &trust.File{Name: "trust.yaml", Edges: []trust.Edge{
		{Caller: "apps/web", Callee: "libs/js", Access: []access.Kind{access.PackagesRead}, Reason: "npm packages", Owner: "@web", Line: 3},
		{Caller: "apps/api", Callee: "libs/js", Access: []access.Kind{access.PackagesRead}, Reason: "+1 formula reason", Owner: "@api",
			Expires: time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC), Line: 9},
	}}
	ix := inventory.NewIndex(inv)
	p := plan.Compute(g, ix, tf, plan.Options{})
	return Input{Plan: p, Index: ix, Trust: tf, Now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
}

func find(t *testing.T, doc *Document, caller, callee string) Edge {
	t.Helper()
	for _, e := range doc.Edges {
		if e.Caller == caller && e.Callee == callee {
			return e
		}
	}
	t.Fatalf("no edge %s → %s in %+v", caller, callee, doc.Edges)
	return Edge{}
}

func TestBuild(t *testing.T) {
	doc := Build(small(t))
	keep := find(t, doc, "apps/web", "libs/js")
	if keep.Status != "keep" || !keep.Approved || keep.Drift || keep.Owner != "@web" || keep.LastSeen != "2026-11-20T08:00:00Z" || !keep.OnAllowlist {
		t.Errorf("keep edge = %+v", keep)
	}
	if got := keep.Evidence[0].URL; got != "https://gitlab.example.com/apps/web/-/blob/main/.gitlab-ci.yml#L12" {
		t.Errorf("evidence URL = %q", got)
	}
	add := find(t, doc, "apps/api", "libs/js")
	if add.Status != "add" || !add.Approved || !add.Drift || add.Expires != "2027-06-30" || add.TrustLine != 9 {
		t.Errorf("add edge = %+v", add)
	}
	if review := find(t, doc, "apps/api", "libs/py"); review.Status != "review" || review.Approved || review.Drift {
		t.Errorf("review edge = %+v", review)
	}
	if un := find(t, doc, "old/thing", "libs/js"); un.Status != "unapproved" || !un.Drift || un.Approved {
		t.Errorf("unapproved entry = %+v", un)
	}
	s := doc.Summary
	if s.Projects != 4 || s.Enforced != 1 || s.Edges != 4 || s.Approved != 2 || s.Pending != 1 {
		t.Errorf("summary = %+v", s)
	}
	// Drift: the add, the unapproved entry, and every project the plan
	// would enforce that is not enforced today.
	enforce := 0
	for _, p := range doc.Projects {
		if p.Enforce {
			enforce++
		}
	}
	if s.Drift != 2+enforce {
		t.Errorf("drift = %d, want %d", s.Drift, 2+enforce)
	}
}

func TestUntrustedHasNoApprovalNorDrift(t *testing.T) {
	in := small(t)
	in.Plan = plan.Compute(&graph.Graph{Edges: []graph.Edge{{Caller: "apps/api", Callee: "libs/py", Uses: []use.Use{
		ciUse("apps/api", "libs/py", access.PackagesRead, "x", 1, "y")}}}}, in.Index, nil, plan.Options{})
	in.Trust = nil
	doc := Build(in)
	if doc.Trusted || doc.Summary.Approved != 0 || doc.Summary.Drift != 0 {
		t.Errorf("untrusted summary = %+v", doc.Summary)
	}
}

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	if err := CSV(&b, Build(small(t))); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "\r\n") {
		t.Error("RFC 4180 wants CRLF line ends")
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], csvHeader) || len(recs) != 5 {
		t.Fatalf("header %q, %d records", recs[0], len(recs))
	}
	for _, r := range recs[1:] {
		for i, c := range r {
			if c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
				t.Errorf("column %s cell %q starts a formula", csvHeader[i], c)
			}
		}
	}
	if !strings.Contains(out, `'+1 formula reason`) {
		t.Errorf("a reason starting with + is not defused:\n%s", out)
	}
}

func TestHTMLEscapes(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, Build(small(t))); err != nil {
		t.Fatal(err)
	}
	h := b.String()
	if strings.Contains(h, "<script>alert(1)") || strings.Count(h, "</script>") != 2 {
		t.Errorf("evidence text reached the page unescaped (%d </script>)", strings.Count(h, "</script>"))
	}
	for _, no := range []string{"<link", " src=", "@import", "url(http"} {
		if strings.Contains(h, no) {
			t.Errorf("page holds %q: not self-contained", no)
		}
	}
	if !strings.Contains(h, "<svg") || !strings.Contains(h, "Content-Security-Policy") {
		t.Error("no inline SVG graph or no CSP")
	}
}

func TestMarkdownCodeSpansAndMermaidQuotes(t *testing.T) {
	md := string(Markdown(Build(small(t)))["inventory.md"])
	if !strings.Contains(md, "`apps/web:.gitlab-ci.yml:12 (build): packages-read npm ci with ${CI_JOB_TOKEN}`") {
		t.Errorf("evidence not in a code span:\n%s", md)
	}
	block := md[strings.Index(md, "```mermaid"):]
	block = block[:strings.Index(block[3:], "```")+3]
	for _, l := range strings.Split(block, "\n")[2:] {
		if l != "" && !strings.Contains(l, `"`) {
			t.Errorf("Mermaid line without a quoted label: %q", l)
		}
	}
}

func TestWriteRefusesForeignDirectory(t *testing.T) {
	base := t.TempDir()
	files := map[string][]byte{"index.html": []byte("x")}
	foreign := filepath.Join(base, "work")
	os.Mkdir(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "thesis.tex"), []byte("keep me"), 0o644)
	err := Write(context.Background(), foreign, files)
	if _, ok := err.(*NotReportError); !ok {
		t.Fatalf("err = %v, want NotReportError", err)
	}
	if b, _ := os.ReadFile(filepath.Join(foreign, "thesis.tex")); string(b) != "keep me" {
		t.Error("a foreign directory was touched")
	}
	link := filepath.Join(base, "link")
	os.Symlink(foreign, link)
	if err := Write(context.Background(), link, files); err == nil {
		t.Error("a symbolic link was replaced")
	}
	out := filepath.Join(base, "report")
	if err := Write(context.Background(), out, files); err != nil {
		t.Fatal(err)
	}
	// Its own report is replaced whole: old files go.
	if err := Write(context.Background(), out, map[string][]byte{"edges.csv": []byte("y")}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{MarkerName, "edges.csv"}) {
		t.Errorf("report holds %q", names)
	}
	if left, _ := filepath.Glob(filepath.Join(base, ".report.tmp-*")); len(left) > 0 {
		t.Errorf("left behind: %q", left)
	}
	// A bad name fails before the rename: the old report stays.
	if err := Write(context.Background(), out, map[string][]byte{"../x": nil}); err == nil {
		t.Error("a name leaving the directory was written")
	}
	if b, _ := os.ReadFile(filepath.Join(out, "edges.csv")); string(b) != "y" {
		t.Error("a failed write changed the report")
	}
}

// bigOrg builds an org of n projects in top-level groups of 100: every
// project calls a hot callee and three of 500 libraries (about 4n edges),
// each with one piece of evidence; nine approvals in ten.
func bigOrg(n int) Input {
	r := rand.New(rand.NewPCG(1, 2))
	inv := &inventory.Inventory{Version: 1, GitLabVersion: "18.5", ServerURL: "https://gitlab.bench.example"}
	path := func(i int) string { return fmt.Sprintf("g%02d/sub%d/p%05d", i%100, i%7, i) }
	for i := range n {
		inv.Projects = append(inv.Projects, &inventory.Project{Path: path(i), ID: i + 1, DefaultBranch: "main"})
	}
	kinds := []access.Kind{access.PackagesRead, access.RepositoryRead, access.ArtifactsRead, access.ContainerRead}
	var edges []graph.Edge
	tf := &trust.File{Name: "trust.yaml"}
	for i := 1; i < n; i++ {
		callees := map[string]bool{path(0): true}
		for len(callees) < 5 {
			callees[path(1+r.IntN(500))] = true
		}
		for _, c := range slices.Sorted(maps.Keys(callees)) {
			if c == path(i) {
				continue
			}
			k := kinds[r.IntN(len(kinds))]
			edges = append(edges, graph.Edge{Caller: path(i), Callee: c, Access: []access.Kind{k}, Uses: []use.Use{
				ciUse(path(i), c, k, ".gitlab-ci.yml", 10+r.IntN(50), "curl --header \"JOB-TOKEN: $CI_JOB_TOKEN\" .../api/v4/projects/"+c)}})
			if r.IntN(10) > 0 {
				tf.Edges = append(tf.Edges, trust.Edge{Caller: path(i), Callee: c, Access: []access.Kind{k}, Reason: "x", Owner: "@team", Line: len(tf.Edges) + 2})
			}
		}
	}
	slices.SortFunc(edges, func(a, b graph.Edge) int { return strings.Compare(a.Caller+" "+a.Callee, b.Caller+" "+b.Callee) })
	ix := inventory.NewIndex(inv)
	return Input{Plan: plan.Compute(&graph.Graph{Edges: edges}, ix, tf, plan.Options{}), Index: ix, Trust: tf}
}

func TestBigOrgAggregatesAndSplits(t *testing.T) {
	if testing.Short() {
		t.Skip("large org")
	}
	doc := Build(bigOrg(3000))
	overview, drills := pictures(doc)
	if !overview.Aggregated || len(overview.Nodes) > 100 || len(drills) != 100 {
		t.Errorf("overview: aggregated %v, %d nodes, %d drill-downs", overview.Aggregated, len(overview.Nodes), len(drills))
	}
	files := Markdown(doc)
	seen := 0
	for name, b := range files {
		if len(b) >= 1_000_000 {
			t.Errorf("%s is %d bytes", name, len(b))
		}
		seen += strings.Count(string(b), "\n| ") - strings.Count(string(b), "\n| caller |")
	}
	main := string(files["inventory.md"])
	if len(files) < 2 || !strings.Contains(main, "](inventory-001") {
		t.Errorf("%d Markdown files; inventory.md does not link the groups", len(files))
	}
	// Every edge is a row in some file (the summary table adds its header
	// and one row to inventory.md).
	if seen-2 != len(doc.Edges) {
		t.Errorf("%d rows in the Markdown files, %d edges", seen-2, len(doc.Edges))
	}
	a, _ := Files(doc)
	b, _ := Files(doc)
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

// BenchmarkReport10k renders the report of 10,000 projects and about
// 40,000 edges (issue 11 item 6: target under 5 s, HTML under 20 MB).
// Run: go test -run '^$' -bench Report10k -benchtime 1x ./internal/inventoryreport
func BenchmarkReport10k(b *testing.B) {
	in := bigOrg(10000)
	b.ResetTimer()
	var files map[string][]byte
	for b.Loop() {
		start, cpu := time.Now(), cpuTime()
		doc := Build(in)
		var err error
		if files, err = Files(doc); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "report-ms")
		b.ReportMetric(float64((cpuTime() - cpu).Milliseconds()), "report-cpu-ms")
		b.ReportMetric(float64(len(doc.Edges)), "edges")
	}
	b.ReportMetric(float64(len(files["index.html"]))/1e6, "html-MB")
	md := 0
	for name, f := range files {
		if strings.HasSuffix(name, ".md") {
			md = max(md, len(f))
		}
	}
	b.ReportMetric(float64(md)/1e6, "max-md-MB")
	b.ReportMetric(float64(len(files)), "files")
}
