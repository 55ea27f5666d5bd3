package sim_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
)

// simJob is the answer of POST /-/sim/jobs.
type simJob struct {
	ID      int    `json:"id"`
	Token   string `json:"token"`
	Project string `json:"project"`
	User    string `json:"user"`
}

func newJob(t *testing.T, base, project, user string) simJob {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"project": project, "user": user})
	status, out := raw(t, "POST", base+"/-/sim/jobs", tokAdmin, string(body))
	if status != http.StatusCreated {
		t.Fatalf("POST /-/sim/jobs %s = %d %s", project, status, out)
	}
	var j simJob
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	return j
}

// jobReq sends a request with a job token in the JOB-TOKEN header.
func jobReq(t *testing.T, method, url, token string) (int, string) {
	t.Helper()
	var body io.Reader
	if method == "PUT" {
		body = strings.NewReader("content") // an uploaded file
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("JOB-TOKEN", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(data))
}

func genericURL(base, project string) string {
	return base + "/api/v4/projects/" + url.PathEscape(project) + "/packages/generic/tool/1.0/tool.tar.gz"
}

func TestSimJobsEndpoint(t *testing.T) {
	_, base := start(t, sim.Options{})
	j := newJob(t, base, "apps/web", "")
	if j.ID != 1 || j.Project != "apps/web" || j.User != "sim-ci" || !strings.HasPrefix(j.Token, "glcbt-") {
		t.Errorf("job = %+v", j)
	}
	for _, c := range []struct {
		token, body string
		status      int
		want        string
	}{
		{"", `{"project":"apps/web"}`, 401, `{"message":"401 Unauthorized"}`},
		{tokMaint, `{"project":"apps/web"}`, 403, `{"message":"403 Forbidden"}`},
		{tokAdmin, `{"project":"nope/x"}`, 404, `{"message":"404 Project Not Found"}`},
		{tokAdmin, `{"project":"apps/web","user":"ghost"}`, 404, `{"message":"404 User Not Found"}`},
		{tokAdmin, `{}`, 400, `{"error":"project is missing"}`},
	} {
		if status, out := raw(t, "POST", base+"/-/sim/jobs", c.token, c.body); status != c.status || out != c.want {
			t.Errorf("POST /-/sim/jobs %s = %d %s; want %d %s", c.body, status, out, c.status, c.want)
		}
	}
	if j2 := newJob(t, base, "apps/web", "dev"); j2.ID != 2 || j2.User != "dev" {
		t.Errorf("second job = %+v", j2)
	}
	// The token works while the job runs, not after.
	if status, out := jobReq(t, "GET", genericURL(base, "apps/web"), j.Token); status != 200 {
		t.Fatalf("running job: %d %s", status, out)
	}
	if status, out := raw(t, "POST", base+"/-/sim/jobs/1/finish", tokAdmin, ""); status != 200 || !strings.Contains(out, `"status":"success"`) {
		t.Fatalf("finish = %d %s", status, out)
	}
	if status, out := jobReq(t, "GET", genericURL(base, "apps/web"), j.Token); status != 401 || out != `{"message":"401 Unauthorized"}` {
		t.Errorf("finished job, REST: %d %s", status, out)
	}
	if status, _ := gitRefs(t, base, "apps/web", j.Token); status != 401 {
		t.Errorf("finished job, git: %d", status)
	}
	if status, out := trigger(t, base, "apps/web", j.Token); status != 401 || out != `{"message":"Job is not running"}` {
		t.Errorf("finished job, trigger: %d %s", status, out)
	}
	if status, out := registry(t, base, j.Token, "repository:apps/web:pull"); status != 401 || !strings.Contains(out, `"UNAUTHORIZED"`) {
		t.Errorf("finished job, registry: %d %s", status, out)
	}
	if status, _ := raw(t, "POST", base+"/-/sim/jobs/9/finish", tokAdmin, ""); status != 404 {
		t.Errorf("finish unknown job = %d", status)
	}
}

const (
	msgWebToScripts = `{"message":"403 Forbidden - Authentication by CI/CD job token not allowed from pylib to build-scripts."}`
	msgPolicy       = `{"message":"403 Forbidden - Insufficient permissions to access this resource in project base-images. The following token permission is required: admin_packages."}`
)

func TestJobTokenDecisions(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s, base := start(t, sim.Options{Now: func() time.Time { return at }})
	for _, c := range []struct {
		name, from, user, method, target string
		status                           int
		want                             string // body, when checked
	}{
		{"own project", "apps/web", "", "GET", "apps/web", 200, ""},
		{"project entry", "apps/web", "", "GET", "platform/build-scripts", 200, ""},
		{"ancestor group entry", "apps/team/api", "", "GET", "platform/build-scripts", 200, ""},
		{"not allowlisted", "libs/pylib", "", "GET", "platform/build-scripts", 403, msgWebToScripts},
		{"by numeric id", "libs/pylib", "", "GET", "102", 403, msgWebToScripts},
		{"policy present", "apps/web", "", "GET", "platform/base-images", 200, ""},
		{"policy missing", "apps/web", "", "PUT", "platform/base-images", 403, msgPolicy},
		// read_project passes on a public target, but policies_allowed?
		// wants the caller on the enforced allowlist.
		{"public target, API", "libs/pylib", "", "GET", "libs/jslib", 403, `{"message":"403 Forbidden - Insufficient permissions to access this resource in project jslib. The following token permission is required: read_packages."}`},
		{"enforced by the instance", "apps/web", "", "GET", "libs/pylib", 403, `{"message":"403 Forbidden - Authentication by CI/CD job token not allowed from web to pylib."}`},
		{"write on entry", "apps/web", "", "PUT", "platform/build-scripts", 201, `{"message":"201 Created"}`},
		// handle_job_token_failure! gives the allowlist message for any
		// read_project failure of a job token.
		{"user cannot see target", "apps/web", "nobody", "GET", "platform/build-scripts", 403, `{"message":"403 Forbidden - Authentication by CI/CD job token not allowed from web to build-scripts."}`},
		{"guest role too low", "apps/web", "guest", "GET", "platform/build-scripts", 403, `{"message":"403 Forbidden"}`},
		{"unknown project", "apps/web", "", "GET", "nope/x", 404, `{"message":"404 Project Not Found"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			j := newJob(t, base, c.from, c.user)
			status, out := jobReq(t, c.method, genericURL(base, c.target), j.Token)
			if status != c.status || c.want != "" && out != c.want {
				t.Errorf("%s %s from %s = %d %s; want %d %s", c.method, c.target, c.from, status, out, c.status, c.want)
			}
		})
	}
	// Artifacts with job_token= (read_jobs is in base-images' entry).
	j := newJob(t, base, "apps/web", "")
	u := base + "/api/v4/projects/platform%2Fbase-images/jobs/artifacts/main/download?job=build&job_token=" + j.Token
	if status, out := jobReq(t, "GET", u, ""); status != 200 || !strings.HasPrefix(out, "PK") {
		t.Errorf("artifacts = %d %q", status, out)
	}
	if status, out := jobReq(t, "GET", strings.Replace(u, "job=build&", "", 1), ""); status != 400 || out != `{"error":"job is missing"}` {
		t.Errorf("artifacts without job = %d %s", status, out)
	}

	// The authentication log has the successful cross-project
	// authorizations of private targets, at the clock's time, and no
	// denial.
	logs := map[string]map[string]time.Time{}
	for _, p := range s.Export().Projects {
		for _, a := range p.AuthLog {
			if logs[p.Path] == nil {
				logs[p.Path] = map[string]time.Time{}
			}
			logs[p.Path][a.Origin] = a.LastAuthorizedAt
		}
	}
	want := map[string]map[string]time.Time{
		"platform/build-scripts": {"apps/web": at, "apps/team/api": at},
		"platform/base-images":   {"apps/web": at},
		"libs/jslib": { // from the snapshot, unchanged: public targets skip the scope
			"apps/web":      time.Date(2026, 11, 20, 8, 15, 0, 0, time.UTC),
			"apps/team/api": time.Date(2026, 10, 1, 10, 0, 0, 0, time.UTC),
		},
	}
	if len(logs) != len(want) {
		t.Errorf("auth logs = %v; want %v", logs, want)
	}
	for p, w := range want {
		if len(logs[p]) != len(w) {
			t.Errorf("auth log of %s = %v; want %v", p, logs[p], w)
		}
		for o, at := range w {
			if !logs[p][o].Equal(at) {
				t.Errorf("auth log of %s, %s = %v; want %v", p, o, logs[p][o], at)
			}
		}
	}
}

func TestJobTokenLegacyAndOldVersions(t *testing.T) {
	// Without instance enforcement a project whose setting is off admits
	// every project (legacy), and the access is logged.
	s, base := start(t, sim.Options{InstanceEnforcesAllowlist: ptr(false)})
	j := newJob(t, base, "apps/web", "")
	if status, out := jobReq(t, "GET", genericURL(base, "libs/pylib"), j.Token); status != 200 {
		t.Errorf("legacy = %d %s", status, out)
	}
	if status, out := jobReq(t, "GET", genericURL(base, "libs/jslib"), j.Token); status != 200 {
		t.Errorf("legacy public = %d %s", status, out)
	}
	found := false
	for _, p := range s.Export().Projects {
		if p.Path == "libs/pylib" {
			found = len(p.AuthLog) == 1 && p.AuthLog[0].Origin == "apps/web"
		}
	}
	if !found {
		t.Error("legacy access not in libs/pylib's auth log")
	}
	// The project setting still applies.
	j2 := newJob(t, base, "libs/pylib", "")
	if status, out := jobReq(t, "GET", genericURL(base, "platform/build-scripts"), j2.Token); status != 403 || out != msgWebToScripts {
		t.Errorf("project setting = %d %s", status, out)
	}

	// Before 17.4 the refused target is not found, over REST and git.
	_, old := start(t, sim.Options{Version: "17.3"})
	j3 := newJob(t, old, "libs/pylib", "")
	if status, out := jobReq(t, "GET", genericURL(old, "platform/build-scripts"), j3.Token); status != 404 || out != `{"message":"404 Project Not Found"}` {
		t.Errorf("17.3 REST = %d %s", status, out)
	}
	if status, out := gitRefs(t, old, "platform/build-scripts", j3.Token); status != 404 || out != "The project you were looking for could not be found or you don't have permission to view it." {
		t.Errorf("17.3 git = %d %s", status, out)
	}

	// Before 18.3 policies are not honoured.
	_, pre := start(t, sim.Options{Version: "18.2"})
	j4 := newJob(t, pre, "apps/web", "")
	if status, out := jobReq(t, "PUT", genericURL(pre, "platform/base-images"), j4.Token); status != 201 {
		t.Errorf("18.2 policy = %d %s", status, out)
	}
}

func gitRefs(t *testing.T, base, project, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/"+project+".git/info/refs?service=git-upload-pack", nil)
	req.SetBasicAuth("gitlab-ci-token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(data))
}

func TestJobTokenGit(t *testing.T) {
	_, base := start(t, sim.Options{})
	web := newJob(t, base, "apps/web", "")
	status, out := gitRefs(t, base, "platform/build-scripts", web.Token)
	if status != 200 || !strings.HasPrefix(out, "001e# service=git-upload-pack\n0000") || !strings.Contains(out, " refs/heads/main\n") {
		t.Errorf("allowed clone = %d %q", status, out)
	}
	pylib := newJob(t, base, "libs/pylib", "")
	if status, out := gitRefs(t, base, "libs/jslib", pylib.Token); status != 200 {
		t.Errorf("public clone = %d %s", status, out)
	}
	if status, out := gitRefs(t, base, "platform/build-scripts", pylib.Token); status != 403 || out != "Authentication by CI/CD job token not allowed from pylib to build-scripts." {
		t.Errorf("denied clone = %d %s", status, out)
	}
	guest := newJob(t, base, "apps/web", "guest")
	if status, out := gitRefs(t, base, "platform/build-scripts", guest.Token); status != 403 || out != "You are not allowed to download code from this project." {
		t.Errorf("guest clone = %d %s", status, out)
	}
	nobody := newJob(t, base, "apps/web", "nobody")
	if status, out := gitRefs(t, base, "platform/build-scripts", nobody.Token); status != 403 || out != "Insufficient permissions to pull from the repository of project build-scripts." {
		t.Errorf("non-member clone = %d %s", status, out)
	}
	if status, _ := gitRefs(t, base, "platform/build-scripts", "glcbt-bogus"); status != 401 {
		t.Errorf("bogus token = %d", status)
	}
}

func registry(t *testing.T, base, token string, scopes ...string) (int, string) {
	t.Helper()
	q := url.Values{"service": {"container_registry"}, "scope": scopes}
	req, _ := http.NewRequest("GET", base+"/jwt/auth?"+q.Encode(), nil)
	req.SetBasicAuth("gitlab-ci-token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// registryAccess decodes the access claim of a /jwt/auth answer.
func registryAccess(t *testing.T, body string) map[string][]string {
	t.Helper()
	var resp struct{ Token string }
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(resp.Token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", resp.Token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Aud    string
		Access []struct {
			Type, Name string
			Actions    []string
		}
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if claims.Aud != "container_registry" {
		t.Errorf("aud = %q", claims.Aud)
	}
	out := map[string][]string{}
	for _, a := range claims.Access {
		out[a.Name] = a.Actions
	}
	return out
}

func TestJobTokenRegistry(t *testing.T) {
	_, base := start(t, sim.Options{})
	web := newJob(t, base, "apps/web", "")
	status, body := registry(t, base, web.Token,
		"repository:apps/web/app:pull,push,delete",
		"repository:platform/build-scripts:pull,push",
		"repository:libs/pylib/img:pull")
	if status != 200 {
		t.Fatalf("jwt/auth = %d %s", status, body)
	}
	got := registryAccess(t, body)
	want := map[string][]string{
		"apps/web/app":           {"pull", "push", "delete"}, // own project
		"platform/build-scripts": {"pull"},                   // allowlisted: pull only, push never cross-project
		// libs/pylib: not allowlisted, dropped
	}
	if len(got) != len(want) || strings.Join(got["apps/web/app"], ",") != "pull,push,delete" || strings.Join(got["platform/build-scripts"], ",") != "pull" {
		t.Errorf("access = %v; want %v", got, want)
	}
	if status, _ := registry(t, base, web.Token); status != 200 {
		t.Errorf("no scope = %d", status)
	}
	req, _ := http.NewRequest("GET", base+"/jwt/auth?service=other", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 404 {
		t.Errorf("unknown service = %v %v", resp, err)
	}
}

func trigger(t *testing.T, base, project, token string) (int, string) {
	t.Helper()
	form := url.Values{"token": {token}, "ref": {"main"}}
	resp, err := http.PostForm(base+"/api/v4/projects/"+url.PathEscape(project)+"/trigger/pipeline", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(data))
}

func TestJobTokenTrigger(t *testing.T) {
	_, base := start(t, sim.Options{})
	web := newJob(t, base, "apps/web", "")
	if status, out := trigger(t, base, "platform/build-scripts", web.Token); status != 201 || !strings.Contains(out, `"status":"created"`) {
		t.Errorf("allowed trigger = %d %s", status, out)
	}
	pylib := newJob(t, base, "libs/pylib", "")
	if status, out := trigger(t, base, "platform/build-scripts", pylib.Token); status != 404 || out != `{"message":"404 Not Found"}` {
		t.Errorf("denied trigger = %d %s", status, out)
	}
	guest := newJob(t, base, "apps/web", "guest")
	if status, out := trigger(t, base, "platform/build-scripts", guest.Token); status != 400 || !strings.Contains(out, "Insufficient permissions to create a new pipeline") {
		t.Errorf("guest trigger = %d %s", status, out)
	}
	if status, out := trigger(t, base, "platform/build-scripts", "glcbt-unknown"); status != 404 || out != `{"message":"404 Not Found"}` {
		t.Errorf("unknown token = %d %s", status, out)
	}
	if status, out := raw(t, "POST", base+"/api/v4/projects/apps%2Fweb/trigger/pipeline", "", `{"ref":"main"}`); status != 400 || out != `{"error":"token is missing"}` {
		t.Errorf("no token = %d %s", status, out)
	}
}

// TestJobTokenEndpoints runs every job-token REST endpoint through the
// same decisions: allowed own project and via the entry of
// platform/build-scripts (default permissions), refused from a project
// not on the allowlist, refused by the policies of platform/base-images'
// entry (read_packages, read_jobs) unless the endpoint needs one of them.
func TestJobTokenEndpoints(t *testing.T) {
	_, base := start(t, sim.Options{})
	web := newJob(t, base, "apps/web", "")
	pylib := newJob(t, base, "libs/pylib", "")
	for _, c := range []struct {
		method, path, policy string // path after /projects/:id
		ok                   int
	}{
		{"GET", "/packages/npm/@acme%2Fui", "read_packages", 200},
		{"GET", "/packages/pypi/simple/tool", "read_packages", 200},
		{"GET", "/packages/maven/com/acme/lib/1.0/lib-1.0.jar", "read_packages", 200},
		{"PUT", "/packages/maven/com/acme/lib/1.0/lib-1.0.jar", "admin_packages", 201},
		{"GET", "/releases", "read_releases", 200},
		{"POST", "/releases?tag_name=v2", "admin_releases", 201},
		{"GET", "/deployments", "read_deployments", 200},
		{"GET", "/environments", "read_environments", 200},
		{"GET", "/secure_files", "read_secure_files", 200},
		{"GET", "/secure_files/1/download", "read_secure_files", 200},
		{"GET", "/terraform/state/prod", "read_terraform_state", 200},
		{"POST", "/terraform/state/prod", "admin_terraform_state", 200},
		{"POST", "/terraform/state/prod/lock", "admin_terraform_state", 200},
		{"DELETE", "/terraform/state/prod/lock", "admin_terraform_state", 200},
	} {
		name := c.method + " " + c.path
		for _, target := range []string{"apps/web", "platform/build-scripts"} {
			u := base + "/api/v4/projects/" + url.PathEscape(target) + c.path
			if status, out := jobReq(t, c.method, u, web.Token); status != c.ok {
				t.Errorf("%s on %s from web = %d %s; want %d", name, target, status, out, c.ok)
			}
		}
		u := base + "/api/v4/projects/platform%2Fbuild-scripts" + c.path
		if status, out := jobReq(t, c.method, u, pylib.Token); status != 403 || out != msgWebToScripts {
			t.Errorf("%s from pylib = %d %s", name, status, out)
		}
		u = base + "/api/v4/projects/platform%2Fbase-images" + c.path
		status, out := jobReq(t, c.method, u, web.Token)
		if c.policy == "read_packages" {
			if status != c.ok {
				t.Errorf("%s on base-images (read_packages granted) = %d %s", name, status, out)
			}
			continue
		}
		want := `{"message":"403 Forbidden - Insufficient permissions to access this resource in project base-images. The following token permission is required: ` + c.policy + `."}`
		if status != 403 || out != want {
			t.Errorf("%s on base-images = %d %s; want 403 %s", name, status, out, want)
		}
	}
	// The Terraform http backend sends the token with basic auth.
	req, _ := http.NewRequest("GET", base+"/api/v4/projects/platform%2Fbuild-scripts/terraform/state/prod", nil)
	req.SetBasicAuth("gitlab-ci-token", web.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("terraform basic auth = %v %v", resp, err)
	}
	if err == nil {
		resp.Body.Close()
	}
}

// A job token's authorization shows in GraphQL's ciJobTokenAuthLogs, the
// read tokenscope's live mode makes.
func TestJobTokenAuthLogGraphQL(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC)
	_, base := start(t, sim.Options{Now: func() time.Time { return at }})
	c, _ := client(t, base, tokMaint)
	const q = `query($p: ID!) { project(fullPath: $p) { ciJobTokenAuthLogs { nodes { originProject { fullPath } lastAuthorizedAt } } } }`
	if n := dig(gql(t, c, q, map[string]any{"p": "platform/build-scripts"}).Data, "project", "ciJobTokenAuthLogs", "nodes"); len(n.([]any)) != 0 {
		t.Fatalf("auth log before = %v", n)
	}
	api := newJob(t, base, "apps/team/api", "")
	if status, _ := gitRefs(t, base, "platform/build-scripts", api.Token); status != 200 {
		t.Fatalf("clone = %d", status)
	}
	pylib := newJob(t, base, "libs/pylib", "")
	gitRefs(t, base, "platform/build-scripts", pylib.Token) // refused, not logged
	nodes := dig(gql(t, c, q, map[string]any{"p": "platform/build-scripts"}).Data, "project", "ciJobTokenAuthLogs", "nodes")
	if l, _ := nodes.([]any); len(l) != 1 || dig(l, 0, "originProject", "fullPath") != "apps/team/api" || dig(l, 0, "lastAuthorizedAt") != "2026-12-02T09:30:00Z" {
		t.Errorf("auth log after = %v", nodes)
	}
}
