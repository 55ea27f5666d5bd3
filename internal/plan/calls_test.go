package plan

import (
	"reflect"
	"testing"

	"github.com/tokenscope/tokenscope/internal/capability"
)

func callKinds(cs []Call) []CallKind {
	out := []CallKind{}
	for _, c := range cs {
		out = append(out, c.Kind)
	}
	return out
}

// TestCallsOrder checks the order that never breaks a kept pipeline:
// each add with its policies, then updates, then removals, enforcement
// last; REST with numeric IDs, GraphQL by path without.
func TestCallsOrder(t *testing.T) {
	pr := Project{Path: "libs/jslib", ID: 201, Enforce: true,
		Add: []Entry{
			{Type: ProjectEntry, Path: "apps/web", ID: 301, Policies: []string{"read_jobs", "read_packages"}},
			{Type: GroupEntry, Path: "apps", ID: 30},
			{Type: ProjectEntry, Path: "data/etl"}, // ID unknown
		},
		Update: []Entry{{Type: ProjectEntry, Path: "apps/deploy", ID: 303}},
		Remove: []Entry{{Type: ProjectEntry, Path: "apps/old", ID: 305}, {Type: GroupEntry, Path: "data", ID: 50}},
	}
	calls := pr.Calls(capability.For(capability.MustVersion("18.5")))
	want := []CallKind{CallAddProject, CallUpdatePolicies, CallAddGroup, CallAddProject, CallUpdatePolicies, CallRemoveProject, CallRemoveGroup, CallEnforce}
	if got := callKinds(calls); !reflect.DeepEqual(got, want) {
		t.Fatalf("kinds = %v; want %v", got, want)
	}
	check := func(i int, method, path string, params []Param) {
		t.Helper()
		c := calls[i]
		if c.Method != method || c.Path != path || !reflect.DeepEqual(c.Params, params) {
			t.Errorf("call %d = %s %s %v; want %s %s %v", i, c.Method, c.Path, c.Params, method, path, params)
		}
	}
	check(0, "POST", "api/v4/projects/201/job_token_scope/allowlist", []Param{{"target_project_id", 301}})
	check(1, "POST", GraphQLPath, []Param{{"projectPath", "libs/jslib"}, {"targetPath", "apps/web"},
		{"defaultPermissions", false}, {"jobTokenPolicies", []Enum{"READ_JOBS", "READ_PACKAGES"}}})
	check(2, "POST", "api/v4/projects/201/job_token_scope/groups_allowlist", []Param{{"target_group_id", 30}})
	check(3, "POST", GraphQLPath, []Param{{"projectPath", "libs/jslib"}, {"targetPath", "data/etl"}})
	check(4, "POST", GraphQLPath, []Param{{"projectPath", "libs/jslib"}, {"targetPath", "apps/deploy"},
		{"defaultPermissions", true}, {"jobTokenPolicies", []Enum{}}})
	check(5, "DELETE", "api/v4/projects/201/job_token_scope/allowlist/305", []Param{})
	check(6, "DELETE", "api/v4/projects/201/job_token_scope/groups_allowlist/50", []Param{})
	check(7, "PATCH", "api/v4/projects/201/job_token_scope", []Param{{"enabled", true}})
	if !calls[3].ByPath || calls[3].Mutation != MutationAdd || calls[0].ByPath || calls[0].GraphQL() {
		t.Errorf("by path: %+v / %+v", calls[3], calls[0])
	}
	if calls[1].Target.Path != "apps/web" || calls[1].Policies == nil || calls[4].Policies != nil || calls[7].Target != nil {
		t.Errorf("targets and policies: %+v %+v %+v", calls[1], calls[4], calls[7])
	}
}

// TestCallsRemoveByPath checks the GraphQL removals: a project entry only
// goes with direction INBOUND (the mutation defaults to OUTBOUND).
func TestCallsRemoveByPath(t *testing.T) {
	pr := Project{Path: "platform/build-scripts", // ID unknown
		Remove: []Entry{{Type: ProjectEntry, Path: "apps/web", ID: 301}, {Type: GroupEntry, Path: "apps", ID: 30}}}
	calls := pr.Calls(capability.For(capability.Version{}))
	if len(calls) != 2 {
		t.Fatalf("calls = %+v", calls)
	}
	if c := calls[0]; c.Mutation != MutationRemoveProject || c.Method != "POST" || !c.ByPath ||
		!reflect.DeepEqual(c.Params, []Param{{"projectPath", "platform/build-scripts"}, {"targetProjectPath", "apps/web"}, {"direction", Enum("INBOUND")}}) {
		t.Errorf("remove project: %+v", c)
	}
	if c := calls[1]; c.Mutation != MutationRemoveGroup || !reflect.DeepEqual(c.Params, []Param{{"projectPath", "platform/build-scripts"}, {"targetGroupPath", "apps"}}) {
		t.Errorf("remove group: %+v", c)
	}
}

// TestCallsByVersion checks what the version decides: no policy calls
// without fine-grained permissions, group entries flagged before 17.0.
func TestCallsByVersion(t *testing.T) {
	pr := Project{Path: "libs/jslib", ID: 201,
		Add:    []Entry{{Type: GroupEntry, Path: "apps", ID: 30, Policies: []string{"read_jobs"}}},
		Update: []Entry{{Type: ProjectEntry, Path: "apps/deploy", ID: 303, Policies: []string{"read_jobs"}}}}
	calls := pr.Calls(capability.For(capability.MustVersion("16.11")))
	if got := callKinds(calls); !reflect.DeepEqual(got, []CallKind{CallAddGroup}) {
		t.Fatalf("16.11 kinds = %v", got)
	}
	if calls[0].Unsupported == "" || Unsupported(pr.Add[0], capability.For(capability.MustVersion("16.11"))) != calls[0].Unsupported {
		t.Errorf("group entry on 16.11 not flagged: %+v", calls[0])
	}
	if c := pr.Calls(capability.For(capability.MustVersion("18.5"))); c[0].Unsupported != "" || len(c) != 3 {
		t.Errorf("18.5: %+v", c)
	}
	if c := (Project{Path: "x"}).Calls(capability.Capabilities{}); c == nil || len(c) != 0 {
		t.Errorf("no change: %#v; want an empty list", c)
	}
}
