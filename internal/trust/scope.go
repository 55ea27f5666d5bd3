package trust

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/nearest"
)

// Outside is an entry of the file that names a project or group outside
// the scope of the inventory it was loaded against (archived and not read,
// or in a group that was not read): it is reported, with the flag that
// brings the project in, and left out of the plan, which can say nothing
// about an allowlist it has not read.
type Outside struct {
	Line       int
	What       string // "edge a → b", "group grant g → b", "open b"
	Why        string // the reason and the flag, as in the warning
	Unreviewed bool   // the entry is still marked unreviewed
}

// scope answers, for a name the inventory lacks, whether it is outside
// the scope (a name GitLab knows but the snapshot did not read) or
// unknown (most likely a typo), and which known names are near it.
type scope struct {
	ix *inventory.Index
	// refs are the paths GitLab itself named in the inventory (allowlist
	// entries, authentication log origins) that are not projects of it:
	// they exist, the snapshot just did not read them.
	refs map[string]string // lower path -> where it was named
	// archivedRead is set when the inventory holds archived projects: the
	// snapshot was taken with --include-archived, so a missing project is
	// not an archived one.
	archivedRead bool
	projects     []string // project paths, for suggestions
	groups       []string // group paths, for suggestions
}

func newScope(ix *inventory.Index) *scope {
	s := &scope{ix: ix, refs: map[string]string{}}
	inv := ix.Inventory()
	ps := slices.Clone(inv.Projects)
	slices.SortFunc(ps, func(a, b *inventory.Project) int { return strings.Compare(a.Path, b.Path) })
	groups := map[string]string{}
	for _, g := range inv.Groups {
		groups[strings.ToLower(g.Path)] = g.Path
	}
	note := func(path, where string) {
		k := strings.ToLower(strings.Trim(path, "/"))
		if _, ok := s.refs[k]; !ok && ix.Project(k) == nil {
			s.refs[k] = where
		}
	}
	for _, p := range ps {
		s.projects = append(s.projects, p.Path)
		s.archivedRead = s.archivedRead || p.Archived
		for ns := inventory.Namespace(p.Path); ns != ""; ns = inventory.Namespace(ns) {
			groups[strings.ToLower(ns)] = ns
		}
		if sc := p.JobTokenScope; sc != nil {
			for _, e := range append(slices.Clone(sc.Allowlist.Projects), sc.Allowlist.Groups...) {
				note(e.Path, "on the allowlist of "+p.Path)
			}
		}
		for _, a := range p.AuthLog {
			note(a.Origin, "in the authentication log of "+p.Path)
		}
	}
	for _, g := range groups {
		s.groups = append(s.groups, g)
	}
	slices.Sort(s.groups)
	return s
}

// outside says why path p, which the inventory lacks, is outside the
// scope ("" when it is not: an unknown name). A name near a known one is
// never outside: it is far likelier a typo than a project nobody read.
func (s *scope) outside(p string, known []string) string {
	k := strings.ToLower(p)
	top := k
	if i := strings.IndexByte(k, '/'); i >= 0 {
		top = p[:i]
	}
	where, named := s.refs[k]
	switch {
	case len(nearest.Names(p, known)) > 0 && !named:
		return ""
	case !s.hasGroup(top):
		why := fmt.Sprintf("it is in group %s, which was not read; snapshot with --group %s to plan it", top, top)
		if k == strings.ToLower(top) {
			why = fmt.Sprintf("group %s was not read; snapshot with --group %s to plan it", top, top)
		}
		if named {
			why = fmt.Sprintf("GitLab names it %s, but it is in group %s, which was not read; snapshot with --group %s to plan it", where, top, top)
		}
		return why
	case named && !s.archivedRead:
		return fmt.Sprintf("GitLab names it %s, but the snapshot did not read it: archived projects are skipped unless --include-archived", where)
	case named:
		return fmt.Sprintf("GitLab names it %s, but the snapshot, archived projects included, does not hold it: it was deleted or moved", where)
	}
	return ""
}

func (s *scope) hasGroup(g string) bool {
	_, ok := s.ix.Group(g)
	return ok
}

// unknown words the end of an unknown name's message: the nearest known
// names, and the flags that would read it if it exists after all.
func (s *scope) unknown(p string, known []string) string {
	msg := "not in the inventory" + nearest.DidYouMean(p, known)
	top := p
	if i := strings.IndexByte(p, '/'); i >= 0 {
		top = p[:i]
	}
	switch {
	case !s.hasGroup(top):
		msg += fmt.Sprintf("; if it exists, snapshot with --group %s", top)
	case !s.archivedRead:
		msg += "; if it is archived, snapshot with --include-archived"
	}
	return msg
}

// OutsideUnreviewed returns the Outside entries still marked unreviewed:
// a review is not done while they are, scope or not.
func (f *File) OutsideUnreviewed() []Pending {
	var out []Pending
	for _, o := range f.Outside {
		if o.Unreviewed {
			out = append(out, Pending{Line: o.Line, What: o.What})
		}
	}
	return out
}
