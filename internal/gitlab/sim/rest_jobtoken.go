package sim

import (
	"errors"
	"net/http"
	"strconv"
)

// The eight /projects/:id/job_token_scope endpoints
// (lib/api/project_job_token_scope.rb), with the order of checks of
// api-specs.md §4.3: authentication (401), parameters (400), the project
// (404), admin_project (403), the target (404), then the service (400, or
// 403 for the DELETEs' permission failure).

// scopeProject runs the common checks; admin is false for the DELETEs,
// which leave the permission check to the service.
func (c *rctx) scopeProject(admin bool) *project {
	p := c.findProject("id")
	if p == nil {
		return nil
	}
	if admin && !canAdmin(c.u, p) {
		c.forbidden()
		return nil
	}
	return p
}

// numericID enforces the Integer :id of the write routes (Grape
// `requires :id, type: Integer`): a URL-encoded path is refused there.
// Inferred from the route declaration (api-specs.md §4.1); tools should
// send numeric IDs for writes.
func (c *rctx) numericID() bool {
	if _, err := strconv.Atoi(c.params["id"]); err != nil {
		writeError(c.w, http.StatusBadRequest, "id is invalid")
		return false
	}
	return true
}

// intInput reads a required Integer parameter, answering Grape's 400.
func (c *rctx) intInput(name string, raw any, present bool) (int, bool) {
	if !present {
		writeError(c.w, http.StatusBadRequest, name+" is missing")
		return 0, false
	}
	n, ok := parseInt(raw)
	if !ok {
		writeError(c.w, http.StatusBadRequest, name+" is invalid")
		return 0, false
	}
	return n, true
}

type scopeJSON struct {
	InboundEnabled  bool `json:"inbound_enabled"`
	OutboundEnabled bool `json:"outbound_enabled"`
}

// GET /projects/:id/job_token_scope
func getScope(c *rctx) {
	if !c.authenticated() {
		return
	}
	st := c.s.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	p := c.scopeProject(true)
	if p == nil {
		return
	}
	writeJSON(c.w, http.StatusOK, scopeJSON{InboundEnabled: c.s.inboundEnabled(p)})
}

