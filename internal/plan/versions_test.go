package plan

import (
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/capability"
)

// TestCallsPerVersion: a call is marked unsupported exactly where the
// version lacks what it needs, and only there.
func TestCallsPerVersion(t *testing.T) {
	p := Project{Path: "libs/jslib", ID: 201, Enforce: true, Add: []Entry{
		{Type: ProjectEntry, Path: "apps/web", ID: 301},
		{Type: ProjectEntry, Path: "apps/noid"}, // no ID: GraphQL by path
	}}
	for _, tc := range []struct {
		version string
		want    []string // per call: a substring of Unsupported, "" for supported
	}{
		{"15.8", []string{"no inbound job token allowlist", "no inbound job token allowlist", "no inbound job token allowlist"}},
		{"16.0", []string{"REST allowlist API needs GitLab 16.1", "ciJobTokenScopeAddGroupOrProject needs GitLab 17.0", "REST allowlist API needs GitLab 16.1"}},
		{"16.1", []string{"", "ciJobTokenScopeAddGroupOrProject needs GitLab 17.0", ""}},
		{"17.0", []string{"", "", ""}},
	} {
		calls := p.Calls(capability.For(capability.MustVersion(tc.version)))
		if len(calls) != len(tc.want) {
			t.Fatalf("%s: %d calls, want %d", tc.version, len(calls), len(tc.want))
		}
		for i, c := range calls {
			if (tc.want[i] == "") != (c.Unsupported == "") || !strings.Contains(c.Unsupported, tc.want[i]) {
				t.Errorf("%s: call %d (%s %s): unsupported %q, want %q", tc.version, i, c.Kind, c.Path, c.Unsupported, tc.want[i])
			}
		}
	}
}
