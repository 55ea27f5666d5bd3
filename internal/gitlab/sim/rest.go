package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// route is one REST endpoint. pattern is the path under /api/v4 split on
// "/", with ":name" for a parameter (one URL-encoded segment, as GitLab
// wants IDs, paths and file paths encoded).
type route struct {
	method  string
	pattern []string
	name    string
	h       func(*rctx)
	// jobToken: the endpoint accepts CI_JOB_TOKEN (JOB-TOKEN header or
	// job_token parameter; Gitlab::Auth::AuthFinders#find_user_from_job_token
	// only on routes that allow it). Elsewhere a job token is not a
	// credential.
	jobToken bool
	// rawBody: the body is the uploaded file, not parameters (the
	// package uploads, which Workhorse hands over as a file).
	rawBody bool
}

type router struct {
	s      *Server
	routes []*route
}

// rctx is one REST request in flight.
type rctx struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	u      *user
	job    *job              // the running job whose token authenticated the request
	params map[string]string // path parameters, decoded
	input  map[string]any    // query parameters and the JSON or form body
}

func newRouter(s *Server) *router {
	rt := &router{s: s}
	add := func(method, pattern string, h func(*rctx)) {
		rt.routes = append(rt.routes, &route{method: method, pattern: strings.Split(strings.Trim(pattern, "/"), "/"), name: method + " /api/v4" + pattern, h: h})
	}
	add("GET", "/version", authed(getVersion))
	add("GET", "/application/settings", authed(getSettings))
	add("PUT", "/application/settings", authed(putSettings))
	add("GET", "/user", authed(getUser))
	add("GET", "/projects", listProjects)
	add("GET", "/groups/:id", onGroup(getGroup))
	add("GET", "/groups/:id/projects", onGroup(listGroupProjects))
	add("GET", "/groups/:id/subgroups", onGroup(listSubgroups))
	add("GET", "/groups/:id/descendant_groups", onGroup(listDescendantGroups))
	add("GET", "/projects/:id", onProject(getProject))
	add("GET", "/projects/:id/repository/tree", onRepo(listTree))
	add("GET", "/projects/:id/repository/files/:file_path", requires("ref", onRepo(getFile)))
	add("GET", "/projects/:id/repository/files/:file_path/raw", onRepo(getRawFile))
	add("GET", "/projects/:id/jobs", authed(onProject(listJobs)))
	add("GET", "/projects/:id/jobs/:job_id", authed(onProject(getJob)))
	add("GET", "/projects/:id/jobs/:job_id/trace", authed(onProject(getTrace)))
	add("GET", "/projects/:id/job_token_scope", authed(getScope))
	add("PATCH", "/projects/:id/job_token_scope", authed(patchScope))
	add("GET", "/projects/:id/job_token_scope/allowlist", authed(projectAllowlist.listRoute))
	add("POST", "/projects/:id/job_token_scope/allowlist", authed(projectAllowlist.addRoute))
	add("DELETE", "/projects/:id/job_token_scope/allowlist/:target_project_id", authed(projectAllowlist.removeRoute))
	add("GET", "/projects/:id/job_token_scope/groups_allowlist", authed(groupAllowlist.listRoute))
	add("POST", "/projects/:id/job_token_scope/groups_allowlist", authed(groupAllowlist.addRoute))
	add("DELETE", "/projects/:id/job_token_scope/groups_allowlist/:target_group_id", authed(groupAllowlist.removeRoute))
	addJob := func(method, pattern string, h func(*rctx)) {
		add(method, pattern, h)
		rt.routes[len(rt.routes)-1].jobToken = true
	}
	addJob("GET", "/projects/:id/packages/generic/:name/:version/:file", onJobTarget(need{api: true, policy: "read_packages"}, getGenericPackage))
	addJob("PUT", "/projects/:id/packages/generic/:name/:version/:file", onJobTarget(need{api: true, write: true, policy: "admin_packages"}, putGenericPackage))
	rt.routes[len(rt.routes)-1].rawBody = true
	addJob("GET", "/projects/:id/jobs/artifacts/:ref/download", requires("job", onJobTarget(need{api: true, policy: "read_jobs"}, getArtifacts)))
	add("POST", "/projects/:id/trigger/pipeline", requires("token", requires("ref", triggerPipeline)))
	// The policies and roles of the endpoint table of
	// https://docs.gitlab.com/ci/jobs/fine_grained_permissions/ and
	// https://docs.gitlab.com/user/permissions/.
	read := func(policy string) need { return need{api: true, policy: policy} }
	write := func(policy string) need { return need{api: true, write: true, policy: policy} }
	addJob("GET", "/projects/:id/packages/npm/*package_name", onJobTarget(read("read_packages"), getNpmMetadata))
	addJob("GET", "/projects/:id/packages/pypi/simple/:package_name", onJobTarget(read("read_packages"), getPypiSimple))
	addJob("GET", "/projects/:id/packages/maven/*path", onJobTarget(read("read_packages"), getPlaceholderFile))
	addJob("PUT", "/projects/:id/packages/maven/*path", onJobTarget(write("admin_packages"), putGenericPackage))
	rt.routes[len(rt.routes)-1].rawBody = true
	addJob("GET", "/projects/:id/releases", onJobTarget(read("read_releases"), listReleases))
	addJob("POST", "/projects/:id/releases", onJobTarget(write("admin_releases"), createRelease))
	addJob("GET", "/projects/:id/deployments", onJobTarget(read("read_deployments"), listDeployments))
	addJob("GET", "/projects/:id/environments", onJobTarget(read("read_environments"), listEnvironments))
	addJob("GET", "/projects/:id/secure_files", onJobTarget(need{api: true, policy: "read_secure_files", role: RoleDeveloper}, listSecureFiles))
	addJob("GET", "/projects/:id/secure_files/:secure_file_id/download", onJobTarget(need{api: true, policy: "read_secure_files", role: RoleDeveloper}, getPlaceholderFile))
	addJob("GET", "/projects/:id/terraform/state/:name", onJobTarget(need{api: true, policy: "read_terraform_state", role: RoleDeveloper}, getTerraformState))
	addJob("POST", "/projects/:id/terraform/state/:name", onJobTarget(need{api: true, write: true, policy: "admin_terraform_state", role: RoleMaintainer}, emptyOK))
	rt.routes[len(rt.routes)-1].rawBody = true
	addJob("POST", "/projects/:id/terraform/state/:name/lock", onJobTarget(need{api: true, write: true, policy: "admin_terraform_state", role: RoleMaintainer}, emptyOK))
	rt.routes[len(rt.routes)-1].rawBody = true
	addJob("DELETE", "/projects/:id/terraform/state/:name/lock", onJobTarget(need{api: true, write: true, policy: "admin_terraform_state", role: RoleMaintainer}, emptyOK))
	return rt
}

