package trust

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
)

// FileName is the conventional name of the file.
const FileName = "trust.yaml"

// Version is the trust.yaml format version this package reads and writes.
const Version = 1

// Placeholder starts the reason and owner values Draft writes; Load warns
// about values a reviewer left as they were.
const Placeholder = "TODO"

// File is a loaded trust.yaml. Paths are canonical (as in the inventory
// when one was given at load). Lines are 1-based lines in the file.
//
// A File is read-only once loaded; its lookups index it on first use, so
// build one fully before querying it. Lookups are then safe for
// concurrent use.
type File struct {
	Name   string // as given to Load, for messages
	Edges  []Edge
	Groups []GroupGrant
	Deny   []Deny
	// Open are the lock-down exceptions: projects whose allowlist the plan
	// leaves off.
	Open  []Open
	Waves []Wave
	// Acknowledgements are audit findings reviewed and accepted for now
	// (acknowledged.go).
	Acknowledgements []Acknowledgement

	// Outside are the approvals and exceptions for projects outside the
	// scope of the inventory given at load: reported, left out of the
	// lists above.
	Outside []Outside

	once sync.Once
	idx  fileIndex
}

// fileIndex makes lookups constant-time: a plan asks about every edge of
// an org, and a trust file of a large org holds tens of thousands.
type fileIndex struct {
	approval map[[2]string]int // lower caller, callee -> first index in Edges
	to       map[string][]int  // lower callee -> indexes in Edges
	groups   map[string][]int  // lower callee -> indexes in Groups
	deny     map[string][]int  // lower callee -> indexes in Deny
}

func (f *File) index() *fileIndex {
	f.once.Do(func() {
		f.idx = fileIndex{approval: map[[2]string]int{}, to: map[string][]int{}, groups: map[string][]int{}, deny: map[string][]int{}}
		for i, e := range f.Edges {
			k := [2]string{strings.ToLower(e.Caller), strings.ToLower(e.Callee)}
			if _, ok := f.idx.approval[k]; !ok {
				f.idx.approval[k] = i
			}
			f.idx.to[k[1]] = append(f.idx.to[k[1]], i)
		}
		for i, g := range f.Groups {
			k := strings.ToLower(g.Callee)
			f.idx.groups[k] = append(f.idx.groups[k], i)
		}
		for i, d := range f.Deny {
			k := strings.ToLower(d.Callee)
			f.idx.deny[k] = append(f.idx.deny[k], i)
		}
	})
	return &f.idx
}

// Edge approves one caller → callee pair.
type Edge struct {
	Caller, Callee string
	// Access lists the approved access kinds, sorted. Empty means the
	// reviewer did not name them: the entry gets default permissions.
	Access  []access.Kind
	Reason  string
	Owner   string
	Expires time.Time // zero when the approval does not expire
	// Expired is set by Load when a clock was given and Expires has
	// passed: the approval no longer counts.
	Expired bool
	// Unreviewed is the draft's "unreviewed: true": trust init wrote the
	// entry from what discovery found and no human has vouched for it yet,
	// so it does not count as an approval until the marker is removed.
	Unreviewed bool
	Line       int
}

// Counts reports whether the approval is in force: reviewed and not
// expired.
func (e Edge) Counts() bool { return !e.Expired && !e.Unreviewed }

// GroupGrant approves a group entry on a callee's allowlist: every project
// in CallerGroup and its subgroups, including future ones. It is an
// explicit widening.
type GroupGrant struct {
	Callee      string
	CallerGroup string
	Access      []access.Kind
	Reason      string
	Owner       string
	Expires     time.Time
	Expired     bool
	Unreviewed  bool // as for Edge: a drafted grant is not a review
	Line        int
}

// Counts reports whether the grant is in force: reviewed and not expired.
func (g GroupGrant) Counts() bool { return !g.Expired && !g.Unreviewed }

// Pending is an entry still marked unreviewed: its line and what it
// approves, for messages.
type Pending struct {
	Line int
	What string // "caller → callee" or "group g → callee"
}

// Unreviewed returns the entries still marked unreviewed (edges and group
// grants in the scope; OutsideUnreviewed has the others), in line order:
// what a review has left to do.
func (f *File) Unreviewed() []Pending {
	if f == nil {
		return nil
	}
	var out []Pending
	for _, e := range f.Edges {
		if e.Unreviewed {
			out = append(out, Pending{Line: e.Line, What: e.Caller + " → " + e.Callee})
		}
	}
	for _, g := range f.Groups {
		if g.Unreviewed {
			out = append(out, Pending{Line: g.Line, What: "group " + g.CallerGroup + " → " + g.Callee})
		}
	}
	slices.SortFunc(out, func(a, b Pending) int { return a.Line - b.Line })
	return out
}

