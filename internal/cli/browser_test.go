package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tokenscope/tokenscope/internal/orggen"
)

// These tests check what tokenscope writes with the tools that read it:
// every Mermaid diagram with Mermaid's own parser, the report's index.html
// in a real browser. The tools come from npm and Debian (.ci/run and the
// README's test section install them); without them the tests skip and
// say why.

// missingTool skips a test whose external tool is missing, or fails it
// when TOKENSCOPE_REQUIRE_TOOLS=1: .ci/run sets it once its installs
// succeeded, so that CI cannot pass by skipping what it installed.
func missingTool(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("TOKENSCOPE_REQUIRE_TOOLS") == "1" {
		t.Fatal(why + " (TOKENSCOPE_REQUIRE_TOOLS=1)")
	}
	t.Skip(why)
}

// nodeDir is the folder whose node_modules holds mermaid, jsdom and
// playwright-core: $TOKENSCOPE_NODE_DIR, else ~/.cache/tokenscope/node.
func nodeDir(t *testing.T, modules ...string) string {
	t.Helper()
	if raceDetector {
		t.Skip("under -race: these tests check external tools, not Go code (they run in the plain go test)")
	}
	if testing.Short() {
		t.Skip("-short: needs node and a browser")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missingTool(t, "node is not installed (see the README's test section)")
	}
	dir := os.Getenv("TOKENSCOPE_NODE_DIR")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Skipf("no TOKENSCOPE_NODE_DIR and no home folder: %v", err)
		}
		dir = filepath.Join(home, ".cache", "tokenscope", "node")
	}
	for _, m := range modules {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", m, "package.json")); err != nil {
			missingTool(t, fmt.Sprintf("npm package %s is not installed in %s (npm install --prefix %s mermaid jsdom playwright-core)", m, dir, dir))
		}
	}
	return dir
}

// runNode runs one of testdata/browser's scripts from dir (so that its
// imports resolve to dir's node_modules) and decodes its JSON output.
func runNode(t *testing.T, dir, script string, out any, args ...string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "browser", script))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", append([]string{"--input-type=module", "-"}, args...)...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(src)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("node %s: %v\n%s\n%s", script, err, stdout.String(), stderr.String())
	}
}

// tool runs tokenscope in-process and fails the test unless it exits with
// one of codes (0 when none given).
func tool(t *testing.T, args ...string) string {
	t.Helper()
	ios := testIO(nil)
	code := Main(context.Background(), args, ios)
	if code != ExitOK {
		t.Fatalf("tokenscope %s: exit %d\n%s", strings.Join(args, " "), code, ios.Err.(*bytes.Buffer).String())
	}
	return ios.Out.(*bytes.Buffer).String()
}