// match finds the route for an escaped path. pathOnly reports a path that
// exists for another method (405).
func (rt *router) match(method, escaped string) (r *route, params map[string]string, pathOnly bool) {
	rest, ok := strings.CutPrefix(escaped, "/api/v4/")
	if !ok {
		return nil, nil, false
	}
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	for _, c := range rt.routes {
		p, ok := matchSegments(c.pattern, segs)
		if !ok {
			continue
		}
		if c.method == method || method == http.MethodHead && c.method == http.MethodGet {
			return c, p, false
		}
		pathOnly = true
	}
	return nil, nil, pathOnly
}

func matchSegments(pattern, segs []string) (map[string]string, bool) {
	// A last segment "*name" takes one or more segments (Grape's
	// *package_name, *path), joined by "/".
	if n := len(pattern); n > 0 && strings.HasPrefix(pattern[n-1], "*") && len(segs) >= n {
		tail, err := url.PathUnescape(strings.Join(segs[n-1:], "/"))
		if err != nil || tail == "" {
			return nil, false
		}
		params, ok := matchSegments(pattern[:n-1], segs[:n-1])
		if !ok {
			return nil, false
		}
		if params == nil {
			params = map[string]string{}
		}
		params[pattern[n-1][1:]] = tail
		return params, true
	}
	if len(pattern) != len(segs) {
		return nil, false
	}
	var params map[string]string
	for i, p := range pattern {
		if name, ok := strings.CutPrefix(p, ":"); ok {
			v, err := url.PathUnescape(segs[i])
			if err != nil || v == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[name] = v
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

func (rt *router) serve(w http.ResponseWriter, r *http.Request) {
	c, params, pathOnly := rt.match(r.Method, r.URL.EscapedPath())
	if c == nil {
		if pathOnly {
			writeError(w, http.StatusMethodNotAllowed, "405 Not Allowed")
			return
		}
		writeError(w, http.StatusNotFound, "404 Not Found")
		return
	}
	if c.jobToken {
		if t := jobTokenFrom(r); t != "" {
			rt.serveJob(w, r, c, params, t)
			return
		}
	}
	u, ok := rt.s.auth.authenticate(r)
	if !ok {
		// An invalid token is refused everywhere, public resources
		// included (Gitlab::Auth::AuthFinders raises before the route).
		writeMessage(w, http.StatusUnauthorized, "401 Unauthorized")
		return
	}
	input, bad := readInput(r, c.rawBody)
	if bad != "" {
		writeError(w, http.StatusBadRequest, bad)
		return
	}
	c.h(&rctx{s: rt.s, w: w, r: r, u: u, params: params, input: input})
}

// jobTokenFrom returns the job token of a request: the JOB-TOKEN header,
// the job_token parameter, or basic auth as gitlab-ci-token (the
// Terraform http backend, package managers) (Gitlab::Auth::AuthFinders
// JOB_TOKEN_HEADER, JOB_TOKEN_PARAM, find_user_from_job_token_basic_auth).
func jobTokenFrom(r *http.Request) string {
	if t := r.Header.Get("JOB-TOKEN"); t != "" {
		return t
	}
	if name, pass, ok := r.BasicAuth(); ok && name == ciJobUser {
		return pass
	}
	return r.URL.Query().Get("job_token")
}

// serveJob runs a job-token route for the job of token t: 401 for a token
// of no job or of a finished one (Ci::AuthJobFinder raises for a job that
// is not running; the API answers unauthorized!).
func (rt *router) serveJob(w http.ResponseWriter, r *http.Request, c *route, params map[string]string, t string) {
	rt.s.st.mu.RLock()
	j := rt.s.st.jobFor(t)
	running := j != nil && !j.finished
	rt.s.st.mu.RUnlock()
	if !running {
		writeMessage(w, http.StatusUnauthorized, "401 Unauthorized")
		return
	}
	input, bad := readInput(r, c.rawBody)
	if bad != "" {
		writeError(w, http.StatusBadRequest, bad)
		return
	}
	c.h(&rctx{s: rt.s, w: w, r: r, u: j.user, job: j, params: params, input: input})
}

// readInput merges the query string and a JSON or form body, as Grape's
// params do; bad is the message for a body that does not parse.
func readInput(r *http.Request, rawBody bool) (in map[string]any, bad string) {
	in = map[string]any{}
	for k, v := range r.URL.Query() {
		in[k] = v[len(v)-1]
	}
	if r.Body == nil || rawBody || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return in, ""
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || len(strings.TrimSpace(string(data))) == 0 {
		return in, ""
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(data))
		if err != nil {
			return nil, "The request body is not a valid form"
		}
		for k, v := range form {
			in[k] = v[len(v)-1]
		}
	default:
		var body map[string]any
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			return nil, "The request body contains invalid JSON"
		}
		for k, v := range body {
			in[k] = v
		}
	}
	return in, ""
}

// authenticated answers 401 for anonymous requests to routes behind
// Grape's authenticate!.
func (c *rctx) authenticated() bool {
	if c.u == nil {
		writeMessage(c.w, http.StatusUnauthorized, "401 Unauthorized")
		return false
	}
	return true
}

// authed wraps a route behind authenticate!, which comes before any other
// check.
func authed(h func(*rctx)) func(*rctx) {
	return func(c *rctx) {
		if c.authenticated() {
			h(c)
		}
	}
}

// requires wraps a route with Grape's `requires :name`, checked before the
// route looks anything up.
func requires(name string, h func(*rctx)) func(*rctx) {
	return func(c *rctx) {
		if _, ok := c.input[name]; !ok {
			writeError(c.w, http.StatusBadRequest, name+" is missing")
			return
		}
		h(c)
	}
}

// onGroup, onProject and onRepo wrap the read-only routes on /groups/:id
// and /projects/:id: they run under the state's read lock, after the 404
// for what the user cannot see (and for onRepo the 403 without
// read_code).
func onGroup(h func(*rctx, *group)) func(*rctx)     { return readLocked((*rctx).findGroup, h) }
func onProject(h func(*rctx, *project)) func(*rctx) { return readLocked((*rctx).findProject, h) }
func onRepo(h func(*rctx, *project)) func(*rctx)    { return readLocked((*rctx).readableRepo, h) }

func readLocked[T any](find func(*rctx) *T, h func(*rctx, *T)) func(*rctx) {
	return func(c *rctx) {
		c.s.st.mu.RLock()
		defer c.s.st.mu.RUnlock()
		if x := find(c); x != nil {
			h(c, x)
		}
	}
}

// findProject and findGroup resolve :id (a numeric ID or a full path) to
// what the user can read, or answer GitLab's 404. The caller holds the
// state lock.
func (c *rctx) findProject() *project {
	return findVisible(c, c.s.st.projByID, c.s.st.project, canRead, "404 Project Not Found")
}

func (c *rctx) findGroup() *group {
	return findVisible(c, c.s.st.groupByID, c.s.st.group, canReadGroup, "404 Group Not Found")
}

func findVisible[T any](c *rctx, byID map[int]*T, byPath func(string) *T, readable func(*user, *T) bool, notFound string) *T {
	key := c.params["id"]
	var x *T
	if id, err := strconv.Atoi(key); err == nil {
		x = byID[id]
	} else {
		x = byPath(key)
	}
	if x == nil || !readable(c.u, x) {
		writeMessage(c.w, http.StatusNotFound, notFound)
		return nil
	}
	return x
}

// readableRepo resolves :id for the repository routes: 404 for an unknown
// project, 403 without read_code.
func (c *rctx) readableRepo() *project {
	p := c.findProject()
	if p == nil {
		return nil
	}
	if !canReadCode(c.u, p) {
		c.forbidden()
		return nil
	}
	return p
}

// boolParam reads a Grape Boolean parameter: absent gives def; a value
// that is not a boolean gives ok false.
func (c *rctx) boolParam(name string, def bool) (v, ok bool) {
	raw, present := c.input[name]
	if !present {
		return def, true
	}
	return parseBool(raw)
}

// parseBool accepts what Grape's Boolean coercion accepts.
func parseBool(raw any) (bool, bool) {
	switch x := raw.(type) {
	case bool:
		return x, true
	case json.Number:
		switch x.String() {
		case "1":
			return true, true
		case "0":
			return false, true
		}
	case string:
		switch strings.ToLower(x) {
		case "true", "t", "1", "yes", "y", "on":
			return true, true
		case "false", "f", "0", "no", "n", "off":
			return false, true
		}
	}
	return false, false
}

// intParam reads a Grape Integer parameter: ok false when it is present
// but not an integer.
func parseInt(raw any) (int, bool) {
	switch x := raw.(type) {
	case json.Number:
		n, err := strconv.Atoi(x.String())
		return n, err == nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	}
	return 0, false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"message":"500 Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}

// writeMessage is GitLab's render_api_error!: {"message": msg}.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

// writeError is Grape's error!/validation form: {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (c *rctx) badRequest(msg string) {
	writeMessage(c.w, http.StatusBadRequest, "400 Bad request - "+msg)
}

func (c *rctx) forbidden() { writeMessage(c.w, http.StatusForbidden, "403 Forbidden") }

// str reads a string parameter, def when absent.
func (c *rctx) str(name, def string) string {
	v, ok := c.input[name]
	if !ok || v == nil {
		return def
	}
	if s, ok := v.(string); ok {
		if s == "" {
			return def
		}
		return s
	}
	return fmt.Sprint(v)
}
