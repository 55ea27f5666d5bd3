package trust

import (
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

// TestDraftFromAllowlists: the draft starts from today's allowlists. An
// entry with a use is noted on its edge; one without is drafted for
// review; a group entry becomes a grant to review; hostile names stay
// quoted scalars and one-line comments.
func TestDraftFromAllowlists(t *testing.T) {
	g := sampleGraph()
	inv := &inventory.Inventory{Projects: []*inventory.Project{
		// data/reports only pushes to apps/web, which no job token can: the
		// entry is explained by nothing a job token can use.
		{Path: "apps/web", JobTokenScope: &inventory.JobTokenScope{Allowlist: inventory.Allowlist{
			Projects: []inventory.Entry{{Path: "data/reports"}},
		}}},
		{Path: "libs/jslib", JobTokenScope: &inventory.JobTokenScope{InboundEnabled: true, Allowlist: inventory.Allowlist{
			Projects: []inventory.Entry{
				{Path: "apps/web", Policies: []string{"read_packages"}},
				{Path: "apps/old"},
				{Path: "ops/x\nevil: true", Autopopulated: true},
			},
			Groups: []inventory.Entry{{Path: "apps"}},
		}}},
	}}
	out := string(Draft(g, DraftOptions{Source: "snap", Inventory: inv}))
	for _, want := range []string{
		"  # apps/web -> libs/jslib\n  #   on the allowlist today, with policies read_packages\n",
		"  # apps/old -> libs/jslib\n  #   on the allowlist, no use found (with default permissions): review whether it is\n",
		"  - caller: apps/old\n    callee: libs/jslib\n    access: []\n    reason: \"TODO: on the allowlist, no use found: why apps/old needs libs/jslib\"\n    owner: TODO\n    unreviewed: true\n",
		"  - caller: \"ops/x\\nevil: true\"\n",
		"  #   added by GitLab from the authentication log (autopopulated)\n",
		"groups:\n  # group apps -> libs/jslib\n",
		"  #   uses found from the group: apps/web (drafted as edges above)\n",
		"  - callee: libs/jslib\n    caller_group: apps\n    access: []\n",
		"  - caller: data/reports\n    callee: apps/web\n    access: []\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("draft lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\nevil: true") {
		t.Error("a hostile name broke out of its scalar")
	}
	if n := ListedWithoutUse(g, inv); n != 3 {
		t.Errorf("ListedWithoutUse = %d, want 3", n)
	}
	f, diags := Load("t.yaml", []byte(out), LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("the draft does not load: %v\n%s", diags, out)
	}
	drafted := 0
	for _, e := range f.Edges {
		if !e.Unreviewed {
			t.Errorf("%s → %s drafted as reviewed", e.Caller, e.Callee)
		}
		if e.Caller == "apps/old" {
			drafted++
		}
	}
	if drafted != 1 || len(f.Groups) != 1 || !f.Groups[0].Unreviewed {
		t.Errorf("listed entries not drafted for review: %+v %+v", f.Edges, f.Groups)
	}
}
