package sim_test

import (
	"fmt"
	"slices"
	"testing"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
	"github.com/tokenscope/tokenscope/internal/inventory"
)

// check is one call of the table tests: it runs the client-go call and
// compares the status and exact body GitLab would send.
type check struct {
	name   string
	call   func() error
	status int
	body   string
}

func runChecks(t *testing.T, rec *recorder, checks []check) {
	t.Helper()
	for _, ch := range checks {
		err := ch.call()
		status, body := rec.last()
		if (err == nil) != (status < 300) {
			t.Errorf("%s: client-go error %v with status %d", ch.name, err, status)
		}
		if status != ch.status || ch.body != "*" && body != ch.body {
			t.Errorf("%s: %d %s; want %d %s", ch.name, status, body, ch.status, ch.body)
		}
	}
}

// The instance setting is off here (an administrator turned it off; 18.0+
// turns it on by default), so the project setting decides.
func TestJobTokenScopeSettings(t *testing.T) {
	_, base := start(t, sim.Options{InstanceEnforcesAllowlist: ptr(false)})
	maint, rec := client(t, base, tokMaint)
	s, _, err := maint.JobTokenScope.GetProjectJobTokenAccessSettings("platform/build-scripts")
	if err != nil || !s.InboundEnabled {
		t.Fatalf("settings = %+v, %v", s, err)
	}
	wantResponse(t, rec, 200, `{"inbound_enabled":true,"outbound_enabled":false}`)
	dev, devRec := client(t, base, tokDev)
	runChecks(t, devRec, []check{
		{"developer GET", func() error { _, _, err := dev.JobTokenScope.GetProjectJobTokenAccessSettings(102); return err }, 403, `{"message":"403 Forbidden"}`},
		{"developer PATCH", func() error {
			_, err := dev.JobTokenScope.PatchProjectJobTokenAccessSettings(102, &gitlab.PatchProjectJobTokenAccessSettingsOptions{Enabled: false})
			return err
		}, 403, `{"message":"403 Forbidden"}`},
		{"unknown project", func() error { _, _, err := dev.JobTokenScope.GetProjectJobTokenAccessSettings(424242); return err }, 404, `{"message":"404 Project Not Found"}`},
	})
	runChecks(t, rec, []check{
		{"PATCH off", func() error {
			_, err := maint.JobTokenScope.PatchProjectJobTokenAccessSettings(102, &gitlab.PatchProjectJobTokenAccessSettingsOptions{Enabled: false})
			return err
		}, 204, ""},
		{"GET after", func() error { _, _, err := maint.JobTokenScope.GetProjectJobTokenAccessSettings(102); return err }, 200, `{"inbound_enabled":false,"outbound_enabled":false}`},
	})
	for _, tc := range []struct{ body, want string }{
		{`{}`, `{"error":"enabled is missing"}`},
		{`{"enabled": null}`, `{"error":"enabled is empty"}`},
		{`{"enabled": 123}`, `{"error":"enabled is invalid"}`},
		{`{"outbound_scope_enabled": true}`, `{"error":"enabled is missing"}`},
	} {
		if status, body := raw(t, "PATCH", base+"/api/v4/projects/102/job_token_scope", tokMaint, tc.body); status != 400 || body != tc.want {
			t.Errorf("PATCH %s = %d %s; want 400 %s", tc.body, status, body, tc.want)
		}
	}
}

// With the instance setting on, inbound_enabled reads true and turning it
// off is refused.
func TestJobTokenScopeInstanceEnforcement(t *testing.T) {
	_, base := start(t, sim.Options{InstanceEnforcesAllowlist: ptr(true)})
	c, rec := client(t, base, tokMaint)
	runChecks(t, rec, []check{
		{"GET unset project", func() error { _, _, err := c.JobTokenScope.GetProjectJobTokenAccessSettings("apps/web"); return err }, 200, `{"inbound_enabled":true,"outbound_enabled":false}`},
		{"PATCH off", func() error {
			_, err := c.JobTokenScope.PatchProjectJobTokenAccessSettings("apps/web", &gitlab.PatchProjectJobTokenAccessSettingsOptions{Enabled: false})
			return err
		}, 400, `{"message":"400 Bad request - Job token scope cannot be disabled for this project because it is enforced for the instance."}`},
		{"PATCH on", func() error {
			_, err := c.JobTokenScope.PatchProjectJobTokenAccessSettings("apps/web", &gitlab.PatchProjectJobTokenAccessSettingsOptions{Enabled: true})
			return err
		}, 204, ""},
	})
}

