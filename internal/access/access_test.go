package access

import (
	"slices"
	"testing"
)

// TestTable checks the invariants the plan relies on: every kind has a
// policy or says why not, a role, and write kinds are marked.
func TestTable(t *testing.T) {
	for _, k := range All() {
		in, ok := Lookup(k)
		if !ok {
			t.Fatalf("%s: not in the table", k)
		}
		if (in.Policy == "") == (in.NoPolicyReason == "") {
			t.Errorf("%s: give a policy or the reason there is none", k)
		}
		if in.Policy != "" && in.PolicySince == "" {
			t.Errorf("%s: policy %s without the version that has it", k, in.Policy)
		}
		if in.Role == "" {
			t.Errorf("%s: no minimum role", k)
		}
		if in.Never && !in.Write {
			t.Errorf("%s: only writes are never allowed across projects", k)
		}
	}
	if _, err := Parse("npm-read"); err == nil {
		t.Error("unknown kinds must not parse")
	}
}

func TestPolicies(t *testing.T) {
	for k, want := range map[Kind][]string{
		RepositoryRead:      {"read_repositories"},
		TerraformStateWrite: {"admin_terraform_state", "read_terraform_state"},
		DeploymentsWrite:    {"admin_deployments", "admin_environments", "read_deployments"},
		ContainerRead:       nil,
		PipelineTrigger:     nil,
	} {
		in, _ := Lookup(k)
		if got := in.Policies(); !slices.Equal(got, want) {
			t.Errorf("%s: Policies() = %v; want %v", k, got, want)
		}
	}
}
