package sim

import (
	"errors"
	"net/http"
	"strconv"
)

// The eight /projects/:id/job_token_scope endpoints
// (lib/api/project_job_token_scope.rb), with the order of checks of
// GitLab's request spec (spec/requests/api/project_job_token_scope_spec.rb):
// authentication (401, authed in the route table),
// parameters (400), the project (404), admin_project (403), the target
// (404), then the service (400, or 403 for the DELETEs' permission
// failure).

// inScope runs h on the project :id names under the state's lock (the
// write lock for changes), after the 404 for a project the user cannot
// see and, with admin, the 403 without admin_project. The DELETEs leave
// the permission check to the service.
func (c *rctx) inScope(write, admin bool, h func(p *project)) {
	st := c.s.st
	if write {
		st.mu.Lock()
		defer st.mu.Unlock()
	} else {
		st.mu.RLock()
		defer st.mu.RUnlock()
	}
	p := c.findProject()
	switch {
	case p == nil:
	case admin && !canAdmin(c.u, p):
		c.forbidden()
	default:
		h(p)
	}
}

// numericID enforces the Integer :id of the write routes (Grape
// `requires :id, type: Integer`): a URL-encoded path is refused there.
// Inferred from the route declaration in lib/api/project_job_token_scope.rb; tools should
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
	c.inScope(false, true, func(p *project) {
		writeJSON(c.w, http.StatusOK, scopeJSON{InboundEnabled: c.s.inboundEnabled(p)})
	})
}

// PATCH /projects/:id/job_token_scope {enabled: Boolean, required, not blank}
func patchScope(c *rctx) {
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
	c.inScope(true, true, func(p *project) {
		if err := c.s.setInbound(p, enabled); err != nil {
			c.badRequest(err.Error())
			return
		}
		c.w.WriteHeader(http.StatusNoContent)
	})
}

// allowlistKind is what sets the project allowlist routes (/allowlist)
// apart from the group ones (/groups_allowlist): the parameter naming the
// target, the entities listed, and how each change finds its target and
// which service it runs. The checks around them are the same.
type allowlistKind struct {
	param string // target_project_id or target_group_id
	list  func(c *rctx, p *project)
	// add and remove find the target by ID and run the service; a target
	// they cannot find is a notFound carrying the route's message.
	add    func(c *rctx, p *project, targetID int) error
	remove func(c *rctx, p *project, targetID int) error
}

// notFound is the 404 of a route that cannot find the target.
type notFound string

func (e notFound) Error() string { return string(e) }

var projectAllowlist = allowlistKind{
	param: "target_project_id",
	// BasicProjectDetails of the project itself and its inbound project
	// links.
	list: func(c *rctx, p *project) {
		base := c.s.baseURL(c.r)
		writePage(c, c.s.st.allowlistProjects(p), func(t *project) basicProjectJSON { return c.s.st.basicProject(base, t) })
	},
	add: func(c *rctx, p *project, id int) error {
		t, err := findByID(c.s.st.projByID, id, "target_project_id")
		if err == nil {
			_, err = c.s.addProjectLink(c.u, p, t, true, nil)
		}
		return err
	},
	remove: func(c *rctx, p *project, id int) error {
		// find_project!: a target the user cannot see is not found.
		t := c.s.st.projByID[id]
		if t == nil || !canRead(c.u, t) {
			return notFound("404 Project Not Found")
		}
		_, err := c.s.removeProjectLink(c.u, p, t, false)
		return err
	},
}

var groupAllowlist = allowlistKind{
	param: "target_group_id",
	// BasicGroupDetails of the group links.
	list: func(c *rctx, p *project) {
		base := c.s.baseURL(c.r)
		writePage(c, c.s.st.allowlistGroups(p), func(g *group) basicGroupJSON {
			return basicGroupJSON{ID: g.id, WebURL: base + "/groups/" + g.path, Name: g.name()}
		})
	},
	add: func(c *rctx, p *project, id int) error {
		t, err := findByID(c.s.st.groupByID, id, "target_group_id")
		if err == nil {
			_, err = c.s.addGroupLink(c.u, p, t, true, nil)
		}
		return err
	},
	remove: func(c *rctx, p *project, id int) error {
		t, err := findByID(c.s.st.groupByID, id, "target_group_id")
		if err == nil {
			_, err = c.s.removeGroupLink(c.u, p, t)
		}
		return err
	},
}

// findByID is the routes' Project.find_by_id or Group.find_by_id, which
// check no visibility (the services check read access and answer 400);
// not_found! names the parameter.
func findByID[T any](byID map[int]*T, id int, param string) (*T, error) {
	if t := byID[id]; t != nil {
		return t, nil
	}
	return nil, notFound("404 " + param + " not found Not Found")
}

// GET /projects/:id/job_token_scope/allowlist and /groups_allowlist
func (k allowlistKind) listRoute(c *rctx) {
	c.inScope(false, true, func(p *project) { k.list(c, p) })
}

// POST /projects/:id/job_token_scope/allowlist {target_project_id} and
// /groups_allowlist {target_group_id}
func (k allowlistKind) addRoute(c *rctx) {
	if !c.numericID() {
		return
	}
	raw, present := c.input[k.param]
	id, ok := c.intInput(k.param, raw, present)
	if !ok {
		return
	}
	c.inScope(true, true, func(p *project) {
		// The routes call bad_request! on every service error, even
		// :insufficient_permissions.
		if err := k.add(c, p, id); err != nil {
			c.failed(err, false)
			return
		}
		writeJSON(c.w, http.StatusCreated, map[string]int{"source_project_id": p.id, k.param: id})
	})
}

// DELETE /projects/:id/job_token_scope/allowlist/:target_project_id and
// /groups_allowlist/:target_group_id
func (k allowlistKind) removeRoute(c *rctx) {
	if !c.numericID() {
		return
	}
	id, ok := c.intInput(k.param, c.params[k.param], true)
	if !ok {
		return
	}
	c.inScope(true, false, func(p *project) {
		if err := k.remove(c, p, id); err != nil {
			c.failed(err, true)
			return
		}
		c.w.WriteHeader(http.StatusNoContent)
	})
}

// failed answers a failed allowlist change: 404 for a target the route
// cannot find; 403 with the message for :insufficient_permissions where
// the route reports it (perm403, the DELETEs); else 400.
func (c *rctx) failed(err error, perm403 bool) {
	var nf notFound
	var se *svcError
	switch {
	case errors.As(err, &nf):
		writeMessage(c.w, http.StatusNotFound, string(nf))
	case perm403 && errors.As(err, &se) && se.perm:
		writeMessage(c.w, http.StatusForbidden, "403 Forbidden - "+se.msg)
	default:
		c.badRequest(err.Error())
	}
}