func TestJobTokenProjectAllowlist(t *testing.T) {
	s, base := start(t, sim.Options{})
	c, rec := client(t, base, tokMaint)
	list, resp, err := c.JobTokenScope.GetProjectJobTokenInboundAllowList(102, nil)
	if err != nil || resp.TotalItems != 2 {
		t.Fatalf("allowlist = %v, %v", list, err)
	}
	if got := []int64{list[0].ID, list[1].ID}; !slices.Equal(got, []int64{102, 301}) || list[1].PathWithNamespace != "apps/web" || list[1].Namespace.FullPath != "apps" {
		t.Errorf("allowlist ids %v (%s); want the project itself and apps/web", got, list[1].PathWithNamespace)
	}
	add := func(c *gitlab.Client, src any, target int64) func() error {
		return func() error {
			item, _, err := c.JobTokenScope.AddProjectToJobScopeAllowList(src, &gitlab.JobTokenInboundAllowOptions{TargetProjectID: ptr(target)})
			if err == nil && (item.TargetProjectID != target || item.SourceProjectID == 0) {
				return fmt.Errorf("decoded %+v", item)
			}
			return err
		}
	}
	remove := func(c *gitlab.Client, src any, target int64) func() error {
		return func() error { _, err := c.JobTokenScope.RemoveProjectFromJobScopeAllowList(src, target); return err }
	}
	dev, devRec := client(t, base, tokDev)
	web, webRec := client(t, base, tokWebMaint)
	runChecks(t, rec, []check{
		{"add", add(c, 102, 201), 201, `{"source_project_id":102,"target_project_id":201}`},
		{"add duplicate", add(c, 102, 201), 400, `{"message":"400 Bad request - This project is already in the job token allowlist."}`},
		{"add self (18.x)", add(c, 102, 102), 201, `{"source_project_id":102,"target_project_id":102}`},
		{"add unknown target", add(c, 102, 99999), 404, `{"message":"404 target_project_id not found Not Found"}`},
		{"add to unknown project", add(c, 99999, 201), 404, `{"message":"404 Project Not Found"}`},
		{"remove", remove(c, 102, 301), 204, ""},
		{"remove not listed", remove(c, 102, 301), 400, `{"message":"400 Bad request - Target project is not in the job token scope"}`},
		{"remove source", remove(c, 102, 102), 400, `{"message":"400 Bad request - Source project cannot be removed from the job token scope"}`},
		{"remove nonexistent project", remove(c, 102, 99999), 404, `{"message":"404 Project Not Found"}`},
	})
	runChecks(t, devRec, []check{
		{"developer add", add(dev, 102, 202), 403, `{"message":"403 Forbidden"}`},
		{"developer list", func() error { _, _, err := dev.JobTokenScope.GetProjectJobTokenInboundAllowList(102, nil); return err }, 403, `{"message":"403 Forbidden"}`},
		{"developer remove", remove(dev, 102, 201), 403, `{"message":"403 Forbidden - Insufficient permissions to modify the job token scope"}`},
	})
	runChecks(t, webRec, []check{
		{"target not readable", add(web, 301, 102), 400, `{"message":"400 Bad request - The target_project that you are attempting to access does not exist or you don't have permission to perform this action"}`},
		{"remove invisible target", remove(web, 301, 102), 404, `{"message":"404 Project Not Found"}`},
	})
	for _, tc := range []struct{ method, path, body, want string }{
		{"POST", "/projects/102/job_token_scope/allowlist", `{}`, `{"error":"target_project_id is missing"}`},
		{"POST", "/projects/102/job_token_scope/allowlist", `{"target_project_id": null}`, `{"error":"target_project_id is invalid"}`},
		{"POST", "/projects/102/job_token_scope/allowlist", `{"target_project_id": ""}`, `{"error":"target_project_id is invalid"}`},
		{"POST", "/projects/102/job_token_scope/allowlist", `{"target_project_id": 12.34}`, `{"error":"target_project_id is invalid"}`},
		{"POST", "/projects/platform%2Fbuild-scripts/job_token_scope/allowlist", `{"target_project_id": 201}`, `{"error":"id is invalid"}`},
		{"DELETE", "/projects/102/job_token_scope/allowlist/abc", ``, `{"error":"target_project_id is invalid"}`},
	} {
		if status, body := raw(t, tc.method, base+"/api/v4"+tc.path, tokMaint, tc.body); status != 400 || body != tc.want {
			t.Errorf("%s %s %s = %d %s; want 400 %s", tc.method, tc.path, tc.body, status, body, tc.want)
		}
	}
	// The writes reached the state.
	got := s.Export()
	for _, p := range got.Projects {
		if p.Path != "platform/build-scripts" {
			continue
		}
		var paths []string
		for _, e := range p.JobTokenScope.Allowlist.Projects {
			paths = append(paths, e.Path)
		}
		if !slices.Equal(paths, []string{"libs/jslib", "platform/build-scripts"}) {
			t.Errorf("exported allowlist %v; want libs/jslib and the project itself", paths)
		}
	}
}

