package planfile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/plan"
)

func TestReadRoundTrip(t *testing.T) {
	doc := Document{Version: Version, Warnings: []string{}, Waves: []Wave{}, Unresolved: []Unresolved{}, StateDigest: "sha256:00",
		Projects: []Project{{Project: "libs/jslib", ID: 201, Enforce: true, State: plan.StateKnown,
			Add: []Entry{{Type: plan.ProjectEntry, Path: "apps/web", ID: 301, Policies: []string{"read_jobs"}}},
			Keep: []Entry{
				{Type: plan.ProjectEntry, Path: "apps/api", CurrentPolicies: Policies(nil)},           // default permissions
				{Type: plan.ProjectEntry, Path: "apps/deploy", CurrentPolicies: Policies([]string{})}, // none
			},
			Calls: []Call{{Kind: plan.CallUpdatePolicies, Method: "POST", Path: plan.GraphQLPath, Mutation: plan.MutationUpdatePolicies,
				Params: map[string]any{"projectPath": "libs/jslib", "targetPath": "apps/web", "defaultPermissions": false, "jobTokenPolicies": []any{"READ_JOBS"}},
				Target: &Target{Type: plan.ProjectEntry, Path: "apps/web", ID: 301}, Policies: Policies([]string{"read_jobs"}), Done: []string{}}},
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"path":"apps/api","access":null,"policies":null,"reason":"","current_policies":null}`) {
		t.Errorf("default permissions must be written as null: %s", b)
	}
	got, err := Read(strings.NewReader(string(b)), "plan.json")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, doc) {
		t.Errorf("read back:\n%+v\nwant\n%+v", *got, doc)
	}
	if a := got.Projects[0].Add[0]; a.CurrentPolicies.Set {
		t.Errorf("an absent current_policies must read as absent: %+v", a)
	}
}

func TestReadState(t *testing.T) {
	doc, err := Read(strings.NewReader(`{"version": 1, "projects": [{"project": "a/b"}, {"project": "c/d", "state": "unknown"}]}`), "plan.json")
	if err != nil {
		t.Fatal(err)
	}
	if doc.Projects[0].State != plan.StateKnown || doc.Projects[1].State != plan.StateUnknown {
		t.Errorf("states = %q, %q; want known (absent) and unknown", doc.Projects[0].State, doc.Projects[1].State)
	}
	_, err = Read(strings.NewReader(`{"version": 1, "projects": [{"project": "a/b", "state": "maybe"}]}`), "plan.json")
	if err == nil || !strings.Contains(err.Error(), `project a/b: state "maybe"`) {
		t.Errorf("err = %v; want the bad state named", err)
	}
}

func TestReadRefusesUnknownVersion(t *testing.T) {
	_, err := Read(strings.NewReader(`{"version": 7, "projects": "whatever v7 says"}`), "plan.json")
	want := "plan.json: plan format version 7 is not supported (this tokenscope reads version 1)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v; want %s", err, want)
	}
	_, err = Read(strings.NewReader(`{"projects": []}`), "plan.json")
	if err == nil || !strings.Contains(err.Error(), "plan.json: no plan format version") {
		t.Errorf("missing version: err = %v", err)
	}
}

func TestReadMalformed(t *testing.T) {
	for _, in := range []string{`{"version": 1,`, "{\n\"version\": 1,\n\"projects\": [}", `{"version": 1, "projects": {}}`, ``} {
		_, err := Read(strings.NewReader(in), "out/plan.json")
		if err == nil || !strings.HasPrefix(err.Error(), "out/plan.json: not a plan JSON document") {
			t.Errorf("%q: err = %v; want one naming the file", in, err)
		}
	}
	_, err := Read(strings.NewReader("{\n\"version\": 1,\n\"projects\": [}"), "plan.json")
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("err = %v; want the line", err)
	}
}

func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(path, []byte(`{"version": 2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.HasPrefix(err.Error(), path+": plan format version 2") {
		t.Errorf("err = %v", err)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: err = %v", err)
	}
}
