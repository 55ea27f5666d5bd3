package sim_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/tokenscope/tokenscope/internal/gitlab/schema"
	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
	"github.com/tokenscope/tokenscope/internal/inventory"
)

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Data   map[string]any `json:"data"`
	Errors []gqlError     `json:"errors"`
}

// gql sends a query with client-go's GraphQL.Do and decodes the answer.
func gql(t *testing.T, c *gitlab.Client, query string, vars map[string]any) gqlResponse {
	t.Helper()
	var out gqlResponse
	if _, err := c.GraphQL.Do(gitlab.GraphQLQuery{Query: query, Variables: vars}, &out); err != nil {
		t.Fatalf("GraphQL.Do: %v", err)
	}
	return out
}

// dig walks a decoded JSON value by keys and list indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func errorMessages(errs []gqlError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Message)
	}
	return out
}

// Queries GitLab would refuse are refused with graphql-ruby's messages,
// HTTP 200 and no data.
func TestGraphQLValidationErrors(t *testing.T) {
	_, base := start(t, sim.Options{})
	c, rec := client(t, base, tokMaint)
	for _, tc := range []struct {
		name, query, want, code string
	}{
		{"unknown field", `{ project(fullPath: "apps/web") { ciJobTokenScopeAllowList { projectsAllowlist { count } } } }`,
			"Field 'ciJobTokenScopeAllowList' doesn't exist on type 'Project'", "undefinedField"},
		{"unknown argument", `{ projects(fullPath: ["apps/web"]) { nodes { id } } }`,
			"Field 'projects' doesn't accept argument 'fullPath'", "argumentNotAccepted"},
		{"missing argument", `{ project(fullPath: "apps/web") { repository { blobs { nodes { path } } } } }`,
			"Field 'blobs' is missing required arguments: paths", "missingRequiredArguments"},
		{"selection on a union", `{ project(fullPath: "a") { ciJobTokenScopeAllowlist { projectsAllowlist { nodes { target { fullPath } } } } } }`,
			"Selections can't be made directly on unions (see selections on CiJobTokenScopeTarget)", "selectionMismatch"},
		{"scalar with selections", `{ project(fullPath: "a") { fullPath { x } } }`,
			"Selections can't be made on scalars (field 'fullPath' returns ID but has selections [...])", "selectionMismatch"},
		{"object without selections", `{ project(fullPath: "a") }`,
			"Field must have selections (field 'project' returns Project but has no selections. Did you mean 'project { ... }'?)", "selectionMismatch"},
		{"no query", ``, "No query string was present", ""},
		{"two operations, no name", `query A { metadata { version } } query B { metadata { version } }`, "An operation name is required", ""},
	} {
		res := gql(t, c, tc.query, nil)
		if status, _ := rec.last(); status != 200 {
			t.Errorf("%s: HTTP %d; want 200", tc.name, status)
		}
		if res.Data != nil || len(res.Errors) != 1 || res.Errors[0].Message != tc.want || tc.code != "" && res.Errors[0].Extensions["code"] != tc.code {
			t.Errorf("%s: %+v; want only the error %q (%s)", tc.name, res, tc.want, tc.code)
		}
	}
	// Introspection is refused with a clear message, not a wrong answer.
	if res := gql(t, c, `{ __schema { queryType { name } } }`, nil); len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "introspection (__schema) is not simulated") {
		t.Errorf("introspection: %+v", res)
	}
	// A syntax error fails too, with a location.
	res := gql(t, c, `{ project(fullPath: "a") { id }`, nil)
	if len(res.Errors) != 1 || res.Data != nil {
		t.Errorf("syntax error: %+v", res)
	}
	if _, body := rec.last(); !strings.Contains(body, `"locations":[{"line":1`) {
		t.Errorf("syntax error without location: %s", body)
	}
}