// Older GitLab refused self links and worded duplicates differently.
func TestJobTokenAllowlistOlderVersion(t *testing.T) {
	_, base := start(t, sim.Options{Version: "17.9"})
	c, rec := client(t, base, tokMaint)
	add := func(target int64) func() error {
		return func() error {
			_, _, err := c.JobTokenScope.AddProjectToJobScopeAllowList(102, &gitlab.JobTokenInboundAllowOptions{TargetProjectID: ptr(target)})
			return err
		}
	}
	addGroup := func(target int64) func() error {
		return func() error {
			_, _, err := c.JobTokenScope.AddGroupToJobTokenAllowlist(102, &gitlab.AddGroupToJobTokenAllowlistOptions{TargetGroupID: ptr(target)})
			return err
		}
	}
	runChecks(t, rec, []check{
		{"self", add(102), 400, `{"message":"400 Bad request - Validation failed: Target project can't be the same as the source project"}`},
		{"duplicate", add(301), 400, `{"message":"400 Bad request - Target project is already in the job token scope"}`},
		{"duplicate group", addGroup(30), 400, `{"message":"400 Bad request - Target group is already in the job token scope"}`},
	})
}

func TestJobTokenGroupAllowlist(t *testing.T) {
	_, base := start(t, sim.Options{})
	c, rec := client(t, base, tokMaint)
	groups, _, err := c.JobTokenScope.GetJobTokenAllowlistGroups(102, nil)
	if err != nil || len(groups) != 1 || groups[0].ID != 30 || groups[0].Name != "apps" || groups[0].WebURL != externalURL+"/groups/apps" {
		t.Fatalf("groups allowlist = %v, %v", groups, err)
	}
	wantResponse(t, rec, 200, fmt.Sprintf(`[{"id":30,"web_url":"%s/groups/apps","name":"apps"}]`, externalURL))
	add := func(c *gitlab.Client, target int64) func() error {
		return func() error {
			item, _, err := c.JobTokenScope.AddGroupToJobTokenAllowlist(102, &gitlab.AddGroupToJobTokenAllowlistOptions{TargetGroupID: ptr(target)})
			if err == nil && item.TargetGroupID != target {
				return fmt.Errorf("decoded %+v", item)
			}
			return err
		}
	}
	remove := func(c *gitlab.Client, target int64) func() error {
		return func() error { _, err := c.JobTokenScope.RemoveGroupFromJobTokenAllowlist(102, target); return err }
	}
	runChecks(t, rec, []check{
		{"add", add(c, 20), 201, `{"source_project_id":102,"target_group_id":20}`},
		{"add duplicate", add(c, 20), 400, `{"message":"400 Bad request - This group is already in the job token allowlist."}`},
		{"add unknown", add(c, 99999), 404, `{"message":"404 target_group_id not found Not Found"}`},
		{"remove", remove(c, 30), 204, ""},
		{"remove not listed", remove(c, 30), 400, `{"message":"400 Bad request - Target group is not in the job token scope"}`},
		{"remove unknown", remove(c, 99999), 404, `{"message":"404 target_group_id not found Not Found"}`},
	})
	dev, devRec := client(t, base, tokDev)
	runChecks(t, devRec, []check{
		{"developer list", func() error { _, _, err := dev.JobTokenScope.GetJobTokenAllowlistGroups(102, nil); return err }, 403, `{"message":"403 Forbidden"}`},
		{"developer add", add(dev, 10), 403, `{"message":"403 Forbidden"}`},
		{"developer remove", remove(dev, 20), 403, `{"message":"403 Forbidden - Insufficient permissions to modify the job token scope"}`},
	})
	web, webRec := client(t, base, tokWebMaint)
	runChecks(t, webRec, []check{
		{"group not readable", func() error {
			_, _, err := web.JobTokenScope.AddGroupToJobTokenAllowlist(301, &gitlab.AddGroupToJobTokenAllowlistOptions{TargetGroupID: ptr(int64(10))})
			return err
		}, 400, `{"message":"400 Bad request - The target_group that you are attempting to access does not exist or you don't have permission to perform this action"}`},
	})
}

