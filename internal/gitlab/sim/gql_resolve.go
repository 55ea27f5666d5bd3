package sim

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

// Resolvers of the GraphQL types the simulator serves. Authorization
// follows GitLab: objects the user cannot read are null without an error;
// the job token fields (resolvers with authorize :admin_project) are null
// with the "resource not available" error; ProjectCiCdSetting (a type
// with authorize :admin_project) is null without one.

const maxPageSize = 100 // GitlabSchema default_max_page_size

type queryRoot struct{}

func (queryRoot) typeName() string { return "Query" }

func (queryRoot) field(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	st := ec.st
	switch f.Name {
	case "project":
		p := st.project(str(args["fullPath"]))
		if p == nil || !canRead(ec.u, p) {
			return nil, nil
		}
		return &projectObj{p}, nil
	case "group":
		g := st.group(str(args["fullPath"]))
		if g == nil || !canReadGroup(ec.u, g) {
			return nil, nil
		}
		return &groupObj{g}, nil
	case "projects":
		return ec.queryProjects(args)
	case "metadata":
		if ec.u == nil {
			return nil, nil
		}
		return &payload{name: "Metadata", fields: map[string]any{
			"version": ec.s.beh.versionText, "revision": ec.s.revision(), "enterprise": ec.s.opts.Enterprise,
		}}, nil
	}
	return nil, unknownField(queryRoot{}, f)
}

// queryProjects is Resolvers::ProjectsResolver: readable projects, newest
// first (ProjectsFinder's id desc), at most 50 fullPaths.
func (ec *execCtx) queryProjects(args map[string]any) (any, error) {
	paths := strList(args["fullPaths"])
	if len(paths) > 50 {
		return nil, &fieldError{msg: "You cannot provide more than 50 full_paths"}
	}
	membership, _ := args["membership"].(bool)
	var want map[string]bool
	if args["fullPaths"] != nil {
		want = map[string]bool{}
		for _, p := range paths {
			want[strings.ToLower(p)] = true
		}
	}
	return ec.projectConnection(ec.st.projects, args, func(p *project) bool {
		return (want == nil || want[strings.ToLower(p.path)]) && (!membership || ec.u.roleOn(p.path) >= RoleGuest)
	})
}

