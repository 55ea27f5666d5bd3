package sim

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

// GET /version (lib/api/version.rb; needs authentication).
func getVersion(c *rctx) {
	v := c.s.beh.versionText
	if strings.Count(v, ".") == 1 {
		v += ".0"
	}
	if c.s.opts.Enterprise && !strings.Contains(v, "-ee") {
		v += "-ee"
	}
	writeJSON(c.w, http.StatusOK, map[string]any{
		"version":    v,
		"revision":   c.s.revision(),
		"kas":        map[string]any{"enabled": false, "externalUrl": nil, "externalK8sProxyUrl": nil, "version": nil},
		"enterprise": c.s.opts.Enterprise,
	})
}

func (s *Server) revision() string {
	return fmt.Sprintf("sim%07x", s.beh.version.major<<8|s.beh.version.minor)
}

// GET /groups/:id: the group, with its projects unless with_projects=false
// (deprecated but still GitLab's default).
func getGroup(c *rctx, g *group) {
	withProjects, ok := c.boolParam("with_projects", true)
	if !ok {
		writeError(c.w, http.StatusBadRequest, "with_projects is invalid")
		return
	}
	st, base := c.s.st, c.s.baseURL(c.r)
	j := st.groupEntity(base, g)
	if withProjects {
		for _, p := range st.projectsUnder(g, false) {
			if canRead(c.u, p) && len(j.Projects) < maxPerPage {
				j.Projects = append(j.Projects, st.fullProject(base, p))
			}
		}
	}
	writeJSON(c.w, http.StatusOK, j)
}

// GET /groups/:id/projects with include_subgroups, archived, simple,
// search, order_by, sort and offset pagination.
func listGroupProjects(c *rctx, g *group) {
	subgroups, ok1 := c.boolParam("include_subgroups", false)
	simple, ok2 := c.boolParam("simple", false)
	_, archivedSet := c.input["archived"]
	archived, ok3 := c.boolParam("archived", false)
	if !ok1 || !ok2 || !ok3 {
		writeError(c.w, http.StatusBadRequest, firstInvalid(c, "include_subgroups", "simple", "archived"))
		return
	}
	search := strings.ToLower(c.str("search", ""))
	st := c.s.st
	var list []*project
	for _, p := range st.projectsUnder(g, subgroups) {
		if !canRead(c.u, p) || archivedSet && p.archived != archived {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(p.path), search) {
			continue
		}
		list = append(list, p)
	}
	if !sortProjects(c, list) {
		return
	}
	base := c.s.baseURL(c.r)
	if simple {
		writePage(c, list, func(p *project) basicProjectJSON { return st.basicProject(base, p) })
		return
	}
	writePage(c, list, func(p *project) projectJSON { return st.fullProject(base, p) })
}

func firstInvalid(c *rctx, names ...string) string {
	for _, n := range names {
		if _, ok := c.boolParam(n, false); !ok {
			return n + " is invalid"
		}
	}
	return "invalid parameter"
}

// sortProjects orders by order_by (created_at by default, which is ID
// order here) and sort (desc by default), ties broken by ID like GitLab.
func sortProjects(c *rctx, list []*project) bool {
	orderBy := c.str("order_by", "created_at")
	dir := c.str("sort", "desc")
	var key func(a, b *project) int
	switch orderBy {
	case "id", "created_at", "updated_at", "last_activity_at", "similarity":
		key = func(a, b *project) int { return cmp.Compare(a.id, b.id) }
	case "name", "path":
		key = func(a, b *project) int { return cmp.Or(strings.Compare(a.name(), b.name()), cmp.Compare(a.id, b.id)) }
	default:
		writeError(c.w, http.StatusBadRequest, "order_by does not have a valid value")
		return false
	}
	switch dir {
	case "asc":
		slices.SortFunc(list, key)
	case "desc":
		slices.SortFunc(list, func(a, b *project) int { return key(b, a) })
	default:
		writeError(c.w, http.StatusBadRequest, "sort does not have a valid value")
		return false
	}
	return true
}

// GET /groups/:id/subgroups and /descendant_groups, ordered by name.
func listSubgroups(c *rctx, g *group)        { listGroups(c, g, false) }
func listDescendantGroups(c *rctx, g *group) { listGroups(c, g, true) }

func listGroups(c *rctx, g *group, all bool) {
	st := c.s.st
	var list []*group
	for _, sg := range st.subgroups(g, all) {
		if canReadGroup(c.u, sg) {
			list = append(list, sg)
		}
	}
	slices.SortStableFunc(list, func(a, b *group) int { return cmp.Or(strings.Compare(a.name(), b.name()), cmp.Compare(a.id, b.id)) })
	base := c.s.baseURL(c.r)
	writePage(c, list, func(sg *group) groupJSON { return st.groupEntity(base, sg) })
}

