package plan

import (
	"maps"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/capability"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/trust"
)

// Facts are everything the plan knows about one (caller, callee) pair:
// what discovery found, what trust.yaml says, what is on the allowlist
// today. They are gathered before anything is decided, and decide reads
// nothing else.
type Facts struct {
	// Type says whether the caller is a project or a group entry.
	Type EntryType
	// Caller is the caller's path as the inventory spells it (as found
	// when the inventory does not know it); ID its numeric ID (0: unknown).
	Caller string
	ID     int
	Callee string
	// TrustFile names the trust file; "" when the plan runs without one.
	TrustFile string
	Prune     bool
	// State is the callee's: unknown when its allowlist could not be read
	// (Current is then nil).
	State State
	Caps  capability.Capabilities

	// Edge is what discovery found from a project caller (nil: no use).
	Edge *graph.Edge
	// Approval is trust.yaml's approval of the pair, whether or not it is
	// in force (nil: none).
	Approval *trust.Edge
	// Deny is the first deny rule that forbids the caller (nil: none).
	Deny *trust.Deny
	// Grant is, for a project, the deepest group grant in force that
	// admits it (nil: none; a denied grant admits nobody); for a group, its
	// own grant in force, denied or not (Deny then says so).
	Grant *trust.GroupGrant
	// Current is the caller's entry on the allowlist today (nil: none).
	Current *inventory.Entry
	// Archived marks a caller project the inventory knows as archived.
	Archived bool
	// Cover is, for a project, the nearest group entry that admits it on
	// the allowlist after the plan (nil: none). It is a view of the group
	// entries' decisions, which never depend on their members'.
	Cover *Cover

	// For a group: Members are the projects the inventory knows under it
	// (the callee excluded), Used those with a discovered use of the
	// callee, Routed the discovered uses that only its grant approves, and
	// Admits the approved members that the group entry admits without an
	// entry of their own (from the members' decisions).
	Members []string
	Used    []string
	Routed  []graph.Edge
	Admits  []string
}

// Cover is a group entry on the allowlist after the plan.
type Cover struct {
	Path     string
	Policies []string // after the plan; nil: default permissions
	// Planned is set when the plan adds the entry: it is not on the
	// allowlist yet.
	Planned bool
}

// Trusted reports whether the plan runs with a trust file.
func (f Facts) Trusted() bool { return f.TrustFile != "" }

// approved reports whether trust.yaml approves the pair in force.
func (f Facts) approved() bool { return f.Approval != nil && f.Approval.Counts() }

// calleeFacts is what one callee's pairs share, read once.
type calleeFacts struct {
	c          *computer
	path       string
	proj       *inventory.Project
	state      State
	deny       []trust.Deny
	curProj    map[string]inventory.Entry // lower path -> entry (self excluded)
	curGroup   map[string]inventory.Entry
	discovered map[string]graph.Edge       // lower caller -> edge
	grants     map[string]trust.GroupGrant // lower group -> grant in force
	admitting  []trust.GroupGrant          // the grants in force no deny rule overrides
}

func (c *computer) calleeFacts(path string) *calleeFacts {
	cf := &calleeFacts{c: c, path: path, proj: c.ix.Project(path), state: StateKnown,
		curProj: map[string]inventory.Entry{}, curGroup: map[string]inventory.Entry{},
		discovered: map[string]graph.Edge{}, grants: map[string]trust.GroupGrant{}}
	if cf.proj != nil {
		if cf.proj.StateUnknown() {
			cf.state = StateUnknown
		}
		if sc := cf.proj.JobTokenScope; sc != nil {
			for _, e := range sc.Allowlist.Projects {
				if !strings.EqualFold(e.Path, path) {
					cf.curProj[key(e.Path)] = e
				}
			}
			for _, e := range sc.Allowlist.Groups {
				cf.curGroup[key(e.Path)] = e
			}
		}
	}
	cf.deny = c.tf.DenyRules(path)
	for _, e := range c.byCallee[key(path)] {
		cf.discovered[key(e.Caller)] = e
	}
	for _, g := range c.tf.GroupGrants(path) {
		// A drafted grant nobody reviewed, or an expired one, approves
		// nothing.
		if g.Counts() {
			cf.grants[key(g.CallerGroup)] = g
		}
	}
	for _, k := range slices.Sorted(maps.Keys(cf.grants)) {
		if g := cf.grants[k]; cf.groupDenied(g.CallerGroup) == nil {
			cf.admitting = append(cf.admitting, g)
		}
	}
	return cf
}

func (cf *calleeFacts) base(t EntryType, caller string) Facts {
	f := Facts{Type: t, Caller: caller, Callee: cf.path, Prune: cf.c.opts.Prune, State: cf.state, Caps: cf.c.caps}
	if cf.c.tf != nil {
		f.TrustFile = cf.c.tf.Name
		if a, ok := cf.c.tf.Approval(caller, cf.path); ok {
			f.Approval = &a
		}
	}
	return f
}

func (cf *calleeFacts) denied(caller string) *trust.Deny {
	for _, d := range cf.deny {
		if d.Denies(caller) {
			return &d
		}
	}
	return nil
}

