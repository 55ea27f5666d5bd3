package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"Project", "CiJobTokenScopeAllowlistEntry", "CiJobTokenAuthLog", "RepositoryBlob", "Mutation"} {
		if s.Types[typ] == nil {
			t.Errorf("type %s missing", typ)
		}
	}
	if f := s.Types["Query"].Fields.ForName("projects"); f == nil || f.Arguments.ForName("fullPaths") == nil {
		t.Error("Query.projects(fullPaths:) missing")
	}
}

// Queries GitLab would reject must be rejected here: the point of the
// schema is that a typo or a field of another version fails in tests.
func TestValidateRejects(t *testing.T) {
	for name, tc := range map[string]struct{ q, want string }{
		"unknown field":      {`{ project(fullPath: "a/b") { ciJobTokenScopeAllowList { projectsAllowlist { count } } } }`, `Cannot query field "ciJobTokenScopeAllowList"`},
		"unknown argument":   {`{ projects(fullPath: ["a/b"]) { nodes { id } } }`, `Unknown argument "fullPath"`},
		"missing required":   {`{ project(fullPath: "a/b") { repository { blobs { nodes { path } } } } }`, `argument "paths" of type "[String!]!" is required`},
		"bad enum":           {`mutation { ciJobTokenScopeUpdatePolicies(input: {projectPath: "a", targetPath: "b", defaultPermissions: false, jobTokenPolicies: [ADMIN_REPOSITORIES]}) { errors } }`, `ADMIN_REPOSITORIES`},
		"union without frag": {`{ project(fullPath: "a") { ciJobTokenScopeAllowlist { projectsAllowlist { nodes { target { fullPath } } } } } }`, `Cannot query field "fullPath" on type "CiJobTokenScopeTarget"`},
		"syntax":             {`{ project(fullPath: "a") { id }`, `line 1`},
	} {
		_, err := Validate(name, tc.q)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want it to contain %q", name, err, tc.want)
		}
	}
}

func mustValidate(t *testing.T, q string) {
	t.Helper()
	if _, err := Validate("q", q); err != nil {
		t.Fatal(err)
	}
}

// Figures follow Types::BaseField's formula by hand; each case changes one
// input so that a wrong rule fails one case.
func TestComplexity(t *testing.T) {
	for _, tc := range []struct {
		name string
		q    string
		vars map[string]any
		want int
	}{
		// project 1 + id 1
		{"plain", `{ project(fullPath: "a") { id } }`, nil, 2},
		// rootRef calls Gitaly: 2; repository 1; project 1
		{"gitaly", `{ project(fullPath: "a") { repository { rootRef } } }`, nil, 4},
		// blobs: children nodes(1+path 1)=2, +1 resolver, +2 paths, +1 gitaly = 6; first 2 -> 6*(1+0.02) = 6.12 -> 6
		// repository 1, project 1
		{"blobs per path", `{ project(fullPath: "a") { repository { blobs(paths: ["x", "y"], first: 2) { nodes { path } } } } }`, nil, 8},
		// no first: limit 100 doubles: (2+1+2+1)*2 = 12
		{"blobs full page", `{ project(fullPath: "a") { repository { blobs(paths: ["x", "y"]) { nodes { path } } } } }`, nil, 14},
		// projects: children nodes(1+fullPath 1)=2 +1 = 3, first 50: 3*1.5 = 4.5 -> 4
		{"projects multiplier from variables", `query Q($n: Int) { projects(fullPaths: ["a"], first: $n) { nodes { fullPath } } }`, map[string]any{"n": float64(50)}, 4},
		// union: the costlier member counts once: target 1 + max(1, 1) = 2; nodes 1+2 = 3; projectsAllowlist 1+3 = 4 (no multiplier); allowlist 1+4; project 1
		{"union", `{ project(fullPath: "a") { ciJobTokenScopeAllowlist { projectsAllowlist { nodes { target { ... on CiJobTokenAccessibleProject { fullPath } ... on CiJobTokenAccessibleGroup { fullPath } } } } } } }`, nil, 6},
		{"typename free", `{ project(fullPath: "a") { __typename id } }`, nil, 2},
	} {
		doc, err := Validate(tc.name, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Complexity(doc, "", tc.vars)
		if err != nil || got != tc.want {
			t.Errorf("%s: complexity = %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
}

func TestDepth(t *testing.T) {
	doc, err := Validate("d", `query { project(fullPath: "a") { repository { tree(recursive: true) { blobs { nodes { path } } } } } }`)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := Depth(doc, ""); d != 6 {
		t.Errorf("depth = %d; want 6", d)
	}
	mustValidate(t, `fragment F on Project { id } query { project(fullPath: "a") { ...F } }`)
	doc, _ = Validate("f", `fragment F on Project { repository { rootRef } } query { project(fullPath: "a") { ...F } }`)
	if d, _ := Depth(doc, ""); d != 3 {
		t.Errorf("depth through a fragment = %d; want 3", d)
	}
	if _, err := Depth(doc, "Nope"); err == nil {
		t.Error("unknown operation name accepted")
	}
}

func TestMessages(t *testing.T) {
	if got := ComplexityError(300, 250); got != "Query has complexity of 300, which exceeds max complexity of 250" {
		t.Error(got)
	}
	if got := DepthError(21, 20); got != "Query has depth of 21, which exceeds max depth of 20" {
		t.Error(got)
	}
}

// IntArg serves both the complexity count and the simulator's page sizes,
// so it must read first/last however they arrive.
func TestIntArg(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want int
		ok   bool
	}{
		{"query literal (gqlparser)", int64(50), 50, true},
		{"variable (encoding/json)", float64(20), 20, true},
		{"variable (UseNumber)", json.Number("7"), 7, true},
		{"fractional json.Number", json.Number("7.5"), 0, false},
		{"Go caller", 3, 3, true},
		{"null", nil, 0, false},
		{"string", "5", 0, false},
	} {
		if got, ok := IntArg(tc.v); got != tc.want || ok != tc.ok {
			t.Errorf("%s: IntArg(%#v) = %d, %v; want %d, %v", tc.name, tc.v, got, ok, tc.want, tc.ok)
		}
	}
}
