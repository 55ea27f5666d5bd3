package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tokenscope/tokenscope/internal/capability"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/planfile"
)

// TestGraphQLQueries pins the query text of every mutation, the removals
// by path included (the goldens have none).
func TestGraphQLQueries(t *testing.T) {
	pr := plan.Project{Path: "platform/build-scripts",
		Add:    []plan.Entry{{Type: plan.ProjectEntry, Path: "apps/web", ID: 301, Policies: []string{"read_jobs"}}},
		Update: []plan.Entry{{Type: plan.ProjectEntry, Path: "apps/deploy", ID: 303}},
		Remove: []plan.Entry{{Type: plan.ProjectEntry, Path: "apps/old"}, {Type: plan.GroupEntry, Path: "data"}}}
	caps := capability.For(capability.MustVersion("18.5"))
	var got []string
	for _, c := range pr.Calls(caps) {
		got = append(got, callComment(c, caps)+": "+graphqlQuery(c))
	}
	want := []string{
		`add project apps/web (ID unknown to the inventory: GraphQL by path): mutation { ciJobTokenScopeAddGroupOrProject(input: {projectPath: "platform/build-scripts", targetPath: "apps/web"}) { errors } }`,
		`policies of apps/web: read_jobs: mutation { ciJobTokenScopeUpdatePolicies(input: {projectPath: "platform/build-scripts", targetPath: "apps/web", defaultPermissions: false, jobTokenPolicies: [READ_JOBS]}) { errors } }`,
		`policies of apps/deploy: default permissions: mutation { ciJobTokenScopeUpdatePolicies(input: {projectPath: "platform/build-scripts", targetPath: "apps/deploy", defaultPermissions: true, jobTokenPolicies: []}) { errors } }`,
		`remove project apps/old (ID unknown to the inventory: GraphQL by path): mutation { ciJobTokenScopeRemoveProject(input: {projectPath: "platform/build-scripts", targetProjectPath: "apps/old", direction: INBOUND}) { errors } }`,
		`remove group data (ID unknown to the inventory: GraphQL by path): mutation { ciJobTokenScopeRemoveGroup(input: {projectPath: "platform/build-scripts", targetGroupPath: "data"}) { errors } }`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("queries:\n%q\nwant\n%q", got, want)
	}
}

// TestPlanFileRoundTrip renders the sample plan's JSON, reads it back with
// planfile and compares the projects and their calls with the plan.
func TestPlanFileRoundTrip(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		p := samplePlan(t, trusted)
		var buf bytes.Buffer
		if err := Plan(&buf, p, FormatJSON, testHints); err != nil {
			t.Fatal(err)
		}
		doc, err := planfile.Read(bytes.NewReader(buf.Bytes()), "plan.json")
		if err != nil {
			t.Fatal(err)
		}
		if doc.Version != PlanFormatVersion || doc.Trusted != trusted || doc.StateDigest != p.StateDigest || len(doc.Projects) != len(p.Projects) {
			t.Fatalf("header: version %d trusted %v digest %s, %d projects", doc.Version, doc.Trusted, doc.StateDigest, len(doc.Projects))
		}
		calls := 0
		for i, pr := range p.Projects {
			rp := doc.Projects[i]
			if rp.Project != pr.Path || rp.ID != pr.ID || rp.Enforce != pr.Enforce || len(rp.Add) != len(pr.Add) || len(rp.Remove) != len(pr.Remove) {
				t.Errorf("project %d: read %+v", i, rp)
			}
			// The calls read back are the plan's, through the JSON types.
			want := roundTrip(t, wireCalls(pr.Calls(p.Capabilities)))
			if !reflect.DeepEqual(rp.Calls, want) {
				t.Errorf("%s: calls read back\n%+v\nwant\n%+v", pr.Path, rp.Calls, want)
			}
			for j, c := range pr.Calls(p.Capabilities) {
				if rc := rp.Calls[j]; rc.Kind != c.Kind || rc.Method != c.Method || rc.Path != c.Path || len(rc.Params) != len(c.Params) {
					t.Errorf("%s call %d: read %+v; plan %+v", pr.Path, j, rc, c)
				}
			}
			calls += len(rp.Calls)
		}
		if calls == 0 {
			t.Error("the sample plan has no calls")
		}
		// Writing what was read gives the same document.
		var again bytes.Buffer
		if err := writeJSON(&again, doc); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.Bytes(), buf.Bytes()) {
			t.Errorf("read and written again, the document differs:\n%s", again.String())
		}
	}
}

// roundTrip is v after encoding and decoding, as planfile reads it.
func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPlanFileReadFile(t *testing.T) {
	var buf bytes.Buffer
	if err := Plan(&buf, samplePlan(t, true), FormatJSON, testHints); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	doc, err := planfile.ReadFile(path)
	if err != nil || len(doc.Projects) == 0 {
		t.Fatalf("ReadFile = %v, %v", doc, err)
	}
}
