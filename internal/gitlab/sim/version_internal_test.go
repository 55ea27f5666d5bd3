package sim

import (
	"testing"

	"github.com/tokenscope/tokenscope/internal/gitlab/schema"
)

// The "since" notes of the schema become the version table the simulator
// gates fields on; these are the notes tokenscope's queries depend on.
func TestSinceTable(t *testing.T) {
	s, err := schema.Load()
	if err != nil {
		t.Fatal(err)
	}
	table := buildSinceTable(s)
	for key, want := range map[string]version{
		"Project.ciJobTokenScopeAllowlist":                         {17, 6},
		"Project.ciJobTokenAuthLogs":                               {17, 6},
		"Query.projects(fullPaths)":                                {16, 6},
		"Query.project":                                            {11, 0},
		"Repository.blobs":                                         {13, 11},
		"CiJobTokenScopePolicies.READ_REPOSITORIES":                {18, 4},
		"CiJobTokenScopeAddGroupOrProjectInput.defaultPermissions": {17, 8},
		"CiJobTokenScopeType.groupsAllowlist":                      {16, 10},
	} {
		if got, ok := table[key]; !ok || got != want {
			t.Errorf("%s: since %v (%v); want %v", key, got, ok, want)
		}
	}
	// "before X.Y", "deprecated since" and no note: always there.
	for _, key := range []string{"Project.ciJobTokenScope", "CiJobTokenScopePolicies.READ_CONTAINERS", "CiJobTokenScopePolicies.READ_JOBS", "Query.projects"} {
		if v, ok := table[key]; ok {
			t.Errorf("%s gated at %v; want always present", key, v)
		}
	}
}

func TestParseVersionAndBehaviour(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want version
		ok   bool
	}{
		{"18.5", version{18, 5}, true},
		{"17.9.2-ee", version{17, 9}, true},
		{"v16.10.0", version{16, 10}, true},
		{"18", version{}, false},
		{"x.y", version{}, false},
	} {
		got, err := parseVersion(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseVersion(%q) = %v, %v", tc.in, got, err)
		}
	}
	for _, tc := range []struct {
		version                      string
		selfLink, newDupes, policies bool
	}{
		{"17.9", false, false, false},
		{"18.0", true, true, false},
		{"18.3", true, true, true},
	} {
		b, err := resolveBehaviour(Options{Version: tc.version}, "", nil)
		if err != nil || b.selfLink != tc.selfLink || b.newDuplicates != tc.newDupes || b.policies != tc.policies {
			t.Errorf("%s: %+v, %v", tc.version, b, err)
		}
	}
	off := false
	if b, _ := resolveBehaviour(Options{Version: "18.5", SelfLinkAllowed: &off}, "", nil); b.selfLink {
		t.Error("SelfLinkAllowed override ignored")
	}
}