// Deny forbids callers on a callee's allowlist, whatever else approves
// them. With Except, every caller but those listed is denied; with
// Callers, only those (projects or groups) are.
type Deny struct {
	Callee  string
	Except  []string
	Callers []string
	Reason  string
	Line    int
}

// Open is a reviewed exception to lock-down: the plan enforces every
// project's allowlist ("Limit access to this project",
// https://docs.gitlab.com/ci/jobs/ci_job_token/) unless an Open entry
// names it. Reason and owner are required, as for an approval; an expired
// exception no longer counts and the project is locked again.
type Open struct {
	Project string
	Reason  string
	Owner   string
	Expires time.Time // zero when the exception does not expire
	Expired bool      // set by Load when a clock was given and Expires has passed
	Line    int
}

// OpenException returns the exception that keeps project open, if any
// (expired ones included: check Expired).
func (f *File) OpenException(project string) (Open, bool) {
	if f == nil {
		return Open{}, false
	}
	for _, o := range f.Open {
		if samePath(o.Project, project) {
			return o, true
		}
	}
	return Open{}, false
}

// Wave is one step of the rollout: the callees it enforces.
type Wave struct {
	Name     string
	Projects []string
	Groups   []string
	All      bool
	Line     int
}

// Approval returns the approval of caller → callee, if any (expired ones
// included: check Expired).
func (f *File) Approval(caller, callee string) (Edge, bool) {
	if f == nil {
		return Edge{}, false
	}
	i, ok := f.index().approval[[2]string{strings.ToLower(caller), strings.ToLower(callee)}]
	if !ok {
		return Edge{}, false
	}
	return f.Edges[i], true
}

// EdgesTo returns the approvals whose callee is callee, in file order.
func (f *File) EdgesTo(callee string) []Edge {
	if f == nil {
		return nil
	}
	var out []Edge
	for _, i := range f.index().to[strings.ToLower(callee)] {
		out = append(out, f.Edges[i])
	}
	return out
}

// GroupGrants returns the group grants for callee, in file order.
func (f *File) GroupGrants(callee string) []GroupGrant {
	if f == nil {
		return nil
	}
	var out []GroupGrant
	for _, i := range f.index().groups[strings.ToLower(callee)] {
		out = append(out, f.Groups[i])
	}
	return out
}

// DenyRules returns the deny rules for callee.
func (f *File) DenyRules(callee string) []Deny {
	if f == nil {
		return nil
	}
	var out []Deny
	for _, i := range f.index().deny[strings.ToLower(callee)] {
		out = append(out, f.Deny[i])
	}
	return out
}

// Denies reports whether d forbids project caller.
func (d Deny) Denies(caller string) bool {
	if samePath(caller, d.Callee) {
		return false
	}
	if len(d.Callers) > 0 {
		return slices.ContainsFunc(d.Callers, func(c string) bool { return Under(caller, c) })
	}
	return !slices.ContainsFunc(d.Except, func(c string) bool { return Under(caller, c) })
}

// DeniesGroup reports whether d forbids a group entry for group, whose
// projects (as far as the inventory knows) are members: a group entry is
// denied when it would let in any denied project, or when d names the
// group or one above or below it.
func (d Deny) DeniesGroup(group string, members []string) bool {
	if len(d.Callers) > 0 {
		for _, c := range d.Callers {
			if Under(c, group) || Under(group, c) {
				return true
			}
		}
		return false
	}
	if len(members) == 0 {
		// Unknown membership: the group may hold anyone.
		return true
	}
	return slices.ContainsFunc(members, d.Denies)
}

// WaveOf returns the first wave that takes project (by project, by group
// above it, or all: true).
func (f *File) WaveOf(project string) (Wave, bool) {
	if f == nil {
		return Wave{}, false
	}
	return WaveOf(f.Waves, project)
}

// WaveOf returns the first of waves that takes project.
func WaveOf(waves []Wave, project string) (Wave, bool) {
	for _, w := range waves {
		if w.All || slices.ContainsFunc(w.Projects, func(p string) bool { return samePath(p, project) }) ||
			slices.ContainsFunc(w.Groups, func(g string) bool { return Under(project, g) }) {
			return w, true
		}
	}
	return Wave{}, false
}

// Under reports whether path p is ancestor or p itself (GitLab paths are
// case-insensitive).
func Under(p, ancestor string) bool {
	p, ancestor = strings.ToLower(p), strings.ToLower(strings.Trim(ancestor, "/"))
	return p == ancestor || strings.HasPrefix(p, ancestor+"/")
}

func samePath(a, b string) bool { return strings.EqualFold(a, b) }
