package sim

import (
	"net/http"
	"path"
	"strconv"
	"strings"
)

// Routes beyond the job token scope: the current user, the project list,
// one job, and writing the application settings.

// userJSON is Entities::UserPublic (lib/api/entities/user_public.rb),
// the answer of GET /user, with is_admin added for administrators
// (Entities::UserWithAdmin, which lib/api/users.rb uses when the caller
// can_read_all_resources?).
type userJSON struct {
	ID        int     `json:"id"`
	Username  string  `json:"username"`
	Name      string  `json:"name"`
	State     string  `json:"state"`
	Locked    bool    `json:"locked"`
	AvatarURL *string `json:"avatar_url"`
	WebURL    string  `json:"web_url"`
	CreatedAt string  `json:"created_at"`
	Bot       bool    `json:"bot"`
	IsAdmin   *bool   `json:"is_admin,omitempty"`
}

// GET /user (lib/api/users.rb, behind authenticate!; 401 when anonymous).
func getUser(c *rctx) {
	j := userJSON{
		ID: c.u.id, Username: c.u.username, Name: c.u.username, State: "active",
		WebURL: c.s.baseURL(c.r) + "/" + c.u.username, CreatedAt: gitlabTime(c.s.st.loadedAt),
	}
	if c.u.admin {
		j.IsAdmin = ptrTo(true)
	}
	writeJSON(c.w, http.StatusOK, j)
}

func ptrTo[T any](v T) *T { return &v }

// GET /projects (lib/api/projects.rb, ProjectsFinder): anonymous callers
// see public projects, signed-in users also internal ones and the private
// projects they are members of, administrators everything
// (Project.public_or_visible_to_user). membership, owned and
// min_access_level narrow to the caller's projects; visibility, archived,
// search, simple, order_by and sort as on /groups/:id/projects; offset
// pagination. An administrator counts as a member of every project here,
// since the simulator's roles give admins Owner everywhere.
func listProjects(c *rctx) {
	membership, ok1 := c.boolParam("membership", false)
	owned, ok2 := c.boolParam("owned", false)
	simple, ok3 := c.boolParam("simple", false)
	_, archivedSet := c.input["archived"]
	archived, ok4 := c.boolParam("archived", false)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		writeError(c.w, http.StatusBadRequest, firstInvalid(c, "membership", "owned", "simple", "archived"))
		return
	}
	minAccess := RoleNone
	if raw, set := c.input["min_access_level"]; set {
		n, ok := parseInt(raw)
		// Grape: values: Gitlab::Access.all_values.
		if !ok || !validAccessLevel(n) {
			writeError(c.w, http.StatusBadRequest, "min_access_level does not have a valid value")
			return
		}
		minAccess = Role(n)
	}
	visibility := c.str("visibility", "")
	if _, ok := visibilityRank[visibility]; visibility != "" && !ok {
		writeError(c.w, http.StatusBadRequest, "visibility does not have a valid value")
		return
	}
	search := strings.ToLower(c.str("search", ""))
	st := c.s.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	var list []*project
	for _, p := range st.projects {
		role := c.u.roleOn(p.path)
		switch {
		case !canRead(c.u, p),
			membership && role < RoleGuest,
			owned && role < RoleOwner,
			minAccess > RoleNone && role < minAccess,
			visibility != "" && p.visibility != visibility,
			archivedSet && p.archived != archived,
			search != "" && !strings.Contains(strings.ToLower(p.path), search):
			continue
		}
		list = append(list, p)
	}
	if !sortProjects(c, list) {
		return
	}
	base := c.s.baseURL(c.r)
	// Anonymous callers always get the simple entity (projects.rb:
	// `options[:with] = Entities::BasicProjectDetails` when not signed in).
	if simple || c.u == nil {
		writePage(c, list, func(p *project) basicProjectJSON { return st.basicProject(base, p) })
		return
	}
	writePage(c, list, func(p *project) projectJSON { return st.fullProject(base, p) })
}

func validAccessLevel(n int) bool {
	switch Role(n) {
	case RoleNone, RoleGuest, RoleReporter, RoleDeveloper, RoleMaintainer, RoleOwner, 5:
		// 5 is Gitlab::Access::MINIMAL_ACCESS.
		return true
	}
	return false
}

// jobJSON is the part of Entities::Ci::Job (lib/api/entities/ci/job.rb)
// the simulator can know: a job is known only by its log, so it is a
// finished job on the default branch with GitLab's field names.
type jobJSON struct {
	ID            int             `json:"id"`
	Status        string          `json:"status"`
	Stage         string          `json:"stage"`
	Name          string          `json:"name"`
	Ref           string          `json:"ref"`
	Tag           bool            `json:"tag"`
	Coverage      *float64        `json:"coverage"`
	AllowFailure  bool            `json:"allow_failure"`
	CreatedAt     string          `json:"created_at"`
	StartedAt     string          `json:"started_at"`
	FinishedAt    string          `json:"finished_at"`
	WebURL        string          `json:"web_url"`
	Pipeline      jobPipelineJSON `json:"pipeline"`
	Project       jobProjectJSON  `json:"project"`
	TagList       []string        `json:"tag_list"`
	FailureReason *string         `json:"failure_reason,omitempty"`
}

