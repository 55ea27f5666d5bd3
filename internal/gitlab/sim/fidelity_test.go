package sim_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
)

// Write-side fidelity found by an audit with an independent client
// (python-gitlab). Each test goes over real HTTP on 127.0.0.1.

// do sends a request outside client-go and returns the response with its
// body read.
func do(t *testing.T, method, url, token, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("PRIVATE-TOKEN", token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, strings.TrimSpace(string(data))
}

func want(t *testing.T, what string, status int, body string, wantStatus int, wantBody string) {
	t.Helper()
	if status != wantStatus || body != wantBody {
		t.Errorf("%s = %d %s; want %d %s", what, status, body, wantStatus, wantBody)
	}
}

// From 18.0 the instance enforces allowlists unless an administrator
// turned it off: PATCH enabled=false is refused and GET still says true.
// Before 18.0 the setting is off, and the PATCH goes through.
func TestInstanceEnforcementDefault(t *testing.T) {
	const scope = "/api/v4/projects/102/job_token_scope"
	_, base := start(t, sim.Options{})
	status, body := raw(t, "PATCH", base+scope, tokMaint, `{"enabled": false}`)
	want(t, "PATCH 18.5", status, body, 400, `{"message":"400 Bad request - Job token scope cannot be disabled for this project because it is enforced for the instance."}`)
	status, body = raw(t, "GET", base+scope, tokMaint, "")
	want(t, "GET 18.5", status, body, 200, `{"inbound_enabled":true,"outbound_enabled":false}`)
	// A project that never enabled its own setting reads true too.
	status, body = raw(t, "GET", base+"/api/v4/projects/301/job_token_scope", tokMaint, "")
	want(t, "GET unset project", status, body, 200, `{"inbound_enabled":true,"outbound_enabled":false}`)

	_, old := start(t, sim.Options{Version: "17.9"})
	status, body = raw(t, "PATCH", old+scope, tokMaint, `{"enabled": false}`)
	want(t, "PATCH 17.9", status, body, 204, "")
	status, body = raw(t, "GET", old+scope, tokMaint, "")
	want(t, "GET 17.9", status, body, 200, `{"inbound_enabled":false,"outbound_enabled":false}`)
}

// PUT /application/settings is for administrators; turning enforcement
// off lets projects open themselves again.
func TestApplicationSettingsWrite(t *testing.T) {
	const settings = "/api/v4/application/settings"
	_, base := start(t, sim.Options{})
	status, body := raw(t, "GET", base+settings, tokAdmin, "")
	want(t, "GET admin", status, body, 200, `{"default_ci_config_path":null,"default_project_visibility":"private","enforce_ci_inbound_job_token_scope_enabled":true,"id":1}`)
	status, body = raw(t, "PUT", base+settings, tokMaint, `{"enforce_ci_inbound_job_token_scope_enabled": false}`)
	want(t, "PUT maintainer", status, body, 403, `{"message":"403 Forbidden"}`)
	status, body = raw(t, "PUT", base+settings, "", `{"enforce_ci_inbound_job_token_scope_enabled": false}`)
	want(t, "PUT anonymous", status, body, 401, `{"message":"401 Unauthorized"}`)
	status, body = raw(t, "PUT", base+settings, tokAdmin, `{"enforce_ci_inbound_job_token_scope_enabled": null}`)
	want(t, "PUT null", status, body, 400, `{"message":{"enforce_ci_inbound_job_token_scope_enabled":["must be a boolean value"]}}`)
	status, body = raw(t, "PUT", base+settings, tokAdmin, `{"enforce_ci_inbound_job_token_scope_enabled": "maybe"}`)
	want(t, "PUT invalid", status, body, 400, `{"error":"enforce_ci_inbound_job_token_scope_enabled is invalid"}`)
	status, body = raw(t, "PUT", base+settings, tokAdmin, `{"enforce_ci_inbound_job_token_scope_enabled": false}`)
	want(t, "PUT off", status, body, 200, `{"default_ci_config_path":null,"default_project_visibility":"private","enforce_ci_inbound_job_token_scope_enabled":false,"id":1}`)
	status, body = raw(t, "PATCH", base+"/api/v4/projects/102/job_token_scope", tokMaint, `{"enabled": false}`)
	want(t, "PATCH after", status, body, 204, "")
	status, body = raw(t, "GET", base+"/api/v4/projects/301/job_token_scope", tokMaint, "")
	want(t, "GET unset project after", status, body, 200, `{"inbound_enabled":false,"outbound_enabled":false}`)
}

// The GraphQL removals hand back the removed entry; a failed removal
// nulls it.
func TestGraphQLRemovalsReturnEntry(t *testing.T) {
	_, base := start(t, sim.Options{})
	c, _ := client(t, base, tokMaint)
	const removeProject = `mutation { ciJobTokenScopeRemoveProject(input: {projectPath: "platform/build-scripts", targetProjectPath: "apps/web", direction: INBOUND}) {
		errors ciJobTokenScope { inboundAllowlistCount } ciJobTokenScopeAllowlistEntry { direction sourceProject { fullPath } target { ... on CiJobTokenAccessibleProject { fullPath } } } } }`
	res := gql(t, c, removeProject, nil)
	p := dig(res.Data, "ciJobTokenScopeRemoveProject")
	if len(res.Errors) != 0 || fmt.Sprint(dig(p, "errors")) != "[]" ||
		dig(p, "ciJobTokenScopeAllowlistEntry", "target", "fullPath") != "apps/web" ||
		dig(p, "ciJobTokenScopeAllowlistEntry", "sourceProject", "fullPath") != "platform/build-scripts" ||
		dig(p, "ciJobTokenScopeAllowlistEntry", "direction") != "inbound" ||
		dig(p, "ciJobTokenScope", "inboundAllowlistCount") != float64(1) {
		t.Errorf("remove project = %v %v", p, errorMessages(res.Errors))
	}
	res = gql(t, c, removeProject, nil)
	p = dig(res.Data, "ciJobTokenScopeRemoveProject")
	if fmt.Sprint(dig(p, "errors")) != "[Target project is not in the job token scope]" || dig(p, "ciJobTokenScopeAllowlistEntry") != nil || dig(p, "ciJobTokenScope") != nil {
		t.Errorf("remove again = %v", p)
	}
	const removeGroup = `mutation { ciJobTokenScopeRemoveGroup(input: {projectPath: "platform/build-scripts", targetGroupPath: "apps"}) {
		errors ciJobTokenScopeAllowlistEntry { target { ... on CiJobTokenAccessibleGroup { fullPath } } } } }`
	res = gql(t, c, removeGroup, nil)
	p = dig(res.Data, "ciJobTokenScopeRemoveGroup")
	if len(res.Errors) != 0 || fmt.Sprint(dig(p, "errors")) != "[]" || dig(p, "ciJobTokenScopeAllowlistEntry", "target", "fullPath") != "apps" {
		t.Errorf("remove group = %v %v", p, errorMessages(res.Errors))
	}
}

// ciJobTokenScopeAddProject refuses direction: OUTBOUND with a top-level
// ArgumentError and adds nothing.
func TestGraphQLAddProjectOutbound(t *testing.T) {
	s, base := start(t, sim.Options{})
	c, _ := client(t, base, tokMaint)
	res := gql(t, c, `mutation { ciJobTokenScopeAddProject(input: {projectPath: "libs/jslib", targetProjectPath: "apps/web", direction: OUTBOUND}) { errors } }`, nil)
	if msgs := errorMessages(res.Errors); !slices.Equal(msgs, []string{"direction: OUTBOUND scope entries can only be removed. Only INBOUND scope can be expanded."}) || dig(res.Data, "ciJobTokenScopeAddProject") != nil {
		t.Errorf("outbound add = %v %v", res.Data, msgs)
	}
	if p := findProject(t, s.Export().Projects, "libs/jslib"); p.JobTokenScope != nil && len(p.JobTokenScope.Allowlist.Projects) != 0 {
		t.Errorf("outbound add changed the allowlist: %+v", p.JobTokenScope.Allowlist)
	}
	res = gql(t, c, `mutation { ciJobTokenScopeAddProject(input: {projectPath: "libs/jslib", targetProjectPath: "apps/web", direction: INBOUND}) { errors } }`, nil)
	if len(res.Errors) != 0 || fmt.Sprint(dig(res.Data, "ciJobTokenScopeAddProject", "errors")) != "[]" {
		t.Errorf("inbound add = %v %v", res.Data, errorMessages(res.Errors))
	}
}

func listIDs(t *testing.T, url, token string) []int {
	t.Helper()
	resp, body := do(t, "GET", url, token, "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, body)
	}
	var rows []struct {
		ID int `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &rows); err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	return ids
}

// A project that adds itself (201 from 18.0) is listed twice, as the
// UNION ALL of Allowlist#projects has it; the GraphQL count agrees.
func TestSelfAddListing(t *testing.T) {
	_, base := start(t, sim.Options{})
	status, body := raw(t, "POST", base+"/api/v4/projects/102/job_token_scope/allowlist", tokMaint, `{"target_project_id": 102}`)
	want(t, "self add", status, body, 201, `{"source_project_id":102,"target_project_id":102}`)
	if ids := listIDs(t, base+"/api/v4/projects/102/job_token_scope/allowlist", tokMaint); !slices.Equal(ids, []int{102, 102, 301}) {
		t.Errorf("allowlist ids = %v; want [102 102 301]", ids)
	}
	c, _ := client(t, base, tokMaint)
	res := gql(t, c, `{ project(fullPath: "platform/build-scripts") { ciJobTokenScope { inboundAllowlistCount } } }`, nil)
	if n := dig(res.Data, "project", "ciJobTokenScope", "inboundAllowlistCount"); n != float64(3) {
		t.Errorf("inboundAllowlistCount = %v; want 3", n)
	}
}

// The groups allowlist is ordered by group id, not by when each group
// was added.
func TestGroupsAllowlistOrder(t *testing.T) {
	_, base := start(t, sim.Options{})
	for _, id := range []int{20, 10} { // apps (30) is already there
		status, body := raw(t, "POST", base+"/api/v4/projects/102/job_token_scope/groups_allowlist", tokMaint, fmt.Sprintf(`{"target_group_id": %d}`, id))
		if status != 201 {
			t.Fatalf("add group %d = %d %s", id, status, body)
		}
	}
	if ids := listIDs(t, base+"/api/v4/projects/102/job_token_scope/groups_allowlist", tokMaint); !slices.Equal(ids, []int{10, 20, 30}) {
		t.Errorf("groups allowlist ids = %v; want [10 20 30]", ids)
	}
}

func TestCurrentUser(t *testing.T) {
	_, base := start(t, sim.Options{})
	var u struct {
		ID       int    `json:"id"`
		Username string `json:"username"`
		State    string `json:"state"`
		IsAdmin  *bool  `json:"is_admin"`
	}
	c, rec := client(t, base, tokMaint)
	got, _, err := c.Users.CurrentUser()
	if err != nil || got.Username != "maint" || got.State != "active" || got.ID == 0 {
		t.Errorf("CurrentUser = %+v, %v", got, err)
	}
	if _, body := rec.last(); strings.Contains(body, "is_admin") {
		t.Errorf("non-admin /user has is_admin: %s", body)
	}
	_, body := do(t, "GET", base+"/api/v4/user", tokAdmin, "")
	if err := json.Unmarshal([]byte(body), &u); err != nil || u.Username != "admin" || u.IsAdmin == nil || !*u.IsAdmin {
		t.Errorf("admin /user = %s", body)
	}
	status, body := raw(t, "GET", base+"/api/v4/user", "", "")
	want(t, "anonymous /user", status, body, 401, `{"message":"401 Unauthorized"}`)
}

func TestListProjects(t *testing.T) {
	_, base := start(t, sim.Options{})
	paths := func(token, query string) []string {
		t.Helper()
		resp, body := do(t, "GET", base+"/api/v4/projects?per_page=100&order_by=path&sort=asc"+query, token, "")
		if resp.StatusCode != 200 {
			t.Fatalf("GET /projects%s = %d %s", query, resp.StatusCode, body)
		}
		var rows []struct {
			Path string `json:"path_with_namespace"`
		}
		if err := json.Unmarshal([]byte(body), &rows); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rows {
			out = append(out, r.Path)
		}
		return out
	}
	for _, tc := range []struct {
		name, token, query string
		want               []string
	}{
		{"anonymous: public only", "", "", []string{"libs/jslib"}},
		{"signed in: public and internal", tokNone, "", []string{"apps/team/api", "libs/jslib"}},
		// order_by=path is the project's own path: api, build-scripts, jslib.
		{"guest: and its private project", tokGuest, "", []string{"apps/team/api", "platform/build-scripts", "libs/jslib"}},
		{"guest: membership", tokGuest, "&membership=true", []string{"platform/build-scripts"}},
		{"web maintainer: min_access_level", tokWebMaint, "&min_access_level=40", []string{"apps/web"}},
		{"visibility", tokAdmin, "&visibility=internal", []string{"apps/team/api"}},
	} {
		if got := paths(tc.token, tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v; want %v", tc.name, got, tc.want)
		}
	}
	// Pages of 20 over every project the administrator sees.
	resp, _ := do(t, "GET", base+"/api/v4/projects", tokAdmin, "")
	if resp.Header.Get("X-Per-Page") != "20" || resp.Header.Get("X-Next-Page") != "2" || resp.Header.Get("X-Total") == "" {
		t.Errorf("headers = %v", resp.Header)
	}
	status, body := raw(t, "GET", base+"/api/v4/projects?min_access_level=7", tokAdmin, "")
	want(t, "bad min_access_level", status, body, 400, `{"error":"min_access_level does not have a valid value"}`)
}

func TestGetJob(t *testing.T) {
	_, base := start(t, sim.Options{})
	c, rec := client(t, base, tokMaint)
	j, _, err := c.Jobs.GetJob("apps/web", 4711)
	if err != nil || j.ID != 4711 || j.Status != "success" || j.Pipeline.ProjectID != 301 || j.WebURL != externalURL+"/apps/web/-/jobs/4711" {
		t.Errorf("GetJob = %+v, %v", j, err)
	}
	if _, _, err := c.Jobs.GetJob("apps/web", 1); err == nil {
		t.Error("unknown job found")
	}
	wantResponse(t, rec, 404, `{"message":"404 Not Found"}`)
	guest, rec := client(t, base, tokGuest)
	if _, _, err := guest.Jobs.GetJob("platform/build-scripts", 4711); err == nil {
		t.Error("guest read a private project's job")
	}
	wantResponse(t, rec, 403, `{"message":"403 Forbidden"}`)
}

// HEAD on a repository file answers the X-Gitlab-* headers and no body.
func TestHeadRepositoryFile(t *testing.T) {
	_, base := start(t, sim.Options{})
	url := base + "/api/v4/projects/102/repository/files/scripts%2Flib%2Fcommon.sh?ref=main"
	resp, body := do(t, "HEAD", url, tokMaint, "")
	if resp.StatusCode != 200 || body != "" {
		t.Fatalf("HEAD = %d %q", resp.StatusCode, body)
	}
	h := resp.Header
	for k, v := range map[string]string{
		"X-Gitlab-File-Name": "common.sh", "X-Gitlab-File-Path": "scripts/lib/common.sh", "X-Gitlab-Size": "16",
		"X-Gitlab-Blob-Id": gitBlobID("common() { :; }\n"), "X-Gitlab-Ref": "main", "X-Gitlab-Encoding": "base64",
		"X-Gitlab-Execute-Filemode": "false",
	} {
		if h.Get(k) != v {
			t.Errorf("%s = %q; want %q", k, h.Get(k), v)
		}
	}
	if h.Get("X-Gitlab-Last-Commit-Id") == "" || h.Get("X-Gitlab-Commit-Id") == "" || h.Get("X-Gitlab-Content-Sha256") == "" {
		t.Errorf("headers = %v", h)
	}
	if resp, _ := do(t, "HEAD", base+"/api/v4/projects/102/repository/files/nope.yml?ref=main", tokMaint, ""); resp.StatusCode != 404 {
		t.Errorf("HEAD missing file = %d", resp.StatusCode)
	}
	if resp, _ := do(t, "HEAD", base+"/api/v4/projects/102/repository/files/README.md", tokMaint, ""); resp.StatusCode != 400 {
		t.Errorf("HEAD without ref = %d", resp.StatusCode)
	}
}

// A page past the end is an empty array with the headers and no prev or
// next page; per_page=0 is refused.
func TestPaginationEdges(t *testing.T) {
	_, base := start(t, sim.Options{})
	resp, body := do(t, "GET", base+"/api/v4/groups/libs/projects?page=99", tokMaint, "")
	h := resp.Header
	if resp.StatusCode != 200 || body != "[]" || h.Get("X-Page") != "99" || h.Get("X-Per-Page") != "20" ||
		h.Get("X-Prev-Page") != "" || h.Get("X-Next-Page") != "" || h.Get("X-Total") != "47" || h.Get("X-Total-Pages") != "3" {
		t.Errorf("page 99 = %d %s %v", resp.StatusCode, body, h)
	}
	if l := h.Get("Link"); strings.Contains(l, `rel="prev"`) || strings.Contains(l, `rel="next"`) || !strings.Contains(l, `rel="first"`) || !strings.Contains(l, `rel="last"`) {
		t.Errorf("page 99 Link = %s", l)
	}
	status, body := raw(t, "GET", base+"/api/v4/groups/libs/projects?per_page=0", tokMaint, "")
	want(t, "per_page=0", status, body, 400, `{"error":"per_page has a value not allowed"}`)
	status, body = raw(t, "GET", base+"/api/v4/projects/102/job_token_scope/allowlist?per_page=0", tokMaint, "")
	want(t, "allowlist per_page=0", status, body, 400, `{"error":"per_page has a value not allowed"}`)
	resp, _ = do(t, "GET", base+"/api/v4/groups/libs/projects?page=3", tokMaint, "")
	if resp.Header.Get("X-Prev-Page") != "2" || resp.Header.Get("X-Next-Page") != "" {
		t.Errorf("last page headers = %v", resp.Header)
	}
}