// PATCH /projects/:id/job_token_scope {enabled: Boolean, required, not blank}
func patchScope(c *rctx) {
	if !c.authenticated() {
		return
	}
	raw, present := c.input["enabled"]
	switch {
	case !present:
		writeError(c.w, http.StatusBadRequest, "enabled is missing")
		return
	case raw == nil || raw == "":
		writeError(c.w, http.StatusBadRequest, "enabled is empty")
		return
	}
	enabled, ok := parseBool(raw)
	if !ok {
		writeError(c.w, http.StatusBadRequest, "enabled is invalid")
		return
	}
	st := c.s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	p := c.scopeProject(true)
	if p == nil {
		return
	}
	if err := c.s.setInbound(p, enabled); err != nil {
		c.badRequest(err.Error())
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// GET /projects/:id/job_token_scope/allowlist: BasicProjectDetails of the
// project itself and its inbound project links.
func listProjectAllowlist(c *rctx) {
	if !c.authenticated() {
		return
	}
	st := c.s.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	p := c.scopeProject(true)
	if p == nil {
		return
	}
	list := st.allowlistProjects(p)
	start, end, ok := c.paginate(len(list))
	if !ok {
		return
	}
	base := c.s.baseURL(c.r)
	out := make([]basicProjectJSON, 0, end-start)
	for _, t := range list[start:end] {
		out = append(out, st.basicProject(base, t))
	}
	writeJSON(c.w, http.StatusOK, out)
}

// POST /projects/:id/job_token_scope/allowlist {target_project_id}
func addProjectAllowlist(c *rctx) {
	if !c.authenticated() || !c.numericID() {
		return
	}
	raw, present := c.input["target_project_id"]
	targetID, ok := c.intInput("target_project_id", raw, present)
	if !ok {
		return
	}
	st := c.s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	p := c.scopeProject(true)
	if p == nil {
		return
	}
	// Project.find_by_id: no visibility check here; the service checks
	// read access and answers 400.
	target := st.projByID[targetID]
	if target == nil {
		writeMessage(c.w, http.StatusNotFound, "404 target_project_id not found Not Found")
		return
	}
	if _, err := c.s.addProjectLink(c.u, p, target, true, nil); err != nil {
		c.badRequest(err.Error())
		return
	}
	writeJSON(c.w, http.StatusCreated, map[string]int{"source_project_id": p.id, "target_project_id": target.id})
}

// DELETE /projects/:id/job_token_scope/allowlist/:target_project_id
func removeProjectAllowlist(c *rctx) {
	if !c.authenticated() || !c.numericID() {
		return
	}
	targetID, ok := c.intInput("target_project_id", c.params["target_project_id"], true)
	if !ok {
		return
	}
	st := c.s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	p := c.scopeProject(false)
	if p == nil {
		return
	}
	target := st.projByID[targetID]
	if target == nil || !canRead(c.u, target) {
		writeMessage(c.w, http.StatusNotFound, "404 Project Not Found")
		return
	}
	c.serviceResult(c.s.removeProjectLink(c.u, p, target, false))
}

// GET /projects/:id/job_token_scope/groups_allowlist: BasicGroupDetails.
func listGroupAllowlist(c *rctx) {
	if !c.authenticated() {
		return
	}
	st := c.s.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	p := c.scopeProject(true)
	if p == nil {
		return
	}
	var groups []*group
	for _, l := range p.groupLinks {
		if g := st.groupByID[l.targetID]; g != nil {
			groups = append(groups, g)
		}
	}
	start, end, ok := c.paginate(len(groups))
	if !ok {
		return
	}
	base := c.s.baseURL(c.r)
	out := make([]basicGroupJSON, 0, end-start)
	for _, g := range groups[start:end] {
		out = append(out, basicGroupJSON{ID: g.id, WebURL: base + "/groups/" + g.path, Name: g.name()})
	}
	writeJSON(c.w, http.StatusOK, out)
}

// POST /projects/:id/job_token_scope/groups_allowlist {target_group_id}
func addGroupAllowlist(c *rctx) {
	if !c.authenticated() || !c.numericID() {
		return
	}
	raw, present := c.input["target_group_id"]
	targetID, ok := c.intInput("target_group_id", raw, present)
	if !ok {
		return
	}
	st := c.s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	p := c.scopeProject(true)
	if p == nil {
		return
	}
	target := st.groupByID[targetID]
	if target == nil {
		writeMessage(c.w, http.StatusNotFound, "404 target_group_id not found Not Found")
		return
	}
	if _, err := c.s.addGroupLink(c.u, p, target, true, nil); err != nil {
		c.badRequest(err.Error())
		return
	}
	writeJSON(c.w, http.StatusCreated, map[string]int{"source_project_id": p.id, "target_group_id": target.id})
}

// DELETE /projects/:id/job_token_scope/groups_allowlist/:target_group_id
func removeGroupAllowlist(c *rctx) {
	if !c.authenticated() || !c.numericID() {
		return
	}
	targetID, ok := c.intInput("target_group_id", c.params["target_group_id"], true)
	if !ok {
		return
	}
	st := c.s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	p := c.scopeProject(false)
	if p == nil {
		return
	}
	target := st.groupByID[targetID]
	if target == nil {
		writeMessage(c.w, http.StatusNotFound, "404 target_group_id not found Not Found")
		return
	}
	c.serviceResult(c.s.removeGroupLink(c.u, p, target))
}

// serviceResult answers a DELETE: 204, 403 with the message for
// :insufficient_permissions, else 400.
func (c *rctx) serviceResult(err error) {
	var se *svcError
	switch {
	case err == nil:
		c.w.WriteHeader(http.StatusNoContent)
	case errors.As(err, &se) && se.perm:
		writeMessage(c.w, http.StatusForbidden, "403 Forbidden - "+se.msg)
	default:
		c.badRequest(err.Error())
	}
}