// projectConnection is what ProjectsResolver and NamespaceProjectsResolver
// share: the projects of list the user can read that match the ids and
// search arguments and keep, newest first (ProjectsFinder's id desc).
func (ec *execCtx) projectConnection(list []*project, args map[string]any, keep func(*project) bool) (any, error) {
	ids := idSet(strList(args["ids"]), "Project")
	search := strings.ToLower(str(args["search"]))
	var found []*project
	for _, p := range list {
		switch {
		case !canRead(ec.u, p),
			ids != nil && !ids[p.id],
			search != "" && !strings.Contains(strings.ToLower(p.path), search),
			!keep(p):
			continue
		}
		found = append(found, p)
	}
	slices.SortFunc(found, func(a, b *project) int { return b.id - a.id })
	var out []any
	for _, p := range found {
		out = append(out, &projectObj{p})
	}
	return newConnection("ProjectConnection", out, args, maxPageSize)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func strList(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// idSet reads global IDs (gid://gitlab/Project/12) or plain numbers; nil
// when no list was given.
func idSet(ids []string, kind string) map[int]bool {
	if ids == nil {
		return nil
	}
	out := map[int]bool{}
	for _, s := range ids {
		if n, err := strconv.Atoi(strings.TrimPrefix(s, "gid://gitlab/"+kind+"/")); err == nil {
			out[n] = true
		}
	}
	return out
}

func gid(kind string, id int) string { return fmt.Sprintf("gid://gitlab/%s/%d", kind, id) }

// ident is what Project, Group and the CiJobTokenAccessible types have in
// common.
type ident struct {
	kind string // "Project" or "Group"
	id   int
	path string
}

func (p *project) ident() ident { return ident{kind: "Project", id: p.id, path: p.path} }
func (g *group) ident() ident   { return ident{kind: "Group", id: g.id, path: g.path} }

// field resolves the fields every type with an ident has; ok is false
// for any other.
func (n ident) field(ec *execCtx, name string) (v any, ok bool) {
	switch name {
	case "id":
		return gid(n.kind, n.id), true
	case "name", "path":
		return inventory.Name(n.path), true
	case "fullPath":
		return n.path, true
	case "webUrl":
		if n.kind == "Group" {
			return ec.base + "/groups/" + n.path, true
		}
		return ec.base + "/" + n.path, true
	}
	return nil, false
}

// --- Project ---

type projectObj struct{ p *project }

func (*projectObj) typeName() string { return "Project" }

func (o *projectObj) field(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	p := o.p
	if v, ok := p.ident().field(ec, f.Name); ok {
		return v, nil
	}
	switch f.Name {
	case "visibility":
		return p.visibility, nil
	case "archived":
		return p.archived, nil
	case "ciConfigPathOrDefault":
		return cmp.Or(p.ciConfigPath, ".gitlab-ci.yml"), nil
	case "repository":
		if !canReadCode(ec.u, p) {
			return nil, nil
		}
		return &repositoryObj{p}, nil
	case "ciCdSettings":
		if !canAdmin(ec.u, p) {
			return nil, nil
		}
		return &ciCdSettingObj{p}, nil
	case "ciJobTokenScope":
		if !canAdmin(ec.u, p) {
			return nil, errNotAvailable()
		}
		return &scopeObj{p}, nil
	case "ciJobTokenScopeAllowlist":
		if !canAdmin(ec.u, p) {
			return nil, errNotAvailable()
		}
		return &allowlistObj{p}, nil
	case "ciJobTokenAuthLogs":
		if !canAdmin(ec.u, p) {
			return nil, errNotAvailable()
		}
		return ec.authLogs(p, args)
	}
	return nil, unknownField(o, f)
}

// authLogs lists the log newest first; deleted origins are left out
// (MR 200900).
func (ec *execCtx) authLogs(p *project, args map[string]any) (any, error) {
	rows := slices.Clone(p.authLog)
	slices.SortStableFunc(rows, func(a, b authRow) int { return b.at.Compare(a.at) })
	var out []any
	for _, r := range rows {
		if origin := ec.st.projByID[r.originID]; origin != nil {
			out = append(out, &payload{name: "CiJobTokenAuthLog", fields: map[string]any{
				"originProject":    &accessibleObj{origin.ident()},
				"lastAuthorizedAt": r.at.UTC().Format(time.RFC3339),
			}})
		}
	}
	return newConnection("CiJobTokenAuthLogConnection", out, args, maxPageSize)
}

// --- Group ---

type groupObj struct{ g *group }

func (*groupObj) typeName() string { return "Group" }

func (o *groupObj) field(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	g := o.g
	if v, ok := g.ident().field(ec, f.Name); ok {
		return v, nil
	}
	switch f.Name {
	case "visibility":
		return g.visibility, nil
	case "projects":
		sub, _ := args["includeSubgroups"].(bool)
		archived := boolOr(args["includeArchived"], true)
		return ec.projectConnection(ec.st.projectsUnder(g, sub), args, func(p *project) bool { return archived || !p.archived })
	case "descendantGroups":
		search := strings.ToLower(str(args["search"]))
		var out []any
		for _, sg := range ec.st.subgroups(g, true) {
			if canReadGroup(ec.u, sg) && (search == "" || strings.Contains(strings.ToLower(sg.path), search)) {
				out = append(out, &groupObj{sg})
			}
		}
		return newConnection("GroupConnection", out, args, maxPageSize)
	}
	return nil, unknownField(o, f)
}

// --- Repository ---

type repositoryObj struct{ p *project }

func (*repositoryObj) typeName() string { return "Repository" }

func (o *repositoryObj) field(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	p := o.p
	switch f.Name {
	case "rootRef":
		if p.defaultBranch == "" {
			return nil, nil
		}
		return p.defaultBranch, nil
	case "empty":
		return p.files == nil, nil
	case "exists":
		return true, nil
	case "tree":
		if !p.refOK(str(args["ref"])) {
			return nil, nil
		}
		recursive, _ := args["recursive"].(bool)
		dir := str(args["path"])
		var entries []treeEntry
		if p.isDir(dir) {
			entries = p.tree(dir, recursive)
		}
		return &treeObj{p: p, entries: entries}, nil
	case "blobs":
		var out []any
		if p.refOK(str(args["ref"])) {
			seen := map[string]bool{}
			for _, name := range strList(args["paths"]) {
				name = strings.TrimPrefix(name, "/")
				if seen[name] || path.Clean(name) != name || !p.hasFile(name) {
					continue
				}
				seen[name] = true
				out = append(out, &repoBlobObj{p: p, path: name})
			}
		}
		return newConnection("RepositoryBlobConnection", out, args, maxPageSize)
	}
	return nil, unknownField(o, f)
}

type treeObj struct {
	p       *project
	entries []treeEntry
}

func (*treeObj) typeName() string { return "Tree" }

func (o *treeObj) field(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	var out []any
	switch f.Name {
	case "blobs":
		for _, e := range o.entries {
			if e.kind == "blob" {
				out = append(out, &treeEntryObj{p: o.p, e: e, name: "Blob"})
			}
		}
		return newConnection("BlobConnection", out, args, maxPageSize)
	case "trees":
		for _, e := range o.entries {
			if e.kind == "tree" {
				out = append(out, &treeEntryObj{p: o.p, e: e, name: "TreeEntry"})
			}
		}
		return newConnection("TreeEntryConnection", out, args, maxPageSize)
	case "submodules":
		// Snapshots hold no gitlinks.
		return newConnection("SubmoduleConnection", nil, args, maxPageSize)
	}
	return nil, unknownField(o, f)
}

type treeEntryObj struct {
	p    *project
	e    treeEntry
	name string
}

func (o *treeEntryObj) typeName() string { return o.name }

func (o *treeEntryObj) field(ec *execCtx, f *ast.Field, _ map[string]any) (any, error) {
	switch f.Name {
	case "id", "sha":
		o.e = ec.st.withID(o.p, o.e)
		return o.e.id, nil
	case "name":
		return o.e.name, nil
	case "path":
		return o.e.path, nil
	case "type":
		return o.e.kind, nil
	case "mode":
		return o.e.mode, nil
	}
	return nil, unknownField(o, f)
}

type repoBlobObj struct {
	p    *project
	path string
}

func (*repoBlobObj) typeName() string { return "RepositoryBlob" }

func (o *repoBlobObj) field(ec *execCtx, f *ast.Field, _ map[string]any) (any, error) {
	switch f.Name {
	case "path":
		return o.path, nil
	case "name":
		return path.Base(o.path), nil
	case "storedExternally":
		return false, nil
	}
	data, bi, err := ec.st.readBlob(o.p, o.path)
	if err != nil {
		return nil, &fieldError{msg: "Internal server error"}
	}
	switch f.Name {
	case "id":
		return "gid://gitlab/Blob/" + bi.oid, nil
	case "oid":
		return bi.oid, nil
	case "size", "rawSize":
		return strconv.Itoa(bi.size), nil // BigInt travels as a string
	case "rawTextBlob":
		if bi.binary {
			return nil, nil
		}
		return string(data), nil
	}
	return nil, unknownField(o, f)
}

// --- job token ---

type ciCdSettingObj struct{ p *project }

func (*ciCdSettingObj) typeName() string { return "ProjectCiCdSetting" }

func (o *ciCdSettingObj) field(ec *execCtx, f *ast.Field, _ map[string]any) (any, error) {
	switch f.Name {
	case "inboundJobTokenScopeEnabled":
		return ec.s.inboundEnabled(o.p), nil
	case "jobTokenScopeEnabled":
		return false, nil
	case "pushRepositoryForJobTokenAllowed":
		return o.p.pushAllowed, nil
	case "project":
		return &projectObj{o.p}, nil
	}
	return nil, unknownField(o, f)
}

// scopeObj is Ci::JobToken::Scope (CiJobTokenScopeType).
type scopeObj struct{ p *project }

func (*scopeObj) typeName() string { return "CiJobTokenScopeType" }

func (o *scopeObj) field(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	p, st := o.p, ec.st
	switch f.Name {
	case "inboundAllowlist":
		return newConnection("CiJobTokenAccessibleProjectConnection", accessible(st.allowlistProjects(p)), args, maxPageSize)
	case "groupsAllowlist":
		return newConnection("CiJobTokenAccessibleGroupConnection", accessible(st.allowlistGroups(p)), args, maxPageSize)
	case "inboundAllowlistCount":
		return len(st.allowlistProjects(p)), nil
	case "groupsAllowlistCount":
		return len(p.groupLinks), nil
	case "inboundAllowlistAutopopulatedIds":
		return gids("Project", autopopulatedIDs(p.projectLinks)), nil
	case "groupAllowlistAutopopulatedIds":
		return gids("Group", autopopulatedIDs(p.groupLinks)), nil
	case "outboundAllowlist", "projects":
		// Outbound links are not simulated; Allowlist#projects still
		// holds the project itself.
		return newConnection("ProjectConnection", []any{&projectObj{p}}, args, maxPageSize)
	}
	return nil, unknownField(o, f)
}

// accessible lists projects or groups as CiJobTokenAccessibleProject or
// CiJobTokenAccessibleGroup.
func accessible[T interface{ ident() ident }](list []T) []any {
	var out []any
	for _, x := range list {
		out = append(out, &accessibleObj{x.ident()})
	}
	return out
}

func gids(kind string, ids []int) []string {
	out := []string{}
	for _, id := range ids {
		out = append(out, gid(kind, id))
	}
	return out
}

// accessibleObj is CiJobTokenAccessibleProject or CiJobTokenAccessibleGroup,
// the minimal types without authorization (MR 178401).
type accessibleObj struct{ ident }

func (o *accessibleObj) typeName() string { return "CiJobTokenAccessible" + o.kind }

func (o *accessibleObj) field(ec *execCtx, f *ast.Field, _ map[string]any) (any, error) {
	if v, ok := o.ident.field(ec, f.Name); ok {
		return v, nil
	}
	if f.Name == "avatarUrl" {
		return nil, nil
	}
	return nil, unknownField(o, f)
}

type allowlistObj struct{ p *project }

func (*allowlistObj) typeName() string { return "CiJobTokenScopeAllowlist" }

// The connections page by the link limits (their max_page_size).
func (o *allowlistObj) field(ec *execCtx, f *ast.Field, args map[string]any) (any, error) {
	switch f.Name {
	case "projectsAllowlist":
		return o.entries(o.p.projectLinks, false, projectLinkLimit, args)
	case "groupsAllowlist":
		return o.entries(o.p.groupLinks, true, groupLinkLimit, args)
	}
	return nil, unknownField(o, f)
}

func (o *allowlistObj) entries(links []*link, group bool, maxPage int, args map[string]any) (any, error) {
	var out []any
	for _, l := range links {
		out = append(out, &entryObj{src: o.p, l: l, group: group})
	}
	return newConnection("CiJobTokenScopeAllowlistEntryConnection", out, args, maxPage)
}

// entryObj is an allowlist entry (CiJobTokenScopeAllowlistEntry).
type entryObj struct {
	src   *project
	l     *link
	group bool
}

func (*entryObj) typeName() string { return "CiJobTokenScopeAllowlistEntry" }

func (o *entryObj) field(ec *execCtx, f *ast.Field, _ map[string]any) (any, error) {
	switch f.Name {
	case "sourceProject":
		return &projectObj{o.src}, nil
	case "target":
		if o.group {
			if g := ec.st.groupByID[o.l.targetID]; g != nil {
				return &accessibleObj{g.ident()}, nil
			}
			return nil, nil
		}
		if t := ec.st.projByID[o.l.targetID]; t != nil {
			return &accessibleObj{t.ident()}, nil
		}
		return nil, nil
	case "direction":
		return "inbound", nil
	case "defaultPermissions":
		return o.l.defaultPermissions || !ec.s.beh.policies, nil
	case "jobTokenPolicies":
		if !ec.s.beh.policies {
			return nil, nil
		}
		out := []string{}
		for _, p := range o.l.policies {
			out = append(out, strings.ToUpper(p))
		}
		return out, nil
	case "addedBy":
		return &payload{name: "UserCore", fields: map[string]any{"id": gid("User", 1), "username": o.l.addedBy, "name": o.l.addedBy}}, nil
	case "createdAt":
		return o.l.createdAt.UTC().Format(time.RFC3339), nil
	case "autopopulated":
		return o.l.autopopulated, nil
	}
	return nil, unknownField(o, f)
}