// Every job token endpoint is behind authenticate!.
func TestJobTokenEndpointsNeedAuthentication(t *testing.T) {
	_, base := start(t, sim.Options{})
	for _, token := range []string{"", "glpat-invalid"} {
		for _, ep := range []struct{ method, path, body string }{
			{"GET", "/projects/102/job_token_scope", ""},
			{"PATCH", "/projects/102/job_token_scope", `{"enabled":true}`},
			{"GET", "/projects/102/job_token_scope/allowlist", ""},
			{"POST", "/projects/102/job_token_scope/allowlist", `{"target_project_id":201}`},
			{"DELETE", "/projects/102/job_token_scope/allowlist/301", ""},
			{"GET", "/projects/102/job_token_scope/groups_allowlist", ""},
			{"POST", "/projects/102/job_token_scope/groups_allowlist", `{"target_group_id":20}`},
			{"DELETE", "/projects/102/job_token_scope/groups_allowlist/30", ""},
		} {
			status, body := raw(t, ep.method, base+"/api/v4"+ep.path, token, ep.body)
			if status != 401 || body != `{"message":"401 Unauthorized"}` {
				t.Errorf("%s %s with token %v = %d %s; want 401", ep.method, ep.path, token != "", status, body)
			}
		}
	}
}

// limitOrg is an org where project 1 can be linked to 201 projects and 201
// groups.
func limitOrg() *inventory.Inventory {
	inv := &inventory.Inventory{Version: inventory.Version, GitLabVersion: "18.5"}
	inv.Projects = append(inv.Projects, &inventory.Project{Path: "src/app", ID: 1})
	for i := range 201 {
		inv.Projects = append(inv.Projects, &inventory.Project{Path: fmt.Sprintf("g%03d/p", i), ID: 100 + i})
		inv.Groups = append(inv.Groups, inventory.Group{Path: fmt.Sprintf("g%03d", i), ID: 1000 + i})
	}
	return inv
}

// The 200-link limits are separate for projects and groups.
func TestJobTokenAllowlistLimits(t *testing.T) {
	s, err := sim.New(limitOrg(), nil, sim.Options{Tokens: testTokens})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	c, rec := client(t, run.URL, tokAdmin)
	for i := range 200 {
		if _, _, err := c.JobTokenScope.AddProjectToJobScopeAllowList(1, &gitlab.JobTokenInboundAllowOptions{TargetProjectID: ptr(int64(100 + i))}); err != nil {
			t.Fatalf("project link %d: %v", i, err)
		}
		if _, _, err := c.JobTokenScope.AddGroupToJobTokenAllowlist(1, &gitlab.AddGroupToJobTokenAllowlistOptions{TargetGroupID: ptr(int64(1000 + i))}); err != nil {
			t.Fatalf("group link %d: %v", i, err)
		}
	}
	runChecks(t, rec, []check{
		{"201st project", func() error {
			_, _, err := c.JobTokenScope.AddProjectToJobScopeAllowList(1, &gitlab.JobTokenInboundAllowOptions{TargetProjectID: ptr(int64(300))})
			return err
		}, 400, `{"message":"400 Bad request - Validation failed: Source project exceeds the allowable number of project links in this direction"}`},
		{"201st group", func() error {
			_, _, err := c.JobTokenScope.AddGroupToJobTokenAllowlist(1, &gitlab.AddGroupToJobTokenAllowlistOptions{TargetGroupID: ptr(int64(1200))})
			return err
		}, 400, `{"message":"400 Bad request - Validation failed: Source project exceeds the allowable number of group links"}`},
	})
	// GraphQL pages allowlist entries up to 200 (the link limit) and
	// other connections up to default_max_page_size 100, first or not.
	var out gqlResponse
	q := `{ project(fullPath: "src/app") { ciJobTokenScopeAllowlist { projectsAllowlist(first: 500) { count nodes { direction } pageInfo { hasNextPage } } } }
		projects(first: 500) { nodes { id } pageInfo { hasNextPage } } }`
	if _, err := c.GraphQL.Do(gitlab.GraphQLQuery{Query: q}, &out); err != nil || len(out.Errors) != 0 {
		t.Fatalf("GraphQL: %v %v", err, out.Errors)
	}
	entries := dig(out.Data, "project", "ciJobTokenScopeAllowlist", "projectsAllowlist")
	if dig(entries, "count") != float64(200) || len(dig(entries, "nodes").([]any)) != 200 || dig(entries, "pageInfo", "hasNextPage") != false {
		t.Errorf("projectsAllowlist(first: 500): count %v, %d nodes", dig(entries, "count"), len(dig(entries, "nodes").([]any)))
	}
	if n := len(dig(out.Data, "projects", "nodes").([]any)); n != 100 || dig(out.Data, "projects", "pageInfo", "hasNextPage") != true {
		t.Errorf("projects(first: 500): %d nodes; want 100 and a next page", n)
	}
	// The list (self + 200) pages at 100.
	_, resp, err := c.JobTokenScope.GetProjectJobTokenInboundAllowList(1, &gitlab.GetJobTokenInboundAllowListOptions{ListOptions: gitlab.ListOptions{PerPage: 100}})
	if err != nil || resp.TotalItems != 201 || resp.TotalPages != 3 {
		t.Errorf("allowlist pages: %v, total %d, pages %d", err, resp.TotalItems, resp.TotalPages)
	}
}