func TestGraphQLAuthAndSize(t *testing.T) {
	_, base := start(t, sim.Options{})
	bad, rec := client(t, base, "glpat-wrong")
	var out gqlResponse
	if _, err := bad.GraphQL.Do(gitlab.GraphQLQuery{Query: `{ metadata { version } }`}, &out); err == nil {
		t.Error("invalid token accepted")
	}
	wantResponse(t, rec, 401, `{"errors":[{"message":"Invalid token"}]}`)
	// Anonymous requests run, without metadata.
	anon, _ := client(t, base, "")
	res := gql(t, anon, `{ metadata { version } project(fullPath: "libs/jslib") { fullPath } }`, nil)
	if dig(res.Data, "metadata") != nil || dig(res.Data, "project", "fullPath") != "libs/jslib" || len(res.Errors) != 0 {
		t.Errorf("anonymous = %+v", res)
	}
	c, rec := client(t, base, tokMaint)
	huge := `{ metadata { version } }` + strings.Repeat(" ", 10_000)
	if _, err := c.GraphQL.Do(gitlab.GraphQLQuery{Query: huge}, &out); err == nil {
		t.Error("query above 10,000 characters accepted")
	}
	wantResponse(t, rec, 422, `{"errors":[{"message":"Query too large"}]}`)
}

// aliases builds a query of n aliased project lookups: complexity 2n.
func aliases(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " a%d: project(fullPath: \"libs/jslib\") { id }", i)
	}
	b.WriteString(" }")
	return b.String()
}

// nested builds a query of the given depth (at least 3) by repeating
// ciCdSettings { project { ... } }, two levels each.
func nested(depth int) string {
	inner, d := "id", 2 // project { id }
	if depth%2 == 1 {
		inner, d = "repository { rootRef }", 3
	}
	for ; d < depth; d += 2 {
		inner = "ciCdSettings { project { " + inner + " } }"
	}
	return `{ project(fullPath: "apps/web") { ` + inner + ` } }`
}

func TestGraphQLComplexityAndDepthLimits(t *testing.T) {
	_, base := start(t, sim.Options{})
	maint, _ := client(t, base, tokMaint)
	admin, _ := client(t, base, tokAdmin)
	anon, _ := client(t, base, "")
	for _, tc := range []struct {
		name  string
		c     *gitlab.Client
		query string
		want  string
	}{
		{"authenticated over 250", maint, aliases(130), "Query has complexity of 260, which exceeds max complexity of 250"},
		{"admin up to 300", admin, aliases(130), ""},
		{"admin over 300", admin, aliases(151), "Query has complexity of 302, which exceeds max complexity of 300"},
		{"anonymous over 200", anon, aliases(101), "Query has complexity of 202, which exceeds max complexity of 200"},
		{"authenticated under 250", maint, aliases(125), ""},
	} {
		res := gql(t, tc.c, tc.query, nil)
		got := strings.Join(errorMessages(res.Errors), "; ")
		if got != tc.want || (tc.want != "") != (res.Data == nil) {
			t.Errorf("%s: errors %q, data %v; want %q", tc.name, got, res.Data != nil, tc.want)
		}
	}
	for _, tc := range []struct {
		name  string
		c     *gitlab.Client
		depth int
		want  string
	}{
		{"depth 20 allowed", maint, 20, ""},
		{"depth 21 refused", maint, 21, "Query has depth of 21, which exceeds max depth of 20"},
		{"anonymous depth 16 refused", anon, 16, "Query has depth of 16, which exceeds max depth of 15"},
	} {
		q := nested(tc.depth)
		doc, err := schema.Validate(tc.name, q)
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := schema.Depth(doc, ""); d != tc.depth {
			t.Fatalf("%s: built depth %d", tc.name, d)
		}
		res := gql(t, tc.c, q, nil)
		if got := strings.Join(errorMessages(res.Errors), "; "); got != tc.want {
			t.Errorf("%s: errors %q; want %q", tc.name, got, tc.want)
		}
	}
	// The client's own batch query at its largest stays within the limit
	// (50 projects, 50 policies entries each): the point of the limits.
	q := readClientQuery(t, "job_token_settings")
	res := gql(t, maint, q, map[string]any{"fullPaths": []string{"apps/web"}, "first": 50, "authLogFirst": 20})
	if len(res.Errors) != 0 {
		t.Errorf("job_token_settings with 50 per page: %v", errorMessages(res.Errors))
	}
}

