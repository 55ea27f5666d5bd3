package inventory

import (
	"slices"
	"strings"
)

// Index answers lookups over an inventory: projects by path (GitLab paths
// are case-insensitive) or ID, groups by path or ID, and the projects under
// a group. Build it once; it is read-only and safe for concurrent use.
type Index struct {
	inv        *Inventory
	byPath     map[string]*Project
	byID       map[int]*Project
	groups     map[string]Group // lower-case path -> group
	groupsByID map[int]Group
}

// NewIndex indexes inv. Every namespace above a project counts as a group,
// listed or not.
func NewIndex(inv *Inventory) *Index {
	ix := &Index{
		inv:        inv,
		byPath:     make(map[string]*Project, len(inv.Projects)),
		byID:       make(map[int]*Project, len(inv.Projects)),
		groups:     map[string]Group{},
		groupsByID: map[int]Group{},
	}
	for _, g := range inv.Groups {
		ix.groups[strings.ToLower(g.Path)] = g
		if g.ID != 0 {
			ix.groupsByID[g.ID] = g
		}
	}
	for _, p := range inv.Projects {
		ix.byPath[strings.ToLower(p.Path)] = p
		if p.ID != 0 {
			ix.byID[p.ID] = p
		}
		for ns := Namespace(p.Path); ns != ""; ns = Namespace(ns) {
			if _, ok := ix.groups[strings.ToLower(ns)]; !ok {
				ix.groups[strings.ToLower(ns)] = Group{Path: ns}
			}
		}
	}
	return ix
}

// Inventory returns the indexed inventory.
func (ix *Index) Inventory() *Inventory { return ix.inv }

// Project returns the project with the full path p (case-insensitive).
func (ix *Index) Project(p string) *Project {
	return ix.byPath[strings.ToLower(strings.Trim(p, "/"))]
}

// ProjectByID returns the project with the numeric ID id.
func (ix *Index) ProjectByID(id int) *Project { return ix.byID[id] }

// Group returns the group with the full path p.
func (ix *Index) Group(p string) (Group, bool) {
	g, ok := ix.groups[strings.ToLower(strings.Trim(p, "/"))]
	return g, ok
}

// GroupByID returns the group with the numeric ID id.
func (ix *Index) GroupByID(id int) (Group, bool) {
	g, ok := ix.groupsByID[id]
	return g, ok
}

// LongestProjectPrefix returns the project whose path is the longest
// segment-wise prefix of p, as GitLab maps a registry repository path
// ("group/project/image") to its project.
func (ix *Index) LongestProjectPrefix(p string) *Project {
	p = strings.ToLower(strings.Trim(p, "/"))
	for {
		if pr, ok := ix.byPath[p]; ok {
			return pr
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return nil
		}
		p = p[:i]
	}
}

// ProjectsUnder returns the projects in group g or its subgroups, sorted.
func (ix *Index) ProjectsUnder(g string) []*Project {
	prefix := strings.ToLower(strings.Trim(g, "/")) + "/"
	var out []*Project
	for _, p := range ix.inv.Projects {
		if strings.HasPrefix(strings.ToLower(p.Path), prefix) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *Project) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Namespace returns the namespace (parent group path) of a full path, or
// "" for a top-level path.
func Namespace(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

// Name returns the last segment of a full path.
func Name(p string) string {
	return p[strings.LastIndexByte(p, '/')+1:]
}