type jobPipelineJSON struct {
	ID        int    `json:"id"`
	ProjectID int    `json:"project_id"`
	Ref       string `json:"ref"`
	SHA       string `json:"sha"`
	Status    string `json:"status"`
}

// jobProjectJSON is the job's project block, which since 16.x holds
// ci_job_token_scope_enabled (the outbound setting, always off here).
type jobProjectJSON struct {
	CIJobTokenScopeEnabled bool `json:"ci_job_token_scope_enabled"`
}

// GET /projects/:id/jobs/:job_id (lib/api/ci/jobs.rb: authenticate!,
// authorize_read_builds! (403), find_build! (404)). The 404 wording is
// the trace route's, as both find the build the same way.
func getJob(c *rctx, p *project) {
	id, _, ok := findJob(c, p)
	if !ok {
		return
	}
	c.s.st.mu.RLock()
	defer c.s.st.mu.RUnlock()
	writeJSON(c.w, http.StatusOK, c.jobEntity(p, id))
}

// settingsJSON is the part of Entities::ApplicationSetting the simulator
// keeps. enforce_ci_inbound_job_token_scope_enabled exists since 17.6
// (https://docs.gitlab.com/api/settings/, "Enable and enforce job token
// allowlist for all projects"; gitlab-org/gitlab MR 166952).
func (c *rctx) settingsJSON() map[string]any {
	settings := map[string]any{"id": 1, "default_ci_config_path": nil, "default_project_visibility": "private"}
	if c.s.beh.version.atLeast(17, 6) {
		settings["enforce_ci_inbound_job_token_scope_enabled"] = c.s.st.enforce
	}
	return settings
}

// GET /application/settings (lib/api/settings.rb: authenticated_as_admin!,
// 401 anonymous, 403 for other users).
func getSettings(c *rctx) {
	if !c.u.admin {
		c.forbidden()
		return
	}
	c.s.st.mu.RLock()
	defer c.s.st.mu.RUnlock()
	writeJSON(c.w, http.StatusOK, c.settingsJSON())
}

// PUT /application/settings: as GET, then the change. The parameter is
// a Grape Boolean (a value that is not one is 400 "... is invalid"); a
// null passes Grape but fails ApplicationSetting's boolean validation
// ("must be a boolean value", app/models/application_setting.rb), which
// render_validation_error! answers with the field's messages. Before 17.6 the parameter is
// unknown, and Grape drops undeclared parameters.
func putSettings(c *rctx) {
	if !c.u.admin {
		c.forbidden()
		return
	}
	const name = "enforce_ci_inbound_job_token_scope_enabled"
	raw, set := c.input[name]
	set = set && c.s.beh.version.atLeast(17, 6)
	var enforce bool
	if set {
		if raw == nil {
			writeJSON(c.w, http.StatusBadRequest, map[string]any{"message": map[string][]string{name: {"must be a boolean value"}}})
			return
		}
		v, ok := parseBool(raw)
		if !ok {
			writeError(c.w, http.StatusBadRequest, name+" is invalid")
			return
		}
		enforce = v
	}
	st := c.s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if set {
		st.enforce = enforce
	}
	writeJSON(c.w, http.StatusOK, c.settingsJSON())
}

// setFileHeaders writes the X-Gitlab-* headers of the files API
// (API::Helpers::HeadersHelpers#set_http_headers in
// lib/api/helpers/headers_helpers.rb: one "X-Gitlab-<Key>" per blob_data
// key of lib/api/files.rb), which the raw route and HEAD send.
func setFileHeaders(h http.Header, p *project, name, ref string, bi blobInfo) {
	h.Set("X-Gitlab-Blob-Id", bi.oid)
	h.Set("X-Gitlab-Commit-Id", p.commitID())
	h.Set("X-Gitlab-Content-Sha256", bi.sha256)
	h.Set("X-Gitlab-Encoding", "base64")
	h.Set("X-Gitlab-Execute-Filemode", "false")
	h.Set("X-Gitlab-File-Name", path.Base(name))
	h.Set("X-Gitlab-File-Path", name)
	h.Set("X-Gitlab-Last-Commit-Id", p.commitID())
	h.Set("X-Gitlab-Ref", ref)
	h.Set("X-Gitlab-Size", strconv.Itoa(bi.size))
}

// findJob is the lookup getJob and getTrace share (authorize_read_builds!
// then find_build! in lib/api/ci/jobs.rb): it answers the error itself and
// reports false when there is no job to show.
func findJob(c *rctx, p *project) (int, []byte, bool) {
	if !canReadJobs(c.u, p) {
		c.forbidden()
		return 0, nil, false
	}
	id, err := strconv.Atoi(c.params["job_id"])
	if err != nil {
		writeError(c.w, http.StatusBadRequest, "job_id is invalid")
		return 0, nil, false
	}
	c.s.st.mu.RLock()
	log, ok := p.jobs[id]
	c.s.st.mu.RUnlock()
	if !ok {
		writeMessage(c.w, http.StatusNotFound, "404 Not Found")
		return 0, nil, false
	}
	return id, log, true
}