// GET /projects/:id, with the caller's permissions.
func getProject(c *rctx, p *project) {
	j := c.s.st.fullProject(c.s.baseURL(c.r), p)
	j.Permissions = &permissionsJSON{}
	if c.u != nil {
		if r := c.u.roleOn(p.path); r > RoleNone {
			j.Permissions.ProjectAccess = &accessJSON{AccessLevel: int(r), NotificationLevel: 3}
		}
	}
	writeJSON(c.w, http.StatusOK, j)
}

type treeJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Path string `json:"path"`
	Mode string `json:"mode"`
}

// GET /projects/:id/repository/tree with path, ref, recursive and offset
// pagination. An unknown ref or an empty repository is 404 Tree Not Found;
// a path that is no folder lists nothing.
func listTree(c *rctx, p *project) {
	recursive, ok := c.boolParam("recursive", false)
	if !ok {
		writeError(c.w, http.StatusBadRequest, "recursive is invalid")
		return
	}
	ref := c.str("ref", "")
	if !p.refOK(ref) {
		writeMessage(c.w, http.StatusNotFound, "404 Tree Not Found")
		return
	}
	dir := c.str("path", "")
	var entries []treeEntry
	if p.isDir(dir) {
		entries = p.tree(dir, recursive)
	}
	writePage(c, entries, func(e treeEntry) treeJSON {
		e = c.s.st.withID(p, e)
		return treeJSON{ID: e.id, Name: e.name, Type: e.kind, Path: e.path, Mode: e.mode}
	})
}

// fileAt resolves :file_path at the ref for the files API (lib/api/files.rb
// assign_file_vars!): 404 Commit Not Found for an unknown ref, 404 File
// Not Found for a missing file.
func (c *rctx) fileAt(p *project, ref string) (string, []byte, blobInfo, bool) {
	name := strings.TrimPrefix(c.params["file_path"], "/")
	if !p.refOK(ref) {
		writeMessage(c.w, http.StatusNotFound, "404 Commit Not Found")
		return "", nil, blobInfo{}, false
	}
	clean := path.Clean(name)
	if clean != name || !p.hasFile(name) {
		writeMessage(c.w, http.StatusNotFound, "404 File Not Found")
		return "", nil, blobInfo{}, false
	}
	data, bi, err := c.s.st.readBlob(p, name)
	if err != nil {
		if errors.Is(err, inventory.ErrTooLarge) {
			writeMessage(c.w, http.StatusRequestEntityTooLarge, "413 Request Entity Too Large")
			return "", nil, blobInfo{}, false
		}
		writeMessage(c.w, http.StatusInternalServerError, "500 Internal Server Error")
		return "", nil, blobInfo{}, false
	}
	return name, data, bi, true
}

// GET /projects/:id/repository/files/:file_path?ref= (ref is required).
// HEAD is lib/api/files.rb's `head ":id/repository/files/:file_path"`:
// the same checks, the X-Gitlab-* headers and no body
// (https://docs.gitlab.com/api/repository_files/#get-file-metadata-only).
func getFile(c *rctx, p *project) {
	ref := fmt.Sprint(c.input["ref"])
	name, data, bi, ok := c.fileAt(p, ref)
	if !ok {
		return
	}
	if c.r.Method == http.MethodHead {
		setFileHeaders(c.w.Header(), p, name, ref, bi)
		c.w.Header().Set("Content-Type", "application/json")
		c.w.WriteHeader(http.StatusOK)
		return
	}
	commit := p.commitID()
	writeJSON(c.w, http.StatusOK, map[string]any{
		"file_name": path.Base(name), "file_path": name, "size": bi.size, "encoding": "base64",
		"content_sha256": bi.sha256, "ref": ref, "blob_id": bi.oid, "commit_id": commit,
		"last_commit_id": commit, "execute_filemode": false, "content": base64.StdEncoding.EncodeToString(data),
	})
}

// GET /projects/:id/repository/files/:file_path/raw (ref defaults to the
// default branch).
func getRawFile(c *rctx, p *project) {
	ref := c.str("ref", p.defaultBranch)
	name, data, bi, ok := c.fileAt(p, ref)
	if !ok {
		return
	}
	h := c.w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	setFileHeaders(h, p, name, ref, bi)
	c.w.WriteHeader(http.StatusOK)
	if c.r.Method != http.MethodHead {
		c.w.Write(data)
	}
}

// GET /projects/:id/jobs/:job_id/trace: the job log as plain text
// (API::Ci::Jobs, behind authenticate! and read_build).
func getTrace(c *rctx, p *project) {
	_, log, ok := findJob(c, p)
	if !ok {
		return
	}
	c.w.Header().Set("Content-Type", "text/plain")
	c.w.WriteHeader(http.StatusOK)
	c.w.Write(log)
}