// hostileSnapshot is an org whose text breaks every output language that
// is not quoted. Project paths are what GitLab allows (inventory refuses
// the rest), chosen to trip Mermaid: its keywords (end, graph, subgraph,
// click, style), "--" (an arrow), dots and underscores. Job names and
// evidence carry what paths cannot: quotes, arrows, pipes, brackets, an
// entity, backticks, markup. Most edges come from the authentication log
// only, so their access is unknown (the case that made Mermaid fail,
// issue 11).
func hostileSnapshot(t *testing.T) string {
	dir := t.TempDir()
	inv := `version: 1
server_url: https://gitlab.example.com
gitlab_version: "18.5"
projects:
  - path: end/graph
    id: 1
  - path: grp/a--b
    id: 2
    auth_log:
      - origin: end/graph
        last_authorized_at: 2026-11-01T10:00:00Z
      - origin: grp/subgraph
        last_authorized_at: 2026-11-02T10:00:00Z
  - path: grp/subgraph
    id: 3
  - path: grp/plain
    id: 5
  - path: grp/click.style_x
    id: 4
    auth_log:
      - origin: grp/a--b
        last_authorized_at: 2026-11-03T10:00:00Z
`
	if err := os.WriteFile(filepath.Join(dir, "inventory.yaml"), []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	// A job name and evidence that are markup and Mermaid syntax: the page
	// and the diagrams must show them as text.
	ci := `'we"ird|a-->b [1]#quot; ` + "`tick`" + `':
  script:
    - 'curl -H "JOB-TOKEN: $CI_JOB_TOKEN" -o "</script><img src=x onerror=alert(1)>|-->#quot;` + "`x`" + `" "https://gitlab.example.com/api/v4/projects/5/packages/generic/x/1/f.tgz"'
`
	if err := os.MkdirAll(filepath.Join(dir, "grp", "subgraph"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "grp", "subgraph", ".gitlab-ci.yml"), []byte(ci), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

var (
	bigOrgOnce sync.Once
	bigOrgDir  string
	bigOrgErr  error
)

// bigOrg is a generated org of 2,000 projects, written once per test run.
func bigOrg(t *testing.T) string {
	bigOrgOnce.Do(func() {
		bigOrgDir, bigOrgErr = os.MkdirTemp("", "tokenscope-org2000-")
		if bigOrgErr == nil {
			_, bigOrgErr = orggen.Write(bigOrgDir, orggen.Options{Projects: 2000, Seed: 1})
		}
	})
	if bigOrgErr != nil {
		t.Fatal(bigOrgErr)
	}
	return bigOrgDir
}

var mermaidBlock = regexp.MustCompile("(?s)```mermaid\n(.*?)```")

type mermaidCase struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

// TestMermaidParses parses every Mermaid diagram scan, plan and report
// write (on the example, the hostile org and a 2,000-project org) with
// Mermaid's parser.
func TestMermaidParses(t *testing.T) {
	dir := nodeDir(t, "mermaid", "jsdom")
	acme, trustFile, hostile := filepath.Join("..", "..", "examples", "acme"), filepath.Join("..", "..", "examples", "acme", "trust.yaml"), hostileSnapshot(t)
	var cases []mermaidCase
	add := func(name, markdown string) {
		blocks := mermaidBlock.FindAllStringSubmatch(markdown, -1)
		if len(blocks) == 0 {
			t.Errorf("%s: no Mermaid block", name)
		}
		for _, b := range blocks {
			cases = append(cases, mermaidCase{Name: name, Text: b[1]})
		}
	}
	for name, src := range map[string]string{"acme": acme, "hostile": hostile} {
		cases = append(cases, mermaidCase{Name: name + ": scan --format mermaid", Text: tool(t, "scan", src, "-q", "--format", "mermaid")})
		add(name+": scan --format markdown", tool(t, "scan", src, "-q", "--format", "markdown"))
		add(name+": plan --format markdown", tool(t, "plan", src, "-q", "--format", "markdown"))
	}
	add("acme: plan --trust --format markdown", tool(t, "plan", acme, "-q", "--trust", trustFile, "--format", "markdown"))
	// A big org: past Mermaid's 500-edge limit unless drawn per group.
	org := bigOrg(t)
	cases = append(cases, mermaidCase{Name: "org2000: scan --format mermaid", Text: tool(t, "scan", org, "-q", "--format", "mermaid")})
	add("org2000: scan --format markdown", tool(t, "scan", org, "-q", "--format", "markdown"))
	add("org2000: plan --format markdown", tool(t, "plan", org, "-q", "--format", "markdown"))
	for name, args := range map[string][]string{
		"acme":    {acme, "--trust", trustFile},
		"hostile": {hostile},
		"org2000": {bigOrg(t)},
	} {
		out := filepath.Join(t.TempDir(), "report")
		tool(t, append([]string{"report", "-q", "-o", out}, args...)...)
		b, err := os.ReadFile(filepath.Join(out, "inventory.md"))
		if err != nil {
			t.Fatal(err)
		}
		add(name+": report inventory.md", string(b))
	}
	blocks := filepath.Join(t.TempDir(), "blocks.json")
	data, _ := json.Marshal(cases)
	if err := os.WriteFile(blocks, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var res []struct {
		Name  string `json:"name"`
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	runNode(t, dir, "mermaid-parse.mjs", &res, blocks)
	if len(res) != len(cases) {
		t.Fatalf("mermaid parsed %d diagrams, want %d", len(res), len(cases))
	}
	for i, r := range res {
		if !r.OK {
			t.Errorf("%s: Mermaid cannot parse it: %s\n%s", r.Name, r.Error, cases[i].Text)
		}
	}
}

// TestReportInChromium opens index.html in headless Chromium, offline,
// and checks that its script runs without a console error, that every
// edge of inventory.json is a row, that the graph is drawn, and the sizes
// (HTML under 10 MB, every Markdown file under 1 MB). Screenshots go to
// $TOKENSCOPE_SCREENSHOTS (default: the test's temporary folder).
func TestReportInChromium(t *testing.T) {
	dir := nodeDir(t, "playwright-core")
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missingTool(t, fmt.Sprintf("no Chromium at %s (apt-get install chromium, or set CHROMIUM)", chromium))
	}
	shots := os.Getenv("TOKENSCOPE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	acme := filepath.Join("..", "..", "examples", "acme")
	for _, c := range []struct {
		name string
		args []string
	}{
		{"acme", []string{acme, "--trust", filepath.Join(acme, "trust.yaml")}},
		{"hostile", []string{hostileSnapshot(t)}},
		{"org2000", []string{bigOrg(t)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "report")
			tool(t, append([]string{"report", "-q", "-o", out}, c.args...)...)
			entries, err := os.ReadDir(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				info, _ := e.Info()
				switch {
				case strings.HasSuffix(e.Name(), ".md") && info.Size() >= 1_000_000:
					t.Errorf("%s is %d bytes; GitLab renders Markdown up to 1 MB", e.Name(), info.Size())
				case e.Name() == "index.html" && info.Size() >= 10_000_000:
					t.Errorf("index.html is %d bytes, want under 10 MB", info.Size())
				}
			}
			var doc struct {
				Edges []struct {
					Caller     string `json:"caller"`
					CallerType string `json:"caller_type"`
					Callee     string `json:"callee"`
					Status     string `json:"status"`
				} `json:"edges"`
			}
			data, err := os.ReadFile(filepath.Join(out, "inventory.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			shot := filepath.Join(shots, "report-"+c.name+".png")
			var res struct {
				Ready, Rows, SVGNodes, SVGArrows, Drills, LookupOut, Links, DrillOpened int
				FirstLink                                                               string
				SVGWidth                                                                float64
				Keys, Errors, Requests                                                  []string
			}
			runNode(t, dir, "page-check.mjs", &res, filepath.Join(out, "index.html"), shot)
			if len(res.Errors) > 0 {
				t.Errorf("console errors: %q", res.Errors)
			}
			if len(res.Requests) > 0 {
				t.Errorf("the page asked the network for %q; it must be self-contained", res.Requests)
			}
			if res.Ready != len(doc.Edges) || res.Rows != len(doc.Edges) {
				t.Errorf("page script ready for %d edges, %d rows shown; inventory.json has %d", res.Ready, res.Rows, len(doc.Edges))
			}
			want := map[string]bool{}
			for _, e := range doc.Edges {
				caller := e.Caller
				if e.CallerType == "group" {
					caller = "group " + caller
				}
				want[caller+" "+e.Callee+" "+e.Status] = true
			}
			for _, k := range res.Keys {
				delete(want, k)
			}
			if len(want) > 0 {
				t.Errorf("%d edges of inventory.json are not in the page, e.g. %v", len(want), firstKey(want))
			}
			// Evidence links point at the file on the GitLab of the inventory.
			if res.Links == 0 || !strings.Contains(res.FirstLink, "/-/blob/") {
				t.Errorf("%d evidence links, first %q", res.Links, res.FirstLink)
			}
			if res.SVGNodes == 0 || res.SVGArrows == 0 || res.SVGWidth < 100 {
				t.Errorf("graph not drawn: %d nodes, %d arrows, %.0f px wide", res.SVGNodes, res.SVGArrows, res.SVGWidth)
			}
			if res.Drills > 0 && res.DrillOpened != 1 {
				t.Errorf("a click on a group box opened %d drill-downs, want 1", res.DrillOpened)
			}
			if len(doc.Edges) > 0 && res.LookupOut == 0 {
				t.Error("the per-project view shows no allowlist for a caller")
			}
			if _, err := os.Stat(shot); err != nil {
				t.Errorf("no screenshot: %v", err)
			}
			t.Logf("%s: %d edges, %d graph nodes, %d drill-downs, screenshot %s", c.name, len(doc.Edges), res.SVGNodes, res.Drills, shot)
		})
	}
}

func firstKey(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}