func (cf *calleeFacts) groupDenied(group string) *trust.Deny {
	members := cf.members(group)
	for _, d := range cf.deny {
		if d.DeniesGroup(group, members) {
			return &d
		}
	}
	return nil
}

// members are the projects the inventory knows under group, the callee
// excluded.
func (cf *calleeFacts) members(group string) []string {
	c := cf.c
	if c.under == nil {
		// One pass over the inventory indexes every group's projects.
		c.under = map[string][]string{}
		for _, p := range c.ix.Inventory().Projects {
			for ns := inventory.Namespace(p.Path); ns != ""; ns = inventory.Namespace(ns) {
				c.under[key(ns)] = append(c.under[key(ns)], p.Path)
			}
		}
		for _, ps := range c.under {
			slices.Sort(ps)
		}
	}
	return slices.DeleteFunc(slices.Clone(c.under[key(group)]), func(p string) bool { return strings.EqualFold(p, cf.path) })
}

// grantOf returns the deepest group grant in force, not denied, that
// admits caller.
func (cf *calleeFacts) grantOf(caller string) *trust.GroupGrant {
	var best *trust.GroupGrant
	for _, g := range cf.admitting {
		if trust.Under(caller, g.CallerGroup) && (best == nil || len(g.CallerGroup) > len(best.CallerGroup)) {
			best = &g
		}
	}
	return best
}

// groupFacts gathers the facts of every group entry the callee has or
// may get: grants in force and entries on the allowlist, sorted by path.
func (cf *calleeFacts) groupFacts() []Facts {
	keys := map[string]bool{}
	for k := range cf.grants {
		keys[k] = true
	}
	for k := range cf.curGroup {
		keys[k] = true
	}
	var out []Facts
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		g, granted := cf.grants[k]
		cur, current := cf.curGroup[k]
		path := cur.Path
		if granted {
			path = g.CallerGroup
		}
		f := cf.base(GroupEntry, path)
		if granted {
			f.Grant = &g
		}
		if current {
			f.Current = &cur
		}
		if ig, ok := cf.c.ix.Group(path); ok {
			f.Caller, f.ID = ig.Path, ig.ID
		}
		f.Deny = cf.groupDenied(path)
		f.Members = cf.members(path)
		for _, m := range f.Members {
			if _, ok := cf.discovered[key(m)]; ok {
				f.Used = append(f.Used, m)
			}
		}
		out = append(out, f)
	}
	return out
}

// projectFacts gathers the facts of every project caller: discovered,
// approved in force, or on the allowlist, sorted by path. Cover is left
// for withCover: it is a view of the group entries' decisions.
func (cf *calleeFacts) projectFacts() []Facts {
	keys := map[string]string{} // lower -> path as found
	for k, e := range cf.discovered {
		keys[k] = e.Caller
	}
	if cf.c.tf != nil {
		for _, a := range cf.c.tf.EdgesTo(cf.path) {
			if _, ok := keys[key(a.Caller)]; !ok && a.Counts() {
				keys[key(a.Caller)] = a.Caller
			}
		}
	}
	for k, e := range cf.curProj {
		if _, ok := keys[k]; !ok {
			keys[k] = e.Path
		}
	}
	var out []Facts
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		f := cf.base(ProjectEntry, keys[k])
		if p := cf.c.ix.Project(keys[k]); p != nil {
			f.Caller, f.ID, f.Archived = p.Path, p.ID, p.Archived
		}
		if e, ok := cf.discovered[k]; ok {
			f.Edge = &e
		}
		if cur, ok := cf.curProj[k]; ok {
			f.Current = &cur
		}
		f.Deny = cf.denied(keys[k])
		f.Grant = cf.grantOf(keys[k])
		out = append(out, f)
	}
	return out
}

// routed lists, for a group entry, the discovered uses that only its
// grant approves: the member has no approval in force and no deeper
// grant, is not denied, and makes some access a job token can make.
func routed(group Facts, members []Facts) []graph.Edge {
	var out []graph.Edge
	for _, m := range members {
		if m.Edge == nil || m.Grant == nil || !strings.EqualFold(m.Grant.CallerGroup, group.Grant.CallerGroup) {
			continue
		}
		if r := ruleOf(m); r == RuleGrant {
			out = append(out, *m.Edge)
		}
	}
	return out
}

// covers are the group entries on the allowlist after the plan, from the
// group entries' decisions.
func covers(ds []Decision) []Cover {
	var out []Cover
	for _, d := range ds {
		switch d.Verdict {
		case VerdictAdd, VerdictKeep, VerdictUpdate:
			out = append(out, Cover{Path: d.Entry.Path, Policies: d.Entry.Policies, Planned: d.Verdict == VerdictAdd})
		case VerdictUnapproved:
			out = append(out, Cover{Path: d.Entry.Path, Policies: d.Entry.CurrentPolicies})
		}
	}
	return out
}

// nearestCover is the deepest of covers above project: GitLab uses the
// closest group link when there is no project link.
func nearestCover(covers []Cover, project string) *Cover {
	var best *Cover
	for i := range covers {
		c := &covers[i]
		if trust.Under(project, c.Path) && (best == nil || len(c.Path) > len(best.Path)) {
			best = c
		}
	}
	return best
}