func readClientQuery(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "queries", name+".graphql"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// The client's job token query answers from the org: policies, groups,
// the auth log newest first, and per-project denials.
func TestGraphQLJobTokenSettingsQuery(t *testing.T) {
	_, base := start(t, sim.Options{})
	c, _ := client(t, base, tokMaint)
	q := readClientQuery(t, "job_token_settings")
	res := gql(t, c, q, map[string]any{"fullPaths": []string{"platform/build-scripts", "platform/base-images", "libs/jslib", "nope/nope"}, "first": 50, "authLogFirst": 1})
	if len(res.Errors) != 0 {
		t.Fatalf("errors: %v", errorMessages(res.Errors))
	}
	byPath := map[string]any{}
	for _, n := range dig(res.Data, "projects", "nodes").([]any) {
		byPath[dig(n, "fullPath").(string)] = n
	}
	if len(byPath) != 3 {
		t.Fatalf("projects %v; want the three that exist", byPath)
	}
	images := byPath["platform/base-images"]
	entry := dig(images, "ciJobTokenScopeAllowlist", "projectsAllowlist", "nodes", 0)
	if dig(entry, "target", "fullPath") != "apps/web" || dig(entry, "defaultPermissions") != false || fmt.Sprint(dig(entry, "jobTokenPolicies")) != "[READ_JOBS READ_PACKAGES]" || dig(entry, "direction") != "inbound" {
		t.Errorf("base-images entry = %v", entry)
	}
	scripts := byPath["platform/build-scripts"]
	if dig(scripts, "ciCdSettings", "inboundJobTokenScopeEnabled") != true || dig(scripts, "ciJobTokenScopeAllowlist", "groupsAllowlist", "nodes", 0, "target", "fullPath") != "apps" {
		t.Errorf("build-scripts = %v", scripts)
	}
	logs := dig(byPath["libs/jslib"], "ciJobTokenAuthLogs")
	if dig(logs, "count") != float64(2) || dig(logs, "nodes", 0, "originProject", "fullPath") != "apps/web" || dig(logs, "nodes", 0, "lastAuthorizedAt") != "2026-11-20T08:15:00Z" || dig(logs, "pageInfo", "hasNextPage") != true {
		t.Errorf("auth log page = %v", logs)
	}
	// Follow the cursor with the client's next-page query.
	next := gql(t, c, readClientQuery(t, "auth_log_page"), map[string]any{"fullPath": "libs/jslib", "after": dig(logs, "pageInfo", "endCursor")})
	if dig(next.Data, "project", "ciJobTokenAuthLogs", "nodes", 0, "originProject", "fullPath") != "apps/team/api" || dig(next.Data, "project", "ciJobTokenAuthLogs", "pageInfo", "hasNextPage") != false {
		t.Errorf("second auth log page = %v %v", next.Data, errorMessages(next.Errors))
	}

	// A developer gets nulls: with an error for the job token resolvers,
	// silently for ciCdSettings.
	dev, _ := client(t, base, tokDev)
	res = gql(t, dev, q, map[string]any{"fullPaths": []string{"platform/base-images"}, "first": 10, "authLogFirst": 10})
	node := dig(res.Data, "projects", "nodes", 0)
	if node == nil || dig(node, "ciCdSettings") != nil || dig(node, "ciJobTokenScopeAllowlist") != nil {
		t.Errorf("developer node = %v", node)
	}
	if len(res.Errors) != 2 || res.Errors[0].Message != "The resource that you are attempting to access does not exist or you don't have permission to perform this action" ||
		fmt.Sprint(res.Errors[0].Path) != "[projects nodes 0 ciJobTokenScopeAllowlist]" {
		t.Errorf("developer errors = %+v", res.Errors)
	}
}

func TestGraphQLFilesQuery(t *testing.T) {
	_, base := start(t, sim.Options{})
	c, _ := client(t, base, tokMaint)
	res := gql(t, c, readClientQuery(t, "project_trees_and_files"), map[string]any{
		"fullPaths": []string{"platform/build-scripts", "libs/pylib"}, "first": 50,
		"paths": []string{".gitlab-ci.yml", "scripts/lib/binary.bin", "missing.yml"}, "blobsFirst": 10,
	})
	if len(res.Errors) != 0 {
		t.Fatalf("errors: %v", errorMessages(res.Errors))
	}
	nodes := dig(res.Data, "projects", "nodes").([]any)
	var scripts, pylib any
	for _, n := range nodes {
		switch dig(n, "fullPath") {
		case "platform/build-scripts":
			scripts = n
		case "libs/pylib":
			pylib = n
		}
	}
	var tree []string
	for _, b := range dig(scripts, "repository", "tree", "blobs", "nodes").([]any) {
		tree = append(tree, dig(b, "path").(string))
	}
	if !slices.Equal(tree, []string{".gitlab-ci.yml", "README.md", "scripts/build.sh", "scripts/lib/binary.bin", "scripts/lib/common.sh"}) {
		t.Errorf("tree = %v", tree)
	}
	blobs := dig(scripts, "repository", "blobs", "nodes").([]any)
	if len(blobs) != 2 || dig(blobs, 0, "rawTextBlob") != "build:\n  script: [./scripts/build.sh]\n" || dig(blobs, 1, "path") != "scripts/lib/binary.bin" || dig(blobs, 1, "rawTextBlob") != nil {
		t.Errorf("blobs = %v", blobs)
	}
	// An empty repository has no tree.
	if dig(pylib, "repository", "tree") != nil || len(dig(pylib, "repository", "blobs", "nodes").([]any)) != 0 {
		t.Errorf("empty repository = %v", pylib)
	}
}

// Cursor pagination walks every project of a group, 7 at a time.
func TestGraphQLPagination(t *testing.T) {
	_, base := start(t, sim.Options{})
	c, _ := client(t, base, tokMaint)
	const q = `query($after: String) { group(fullPath: "libs") { projects(first: 7, after: $after) { count nodes { fullPath } pageInfo { hasNextPage endCursor } } } }`
	var got []string
	var after any
	pages := 0
	for {
		res := gql(t, c, q, map[string]any{"after": after})
		conn := dig(res.Data, "group", "projects")
		for _, n := range dig(conn, "nodes").([]any) {
			got = append(got, dig(n, "fullPath").(string))
		}
		pages++
		if dig(conn, "pageInfo", "hasNextPage") != true {
			break
		}
		after = dig(conn, "pageInfo", "endCursor")
	}
	if len(got) != genProjects+2 || pages != 7 || len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(got) {
		t.Errorf("walked %d projects in %d pages", len(got), pages)
	}
	// includeSubgroups, includeArchived and descendantGroups.
	res := gql(t, c, `{ group(fullPath: "apps") {
		direct: projects { nodes { fullPath } }
		all: projects(includeSubgroups: true, includeArchived: false) { nodes { fullPath } }
		descendantGroups { nodes { fullPath } }
	} }`, nil)
	var direct, all []string
	for _, n := range dig(res.Data, "group", "direct", "nodes").([]any) {
		direct = append(direct, dig(n, "fullPath").(string))
	}
	for _, n := range dig(res.Data, "group", "all", "nodes").([]any) {
		all = append(all, dig(n, "fullPath").(string))
	}
	if fmt.Sprint(direct) != "[apps/old apps/web]" || fmt.Sprint(all) != "[apps/team/api apps/web]" || dig(res.Data, "group", "descendantGroups", "nodes", 0, "fullPath") != "apps/team" {
		t.Errorf("group projects: direct %v, with subgroups %v, %v", direct, all, errorMessages(res.Errors))
	}
	res = gql(t, c, q, map[string]any{"after": "not-a-cursor"})
	if len(res.Errors) != 1 || res.Errors[0].Message != "Please provide a valid cursor" {
		t.Errorf("bad cursor: %+v", res.Errors)
	}
	res = gql(t, c, `{ projects(fullPaths: [`+strings.Repeat(`"a/b", `, 51)+`]) { nodes { id } } }`, nil)
	if len(res.Errors) != 1 || res.Errors[0].Message != "You cannot provide more than 50 full_paths" || dig(res.Data, "projects") != nil {
		t.Errorf("51 full paths: %+v", res)
	}
}

const addMutation = `mutation($project: ID!, $target: ID!, $policies: [CiJobTokenScopePolicies!]) {
  ciJobTokenScopeAddGroupOrProject(input: {projectPath: $project, targetPath: $target, defaultPermissions: false, jobTokenPolicies: $policies}) {
    errors
    ciJobTokenScopeAllowlistEntry { target { ... on CiJobTokenAccessibleProject { fullPath } ... on CiJobTokenAccessibleGroup { fullPath } } defaultPermissions jobTokenPolicies }
  }
}`

func TestGraphQLMutations(t *testing.T) {
	s, base := start(t, sim.Options{})
	c, _ := client(t, base, tokMaint)
	mutate := func(q string, vars map[string]any, field string) (any, []string) {
		t.Helper()
		res := gql(t, c, q, vars)
		if len(res.Errors) != 0 {
			t.Fatalf("%s: top-level errors %v", field, errorMessages(res.Errors))
		}
		p := dig(res.Data, field)
		var errs []string
		for _, e := range dig(p, "errors").([]any) {
			errs = append(errs, e.(string))
		}
		return p, errs
	}
	p, errs := mutate(addMutation, map[string]any{"project": "libs/jslib", "target": "apps/web", "policies": []string{"READ_PACKAGES"}}, "ciJobTokenScopeAddGroupOrProject")
	if len(errs) != 0 || dig(p, "ciJobTokenScopeAllowlistEntry", "target", "fullPath") != "apps/web" || fmt.Sprint(dig(p, "ciJobTokenScopeAllowlistEntry", "jobTokenPolicies")) != "[READ_PACKAGES]" {
		t.Errorf("add = %v %v", p, errs)
	}
	// A group path is a group, even where a project could match.
	if _, errs := mutate(addMutation, map[string]any{"project": "libs/jslib", "target": "apps/team"}, "ciJobTokenScopeAddGroupOrProject"); len(errs) != 0 {
		t.Errorf("add group: %v", errs)
	}
	for _, tc := range []struct{ target, want string }{
		{"apps/web", "This project is already in the job token allowlist."},
		{"apps/nope", "The group or project does not exist."},
	} {
		p, errs := mutate(addMutation, map[string]any{"project": "libs/jslib", "target": tc.target}, "ciJobTokenScopeAddGroupOrProject")
		if !slices.Equal(errs, []string{tc.want}) || dig(p, "ciJobTokenScopeAllowlistEntry") != nil {
			t.Errorf("add %s: %v %v; want %q", tc.target, p, errs, tc.want)
		}
	}
	const update = `mutation { ciJobTokenScopeUpdatePolicies(input: {projectPath: "libs/jslib", targetPath: "apps/web", defaultPermissions: false, jobTokenPolicies: [READ_JOBS, READ_REPOSITORIES]}) { errors ciJobTokenScopeAllowlistEntry { jobTokenPolicies } } }`
	if p, errs := mutate(update, nil, "ciJobTokenScopeUpdatePolicies"); len(errs) != 0 || fmt.Sprint(dig(p, "ciJobTokenScopeAllowlistEntry", "jobTokenPolicies")) != "[READ_JOBS READ_REPOSITORIES]" {
		t.Errorf("update = %v %v", p, errs)
	}
	// Without direction the mutation removes an outbound entry, which the
	// inbound one is not.
	const removeDefault = `mutation { ciJobTokenScopeRemoveProject(input: {projectPath: "libs/jslib", targetProjectPath: "apps/web"}) { errors } }`
	if _, errs := mutate(removeDefault, nil, "ciJobTokenScopeRemoveProject"); !slices.Equal(errs, []string{"Target project is not in the job token scope"}) {
		t.Errorf("remove without direction: %v", errs)
	}
	inv := s.Export()
	jslib := findProject(t, inv.Projects, "libs/jslib")
	if len(jslib.JobTokenScope.Allowlist.Projects) != 1 || fmt.Sprint(jslib.JobTokenScope.Allowlist.Projects[0].Policies) != "[read_jobs read_repositories]" || len(jslib.JobTokenScope.Allowlist.Groups) != 1 {
		t.Errorf("exported jslib scope = %+v", jslib.JobTokenScope)
	}
	const removeInbound = `mutation { ciJobTokenScopeRemoveProject(input: {projectPath: "libs/jslib", targetProjectPath: "apps/web", direction: INBOUND}) { errors ciJobTokenScope { inboundAllowlistCount } } }`
	if p, errs := mutate(removeInbound, nil, "ciJobTokenScopeRemoveProject"); len(errs) != 0 || dig(p, "ciJobTokenScope", "inboundAllowlistCount") != float64(1) {
		t.Errorf("remove inbound = %v %v", p, errs)
	}
	const removeGroup = `mutation { ciJobTokenScopeRemoveGroup(input: {projectPath: "libs/jslib", targetGroupPath: "apps/team"}) { errors ciJobTokenScope { groupsAllowlistCount } } }`
	if p, errs := mutate(removeGroup, nil, "ciJobTokenScopeRemoveGroup"); len(errs) != 0 || dig(p, "ciJobTokenScope", "groupsAllowlistCount") != float64(0) {
		t.Errorf("remove group = %v %v", p, errs)
	}
	const settings = `mutation { projectCiCdSettingsUpdate(input: {fullPath: "libs/jslib", inboundJobTokenScopeEnabled: true}) { errors ciCdSettings { inboundJobTokenScopeEnabled } } }`
	if p, errs := mutate(settings, nil, "projectCiCdSettingsUpdate"); len(errs) != 0 || dig(p, "ciCdSettings", "inboundJobTokenScopeEnabled") != true {
		t.Errorf("settings = %v %v", p, errs)
	}
	const autopopulate = `mutation { ciJobTokenScopeAutopopulateAllowlist(input: {projectPath: "libs/jslib"}) { status errors } }`
	if p, errs := mutate(autopopulate, nil, "ciJobTokenScopeAutopopulateAllowlist"); len(errs) != 0 || dig(p, "status") != "complete" {
		t.Errorf("autopopulate = %v %v", p, errs)
	}
	jslib = findProject(t, s.Export().Projects, "libs/jslib")
	if !jslib.JobTokenScope.InboundEnabled || len(jslib.JobTokenScope.Allowlist.Projects) != 2 || !jslib.JobTokenScope.Allowlist.Projects[0].Autopopulated {
		t.Errorf("after settings and autopopulate: %+v", jslib.JobTokenScope)
	}

	// A developer is refused at the top level, data null for the field.
	dev, _ := client(t, base, tokDev)
	res := gql(t, dev, settings, nil)
	if !slices.Equal(errorMessages(res.Errors), []string{"The resource that you are attempting to access does not exist or you don't have permission to perform this action"}) || dig(res.Data, "projectCiCdSettingsUpdate") != nil || fmt.Sprint(res.Errors[0].Path) != "[projectCiCdSettingsUpdate]" {
		t.Errorf("developer mutation = %+v", res)
	}
}

func findProject(t *testing.T, ps []*inventory.Project, path string) *inventory.Project {
	t.Helper()
	for _, p := range ps {
		if p.Path == path {
			return p
		}
	}
	t.Fatalf("no project %s", path)
	return nil
}

// Older versions lack fields, arguments, enum values and the policies
// flag, and refuse them as GitLab of that version did.
func TestGraphQLVersionGating(t *testing.T) {
	for _, tc := range []struct {
		version, query string
		vars           map[string]any
		want           string
	}{
		{"17.5", `{ project(fullPath: "apps/web") { ciJobTokenScopeAllowlist { projectsAllowlist { count } } } }`, nil,
			"Field 'ciJobTokenScopeAllowlist' doesn't exist on type 'Project'"},
		{"16.5", `{ projects(fullPaths: ["apps/web"]) { nodes { id } } }`, nil,
			"Field 'projects' doesn't accept argument 'fullPaths'"},
		{"17.7", `mutation { ciJobTokenScopeAddGroupOrProject(input: {projectPath: "libs/jslib", targetPath: "apps/web", defaultPermissions: false}) { errors } }`, nil,
			"InputObject 'CiJobTokenScopeAddGroupOrProjectInput' doesn't accept argument 'defaultPermissions'"},
		{"18.3", `mutation { ciJobTokenScopeUpdatePolicies(input: {projectPath: "libs/jslib", targetPath: "apps/web", defaultPermissions: false, jobTokenPolicies: [READ_REPOSITORIES]}) { errors } }`, nil,
			"Argument 'jobTokenPolicies' on InputObject 'CiJobTokenScopeUpdatePoliciesInput' has an invalid value (READ_REPOSITORIES). Expected type 'CiJobTokenScopePolicies'."},
		{"18.3", addMutation, map[string]any{"project": "libs/jslib", "target": "apps/web", "policies": []string{"READ_JOBS", "READ_WORK_ITEMS"}},
			`Variable $policies of type [CiJobTokenScopePolicies!] was provided invalid value for 1 (Expected "READ_WORK_ITEMS" to be one of: READ_CONTAINERS, ADMIN_CONTAINERS, READ_DEPLOYMENTS, ADMIN_DEPLOYMENTS, READ_ENVIRONMENTS, ADMIN_ENVIRONMENTS, READ_JOBS, ADMIN_JOBS, READ_PACKAGES, ADMIN_PACKAGES, READ_RELEASES, ADMIN_RELEASES, READ_SECURE_FILES, ADMIN_SECURE_FILES, READ_TERRAFORM_STATE, ADMIN_TERRAFORM_STATE)`},
		{"18.2", `mutation { ciJobTokenScopeUpdatePolicies(input: {projectPath: "libs/jslib", targetPath: "apps/web", defaultPermissions: false, jobTokenPolicies: [READ_JOBS]}) { errors } }`, nil,
			"`add_policies_to_ci_job_token` feature flag is disabled."},
	} {
		_, base := start(t, sim.Options{Version: tc.version})
		c, _ := client(t, base, tokMaint)
		res := gql(t, c, tc.query, tc.vars)
		if got := strings.Join(errorMessages(res.Errors), "; "); got != tc.want {
			t.Errorf("%s: %q\n want %q", tc.version, got, tc.want)
		}
	}
	// What 18.5 has, 18.5 accepts.
	_, base := start(t, sim.Options{Version: "18.5"})
	c, _ := client(t, base, tokMaint)
	for _, name := range []string{"job_token_settings", "project_trees_and_files", "project_files", "project_tree_page", "auth_log_page"} {
		doc, err := schema.Validate(name, readClientQuery(t, name))
		if err != nil {
			t.Fatal(err)
		}
		vars := map[string]any{}
		for _, v := range doc.Operations[0].VariableDefinitions {
			switch v.Type.Name() {
			case "Int":
				vars[v.Variable] = 10
			case "String", "ID":
				if v.Type.Elem != nil {
					vars[v.Variable] = []string{"apps/web"}
				} else if v.Type.NonNull {
					vars[v.Variable] = "apps/web"
				}
			}
		}
		if res := gql(t, c, readClientQuery(t, name), vars); len(res.Errors) != 0 {
			t.Errorf("%s at 18.5: %v", name, errorMessages(res.Errors))
		}
	}
}

// An Apollo-style batch answers each query and counts them together
// against the complexity limit.
func TestGraphQLBatch(t *testing.T) {
	s, base := start(t, sim.Options{})
	body := `[{"query":"query One { metadata { version } }"},{"query":"query Two { project(fullPath: \"apps/web\") { fullPath } }"}]`
	status, resp := raw(t, "POST", base+"/api/graphql", tokMaint, body)
	var out []gqlResponse
	if err := json.Unmarshal([]byte(resp), &out); err != nil || status != 200 || len(out) != 2 {
		t.Fatalf("batch = %d %s", status, resp)
	}
	if dig(out[0].Data, "metadata", "version") != "18.5" || dig(out[1].Data, "project", "fullPath") != "apps/web" {
		t.Errorf("batch results = %+v", out)
	}
	if st := s.Stats(); st.GraphQLOperations["One"] != 1 || st.GraphQLOperations["Two"] != 1 || st.ByRoute["POST /api/graphql"] != 1 {
		t.Errorf("stats = %+v", st)
	}
	half := strings.ReplaceAll(aliases(70), `"`, `\"`)
	status, resp = raw(t, "POST", base+"/api/graphql", tokMaint, `[{"query":"`+half+`"},{"query":"`+half+`"}]`)
	if status != 200 || strings.Count(resp, "Query has complexity of 280, which exceeds max complexity of 250") != 2 {
		t.Errorf("batch over the limit = %d %s", status, resp)
	}
}
