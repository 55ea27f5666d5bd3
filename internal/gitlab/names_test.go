package gitlab

import (
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

// TestNamesGitLabReturnsAreChecked: a server's answer is hostile input
// too; a project or group it names with a path no GitLab could hold is
// dropped with a problem, and an allowlist holding one becomes unknown.
func TestNamesGitLabReturnsAreChecked(t *testing.T) {
	l := &Listing{
		Groups: []inventory.Group{{Path: "g", ID: 1}, {Path: "../g", ID: 2}, {Path: "h", ID: 0}},
		Projects: []*inventory.Project{{Path: "g/web", ID: 10}, {Path: "g/x\n$(touch pwned)", ID: 11}, {Path: "/etc", ID: 12},
			{Path: "g/neg", ID: -3}},
	}
	l.ServerURL = "https://gitlab.example.com$(touch x)"
	checkListing(l)
	if l.ServerURL != "" {
		t.Errorf("server URL %q kept", l.ServerURL)
	}
	l.Problems = l.Problems[:len(l.Problems)-1]
	if len(l.Groups) != 1 || len(l.Projects) != 1 || l.Projects[0].Path != "g/web" || len(l.Problems) != 5 {
		t.Errorf("kept %v %v; problems %v", l.Groups, l.Projects, l.Problems)
	}
	for _, p := range l.Problems {
		if strings.Contains(p.Project+p.Summary, "\n") {
			t.Errorf("a problem holds a raw newline: %q", p)
		}
	}
	jt := &JobTokens{
		Scopes: map[string]*inventory.JobTokenScope{
			"g/web": {Allowlist: inventory.Allowlist{Projects: []inventory.Entry{{Path: "g/a", ID: 5}, {Path: "g/${x}", ID: 6}}}},
			"g/api": {Allowlist: inventory.Allowlist{Groups: []inventory.Entry{{Path: "g", ID: 1}}}},
		},
		Logs: map[string][]inventory.AuthLogEntry{"g/web": {{Origin: "g/a", LastAuthorizedAt: time.Now()}, {Origin: "g/`id`"}}},
	}
	checkJobTokens(jt)
	if _, ok := jt.Scopes["g/web"]; ok {
		t.Error("an allowlist with a bad entry must be dropped (unknown), not kept partial")
	}
	if jt.Scopes["g/api"] == nil || len(jt.Logs["g/web"]) != 1 || len(jt.Problems) != 2 {
		t.Errorf("scopes %v logs %v problems %v", jt.Scopes, jt.Logs, jt.Problems)
	}
}
