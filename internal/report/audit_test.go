package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/audit"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/trust"
)

func auditResult() *audit.Result {
	return &audit.Result{TrustFile: "./ops/trust.yaml", Projects: 3, Enforced: 1, Findings: []audit.Finding{
		{Kind: audit.NotEnforced, Project: "apps/web", Detail: "off", Action: "turn it on", Fails: true},
		{Kind: audit.Unapproved, Project: "libs/jslib", EntryType: plan.ProjectEntry, Entry: "apps/o|d`x$y$", Detail: "a $HOME$ b", Action: "remove it", Fails: true},
		{Kind: audit.Review, Project: "libs/jslib", EntryType: plan.GroupEntry, Entry: "apps", Detail: "used", Action: "approve", Line: 7,
			Acknowledged: &trust.Acknowledgement{Kind: "review", Reason: "soon", Owner: "@a", Line: 9, Expires: time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)}},
		{Kind: audit.Stale, Project: "libs/jslib", EntryType: plan.ProjectEntry, Entry: "apps/api", Detail: "unused", Action: "ask", Line: 4},
	}}
}

func TestAuditCodeQuality(t *testing.T) {
	var b bytes.Buffer
	if err := Audit(&b, auditResult(), FormatCodeQuality, AuditMeta{Source: "snap"}); err != nil {
		t.Fatal(err)
	}
	var issues []map[string]any
	if err := json.Unmarshal(b.Bytes(), &issues); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	// The acknowledged finding is left out; the others keep their order.
	if len(issues) != 3 {
		t.Fatalf("%d issues, want 3:\n%s", len(issues), b.String())
	}
	wantSev := []string{"critical", "critical", "info"}
	seen := map[string]bool{}
	for i, is := range issues {
		for _, k := range []string{"description", "check_name", "fingerprint", "severity", "location"} {
			if _, ok := is[k]; !ok {
				t.Errorf("issue %d has no %s", i, k)
			}
		}
		if is["severity"] != wantSev[i] {
			t.Errorf("issue %d severity %v, want %s", i, is["severity"], wantSev[i])
		}
		loc := is["location"].(map[string]any)
		if loc["path"] != "ops/trust.yaml" {
			t.Errorf("path %v: relative to the repository, no ./", loc["path"])
		}
		if begin := loc["lines"].(map[string]any)["begin"].(float64); begin < 1 {
			t.Errorf("lines.begin %v: GitLab lines start at 1", begin)
		}
		fp := is["fingerprint"].(string)
		if len(fp) != 64 || seen[fp] {
			t.Errorf("fingerprint %q not a unique sha256", fp)
		}
		seen[fp] = true
	}
	if issues[2]["location"].(map[string]any)["lines"].(map[string]any)["begin"] != 4.0 {
		t.Errorf("stale finding points at its approval line: %v", issues[2]["location"])
	}
	// Stable: the same finding with other words keeps its fingerprint.
	r := auditResult()
	r.Findings[0].Detail, r.Findings[0].Line = "other words", 12
	if r.Findings[0].Fingerprint() != issues[0]["fingerprint"] {
		t.Error("fingerprint depends on the wording")
	}
}

func TestAuditMarkdownEscapes(t *testing.T) {
	var b bytes.Buffer
	if err := Audit(&b, auditResult(), FormatMarkdown, AuditMeta{Source: "snap"}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| FAIL | unapproved | `libs/jslib` | ``apps/o\\|d`x$y$`` | a \\$HOME\\$ b | remove it |",
		"| ack | review | `libs/jslib` | `group apps` | used (`./ops/trust.yaml:7`) | approve<br>acknowledged at ./ops/trust.yaml:9 by @a: soon (until 2027-01-02) |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, "| ") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 7 {
			t.Errorf("line %d has a stray cell separator: %s", i+1, line)
		}
	}
}

func TestAuditJSON(t *testing.T) {
	var b bytes.Buffer
	if err := Audit(&b, auditResult(), FormatJSON, AuditMeta{Source: "snap"}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version  int  `json:"version"`
		OK       bool `json:"ok"`
		Summary  struct{ Failing, Acknowledged int }
		Findings []struct {
			Kind, Class  string
			Entry        *struct{ Type, Path string }
			Acknowledged *struct{ Expires string }
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != AuditFormatVersion || doc.OK || doc.Summary.Failing != 2 || doc.Summary.Acknowledged != 1 || len(doc.Findings) != 4 {
		t.Errorf("doc = %+v", doc)
	}
	if f := doc.Findings[0]; f.Entry != nil || f.Class != "drift" {
		t.Errorf("project finding: %+v", f)
	}
	if f := doc.Findings[2]; f.Entry == nil || f.Entry.Type != "group" || f.Class != "standing" || f.Acknowledged == nil || f.Acknowledged.Expires != "2027-01-02" {
		t.Errorf("acknowledged group finding: %+v", f)
	}
}

func TestAuditTableControlCharacters(t *testing.T) {
	r := auditResult()
	r.Findings[0].Project = "apps/\x1b[31mweb"
	var b bytes.Buffer
	if err := Audit(&b, r, FormatTable, AuditMeta{Source: "snap"}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(b.String(), '\x1b') {
		t.Errorf("escape sequence reached the terminal:\n%q", b.String())
	}
}
