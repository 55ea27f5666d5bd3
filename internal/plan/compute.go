package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/capability"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/trust"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Limits GitLab enforces per project, separately for project and group
// links (Ci::JobToken::ProjectScopeLink::PROJECT_LINK_DIRECTIONAL_LIMIT and
// GroupScopeLink::GROUP_LINK_LIMIT, app/models/ci/job_token/ in gitlab-org/gitlab).
const (
	DefaultProjectLimit = 200
	DefaultGroupLimit   = 200
)

// Options tune Compute.
type Options struct {
	// Prune removes allowlist entries no approval covers; without it they
	// are kept and listed as unapproved.
	Prune bool
	// GitLabVersion overrides the inventory's gitlab_version.
	GitLabVersion capability.Version
	// ProjectLimit and GroupLimit default to GitLab's 200 each.
	ProjectLimit, GroupLimit int
}

// Compute plans every callee's allowlist. tf may be nil: then every
// discovered edge is proposed (and the plan says so). The result depends
// only on the arguments.
//
// Rules (docs/design.md §6), in order of precedence:
//   - deny wins: a denied caller is never added, and its entry is removed
//     even without pruning;
//   - discovered ∧ approved → add, or keep when an entry (project, or a
//     group entry with enough permissions) already covers it; update when
//     the entry's policies differ;
//   - discovered ∧ not approved → needs review, with evidence; never added;
//   - approved ∧ not discovered → stale: the approval is honoured (kept,
//     or added when missing, since discovery cannot see every use) and
//     flagged for review;
//   - on the allowlist ∧ not approved → removed with Options.Prune, else kept
//     and listed as unapproved;
//   - lock-down: enforce the allowlist of every project in scope that does
//     not enforce it yet, called or not (an uncalled project's allowlist
//     then holds only itself), unless an unexpired open exception in
//     trust.yaml keeps it off;
//   - a project whose settings could not be read (state unknown) gets no
//     removal and no update.
//
// Edges known only from the authentication log carry no access kind: they
// follow the same rules, and their entries get default permissions until
// trust.yaml names the kinds (policies cannot be derived from the log).
func Compute(g *graph.Graph, ix *inventory.Index, tf *trust.File, opts Options) *Plan {
	if opts.ProjectLimit <= 0 {
		opts.ProjectLimit = DefaultProjectLimit
	}
	if opts.GroupLimit <= 0 {
		opts.GroupLimit = DefaultGroupLimit
	}
	c := &computer{g: g, ix: ix, tf: tf, opts: opts, byCallee: map[string][]graph.Edge{}}
	c.plan = &Plan{Trusted: tf != nil, Pruned: opts.Prune, StateDigest: StateDigest(ix.Inventory()),
		Instance:  ix.Inventory().InstanceEnforcesAllowlist,
		ServerURL: strings.TrimRight(ix.Inventory().ServerURL, "/"), Unresolved: slices.Clone(g.Unresolved)}
	if tf != nil {
		c.plan.TrustFile = tf.Name
		c.plan.Unreviewed = len(tf.Unreviewed())
	}
	c.version()
	for _, e := range g.Edges {
		c.byCallee[key(e.Callee)] = append(c.byCallee[key(e.Callee)], e)
	}
	if tf == nil {
		c.plan.Warnings = append(c.plan.Warnings, Warning{Kind: WarnNoTrust})
	}
	for _, callee := range c.callees() {
		if pr, ok := c.callee(callee); ok {
			c.plan.Projects = append(c.plan.Projects, pr)
		}
	}
	c.waves()
	return c.plan
}

type computer struct {
	g        *graph.Graph
	ix       *inventory.Index
	tf       *trust.File
	opts     Options
	caps     capability.Capabilities
	plan     *Plan
	byCallee map[string][]graph.Edge
	under    map[string][]string // lower group -> projects under it, built on first use
}

func key(p string) string { return strings.ToLower(p) }

func (c *computer) warn(format string, args ...any) {
	c.plan.Warnings = append(c.plan.Warnings, Warning{Kind: WarnNote, Text: fmt.Sprintf(format, args...)})
}

func (c *computer) version() {
	v := c.opts.GitLabVersion
	if v.IsZero() && c.ix.Inventory().GitLabVersion != "" {
		var err error
		v, err = capability.ParseVersion(c.ix.Inventory().GitLabVersion)
		if err != nil {
			c.warn("inventory gitlab_version: %v; planning for the newest GitLab tokenscope knows", err)
		}
	}
	c.caps = capability.For(v)
	c.plan.Capabilities = c.caps
	switch {
	case !c.caps.Known:
		c.plan.Warnings = append(c.plan.Warnings, Warning{Kind: WarnVersionUnknown})
	case !c.caps.Allowlist:
		c.warn("%s", c.caps.Upgrade())
	case c.caps.PoliciesSwitch() != "":
		c.warn("GitLab %s: fine-grained policies are %s; %s", c.caps.Version, c.caps.Policies, c.caps.PoliciesSwitch())
	}
}

// callees lists every project the plan has something to say about:
// discovered callees, approved ones, and projects with allowlist entries.
func (c *computer) callees() []string {
	seen := map[string]string{}
	add := func(p string) {
		if pr := c.ix.Project(p); pr != nil {
			p = pr.Path
		}
		if _, ok := seen[key(p)]; !ok {
			seen[key(p)] = p
		}
	}
	for _, e := range c.g.Edges {
		add(e.Callee)
	}
	if c.tf != nil {
		for _, e := range c.tf.Edges {
			add(e.Callee)
		}
		for _, g := range c.tf.Groups {
			add(g.Callee)
		}
	}
	for _, p := range c.ix.Inventory().Projects {
		// Lock-down is the default (docs/design.md §6): every project in
		// scope gets its allowlist enforced, including projects nobody
		// calls, whose allowlist then holds only themselves. Archived
		// projects run no jobs and are read-only; they are planned only
		// when something names them.
		if !p.Archived {
			add(p.Path)
			continue
		}
		if s := p.JobTokenScope; s != nil {
			for _, en := range append(slices.Clone(s.Allowlist.Projects), s.Allowlist.Groups...) {
				if !strings.EqualFold(en.Path, p.Path) {
					add(p.Path)
					break
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for _, p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// calleeState is the work area for one callee.
type calleeState struct {
	c          *computer
	p          Project
	proj       *inventory.Project
	deny       []trust.Deny
	curProj    map[string]inventory.Entry // lower path -> entry (self excluded)
	curGroup   map[string]inventory.Entry
	discovered map[string]graph.Edge // lower caller -> edge
	wantProj   map[string]*Entry
	wantGroup  map[string]*Entry
	grantOf    map[string]trust.GroupGrant // lower group -> grant
	keptGroups map[string]inventory.Entry  // group entries that stay on the allowlist
}

func (c *computer) callee(path string) (Project, bool) {
	s := &calleeState{c: c, p: Project{Path: path, State: StateKnown}, proj: c.ix.Project(path),
		curProj: map[string]inventory.Entry{}, curGroup: map[string]inventory.Entry{},
		discovered: map[string]graph.Edge{}, wantProj: map[string]*Entry{}, wantGroup: map[string]*Entry{},
		grantOf: map[string]trust.GroupGrant{}, keptGroups: map[string]inventory.Entry{}}
	if s.proj != nil {
		s.p.ID = s.proj.ID
		if s.proj.StateUnknown() {
			// Nothing is read into curProj and curGroup, so nothing is
			// removed or updated; unknownState marks the adds.
			s.p.State = StateUnknown
		}
		if sc := s.proj.JobTokenScope; sc != nil {
			for _, e := range sc.Allowlist.Projects {
				if !strings.EqualFold(e.Path, path) {
					s.curProj[key(e.Path)] = e
				}
			}
			for _, e := range sc.Allowlist.Groups {
				s.curGroup[key(e.Path)] = e
			}
		}
	}
	s.deny = c.tf.DenyRules(path)
	for _, e := range c.byCallee[key(path)] {
		s.discovered[key(e.Caller)] = e
	}
	s.grants()
	for _, e := range c.byCallee[key(path)] {
		s.edge(e)
	}
	s.staleApprovals()
	s.finishGroups()
	s.currentGroups()
	s.desiredProjects()
	s.currentProjects()
	s.sort() // the limit's choices must not depend on map order
	s.limit()
	s.enforce()
	s.unknownState()
	s.sort()
	p := s.p
	empty := !p.Changes() && !p.Unknown() && p.Open == nil && len(p.Keep)+len(p.NeedsReview)+len(p.Stale)+len(p.Denied)+len(p.Unapproved)+len(p.Never) == 0
	return p, !empty
}

// grants collects the group grants for the callee that count: not
// expired, not denied.
func (s *calleeState) grants() {
	for _, g := range s.c.tf.GroupGrants(s.p.Path) {
		// A drafted grant nobody reviewed does not widen anything yet.
		if !g.Counts() {
			continue
		}
		if d, ok := s.groupDenied(g.CallerGroup); ok {
			s.c.warn("%s: group grant %s (trust.yaml:%d) is overridden by the deny rule at line %d", s.p.Path, g.CallerGroup, g.Line, d.Line)
			continue
		}
		s.grantOf[key(g.CallerGroup)] = g
	}
}

func (s *calleeState) denied(caller string) (trust.Deny, bool) {
	for _, d := range s.deny {
		if d.Denies(caller) {
			return d, true
		}
	}
	return trust.Deny{}, false
}

func (s *calleeState) groupDenied(group string) (trust.Deny, bool) {
	members := s.members(group)
	for _, d := range s.deny {
		if d.DeniesGroup(group, members) {
			return d, true
		}
	}
	return trust.Deny{}, false
}

// members are the projects the inventory knows under group, the callee
// excluded.
func (s *calleeState) members(group string) []string {
	if s.c.under == nil {
		// One pass over the inventory indexes every group's projects.
		s.c.under = map[string][]string{}
		for _, p := range s.c.ix.Inventory().Projects {
			for ns := inventory.Namespace(p.Path); ns != ""; ns = inventory.Namespace(ns) {
				s.c.under[key(ns)] = append(s.c.under[key(ns)], p.Path)
			}
		}
		for _, ps := range s.c.under {
			slices.Sort(ps)
		}
	}
	return slices.DeleteFunc(slices.Clone(s.c.under[key(group)]), func(p string) bool { return strings.EqualFold(p, s.p.Path) })
}

// coveringGrant returns the deepest group grant that admits caller.
func (s *calleeState) coveringGrant(caller string) (trust.GroupGrant, bool) {
	var best trust.GroupGrant
	found := false
	for _, g := range s.grantOf {
		if trust.Under(caller, g.CallerGroup) && (!found || len(g.CallerGroup) > len(best.CallerGroup)) {
			best, found = g, true
		}
	}
	return best, found
}

// edge places one discovered edge.
func (s *calleeState) edge(e graph.Edge) {
	never, eff := splitNever(e.Access)
	for _, k := range never {
		s.p.Advice = append(s.p.Advice, Advice{Caller: e.Caller, Access: []access.Kind{k}, Text: neverAdvice(k, e.Caller, s.p.Path)})
	}
	if slices.Contains(eff, access.PipelineTrigger) {
		s.p.Advice = append(s.p.Advice, Advice{Caller: e.Caller, Access: []access.Kind{access.PipelineTrigger}, Text: triggerAdvice(s.p.Path)})
	}
	_, onList := s.curProj[key(e.Caller)]
	if len(never) > 0 && len(eff) == 0 {
		s.p.Never = append(s.p.Never, Review{Caller: e.Caller, Access: never, Uses: e.Uses, OnAllowlist: onList,
			Reason: "a job token cannot do this across projects; no allowlist entry helps"})
		return
	}
	if d, ok := s.denied(e.Caller); ok {
		s.p.Denied = append(s.p.Denied, Review{Caller: e.Caller, Access: e.Access, Uses: e.Uses, OnAllowlist: onList,
			Reason: s.denyReason(d)})
		return
	}
	if s.c.tf == nil {
		s.want(e.Caller, eff, e.Uses, "discovered; no trust file: proposed, not reviewed", false)
		return
	}
	if a, ok := s.c.tf.Approval(e.Caller, s.p.Path); ok && a.Counts() {
		kinds := eff
		if len(a.Access) > 0 {
			_, kinds = splitNever(a.Access)
			s.beyond(e, a.Access, fmt.Sprintf("access beyond the approval at %s", s.at(a.Line)))
		}
		s.want(e.Caller, kinds, e.Uses, approvalReason(s.c.tf.Name, a.Line, a.Reason), false)
		return
	}
	if g, ok := s.coveringGrant(e.Caller); ok {
		w := s.wantGroup[key(g.CallerGroup)]
		if w == nil {
			w = &Entry{Type: GroupEntry, Path: g.CallerGroup, Reason: approvalReason(s.c.tf.Name, g.Line, g.Reason)}
			s.wantGroup[key(g.CallerGroup)] = w
		}
		kinds := eff
		if len(g.Access) > 0 {
			_, kinds = splitNever(g.Access)
			s.beyond(e, g.Access, fmt.Sprintf("access beyond the group grant at %s", s.at(g.Line)))
		}
		w.Access = access.Sort(append(w.Access, kinds...))
		w.Uses = append(w.Uses, e.Uses...)
		return
	}
	s.p.NeedsReview = append(s.p.NeedsReview, Review{Caller: e.Caller, Access: e.Access, Uses: e.Uses, OnAllowlist: onList,
		Reason: s.reviewReason(e.Caller)})
}

func (s *calleeState) at(line int) string { return fmt.Sprintf("%s:%d", s.c.tf.Name, line) }

// beyond lists the discovered kinds an approval does not cover as needing
// review: the entry is narrowed to the approval, so those uses will fail.
func (s *calleeState) beyond(e graph.Edge, approved []access.Kind, reason string) {
	var extra []access.Kind
	var uses []use.Use
	for _, k := range e.Access {
		if !slices.Contains(approved, k) {
			if in, ok := access.Lookup(k); ok && in.Never {
				continue
			}
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return
	}
	for _, u := range e.Uses {
		if slices.Contains(extra, u.Access) {
			uses = append(uses, u)
		}
	}
	s.p.NeedsReview = append(s.p.NeedsReview, Review{Caller: e.Caller, Access: extra, Uses: uses, Reason: reason})
}

func (s *calleeState) reviewReason(caller string) string {
	r := "not approved in " + s.c.tf.Name
	if a, ok := s.c.tf.Approval(caller, s.p.Path); ok && a.Unreviewed {
		r = fmt.Sprintf("drafted at %s, still marked unreviewed: a draft is not a review", s.at(a.Line))
	} else if ok && a.Expired {
		r = fmt.Sprintf("the approval at %s expired on %s", s.at(a.Line), a.Expires.Format(time.DateOnly))
	}
	if p := s.c.ix.Project(caller); p != nil && p.Archived {
		r += "; the caller is archived, its jobs no longer run"
	}
	return r
}

func (s *calleeState) want(caller string, kinds []access.Kind, uses []use.Use, reason string, stale bool) {
	e := &Entry{Type: ProjectEntry, Path: caller, Access: access.Sort(slices.Clone(kinds)), Uses: uses, Reason: reason, Stale: stale}
	if p := s.c.ix.Project(caller); p != nil {
		e.Path, e.ID = p.Path, p.ID
		if p.Archived && s.c.tf != nil {
			s.c.warn("%s: approved caller %s is archived: its jobs no longer run; delete the approval", s.p.Path, p.Path)
		}
	}
	s.wantProj[key(caller)] = e
}

// staleApprovals honours approvals nothing discovered: the approval is the
// evidence (discovery cannot see targets held in variables, or jobs outside
// the snapshot), but a reviewer should know nothing uses it.
func (s *calleeState) staleApprovals() {
	if s.c.tf == nil {
		return
	}
	for _, a := range s.c.tf.EdgesTo(s.p.Path) {
		if !a.Counts() {
			continue
		}
		if _, ok := s.discovered[key(a.Caller)]; ok {
			continue
		}
		if _, ok := s.denied(a.Caller); ok {
			continue
		}
		never, kinds := splitNever(a.Access)
		if len(never) > 0 {
			s.c.warn("%s: %s approves %s for %s, which a job token cannot do across projects", s.p.Path, s.at(a.Line), kindsText(never), a.Caller)
			if len(kinds) == 0 {
				continue
			}
		}
		s.want(a.Caller, kinds, nil, approvalReason(s.c.tf.Name, a.Line, a.Reason)+"; no use discovered (stale): kept, review whether it is still needed", true)
	}
	for _, g := range s.grantOf {
		if _, ok := s.wantGroup[key(g.CallerGroup)]; !ok {
			_, kinds := splitNever(g.Access)
			s.wantGroup[key(g.CallerGroup)] = &Entry{Type: GroupEntry, Path: g.CallerGroup, Access: access.Sort(kinds), Stale: true,
				Reason: approvalReason(s.c.tf.Name, g.Line, g.Reason) + "; no use discovered from the group (stale): kept, review whether it is still needed"}
		}
	}
}

// finishGroups fills in IDs, policies and widening of wanted group
// entries.
func (s *calleeState) finishGroups() {
	for _, w := range s.wantGroup {
		if g, ok := s.c.ix.Group(w.Path); ok {
			w.Path, w.ID = g.Path, g.ID
		}
		members := s.members(w.Path)
		wd := &Widening{Members: len(members)}
		for _, m := range members {
			if _, used := s.discovered[key(m)]; !used {
				wd.Extra = append(wd.Extra, m)
			}
		}
		w.Widening = wd
		slices.SortFunc(w.Uses, use.CompareUses)
		s.c.policies(w)
	}
	for _, w := range s.wantProj {
		s.c.policies(w)
	}
}

// currentGroups decides the fate of the group entries on the allowlist.
func (s *calleeState) currentGroups() {
	for k, cur := range s.curGroup {
		id := cur.ID
		if g, ok := s.c.ix.Group(cur.Path); ok && id == 0 {
			id = g.ID
		}
		base := Entry{Type: GroupEntry, Path: cur.Path, ID: id, OnAllowlist: true, CurrentPolicies: cur.Policies, Autopopulated: cur.Autopopulated}
		if d, ok := s.groupDenied(cur.Path); ok {
			base.Reason = s.denyReason(d)
			s.p.Remove = append(s.p.Remove, base)
			continue
		}
		if w, ok := s.wantGroup[k]; ok {
			w.ID = cmp.Or(w.ID, id)
			w.OnAllowlist, w.CurrentPolicies = true, cur.Policies
			w.Autopopulated = cur.Autopopulated
			s.keptGroups[k] = cur
			if samePolicies(cur.Policies, w.Policies) {
				s.keep(*w)
			} else {
				w.Reason = policyChange(cur.Policies, w.Policies) + "; " + w.Reason
				s.p.Update = append(s.p.Update, *w)
			}
			delete(s.wantGroup, k)
			continue
		}
		base.Widening = &Widening{Members: len(s.members(cur.Path))}
		for _, m := range s.members(cur.Path) {
			if _, used := s.discovered[key(m)]; !used {
				base.Widening.Extra = append(base.Widening.Extra, m)
			}
		}
		base.Reason = s.unapprovedReason(cur.Path, true, cur.Autopopulated)
		if s.c.opts.Prune {
			s.p.Remove = append(s.p.Remove, base)
			continue
		}
		s.keptGroups[k] = cur
		s.p.Unapproved = append(s.p.Unapproved, base)
	}
	for k, w := range s.wantGroup {
		s.keptGroups[k] = inventory.Entry{Path: w.Path, Policies: w.Policies}
		s.p.Add = append(s.p.Add, *w)
	}
}

func (s *calleeState) keep(e Entry) {
	s.p.Keep = append(s.p.Keep, e)
	if e.Stale {
		s.p.Stale = append(s.p.Stale, e)
	}
}

// desiredProjects turns wanted project entries into add, keep or update.
func (s *calleeState) desiredProjects() {
	for k, w := range s.wantProj {
		if cur, ok := s.curProj[k]; ok {
			w.OnAllowlist, w.CurrentPolicies = true, cur.Policies
			w.Autopopulated = cur.Autopopulated
			if len(w.Access) == 0 {
				// Unknown access is no reason to change what a reviewer or
				// GitLab set: widening to default permissions would be the
				// opposite of least privilege.
				w.Policies = cur.Policies
				w.PolicyReason = "access kinds unknown (known only from the authentication log): the entry's current permissions are kept until trust.yaml names the kinds"
			}
			if samePolicies(cur.Policies, w.Policies) {
				s.keep(*w)
			} else {
				w.Reason = policyChange(cur.Policies, w.Policies) + "; " + w.Reason
				s.p.Update = append(s.p.Update, *w)
				if w.Stale {
					s.p.Stale = append(s.p.Stale, *w)
				}
			}
			continue
		}
		if g, ok := s.coveringEntry(w.Path, w.Policies); ok {
			w.CoveredBy = g.Path
			w.CurrentPolicies = g.Policies
			s.keep(*w)
			continue
		}
		s.p.Add = append(s.p.Add, *w)
		if w.Stale {
			s.p.Stale = append(s.p.Stale, *w)
		}
	}
}

// coveringEntry returns the nearest group entry that stays on the
// allowlist, admits project and grants at least want (GitLab uses the
// closest group link when there is no project link).
func (s *calleeState) coveringEntry(project string, want []string) (inventory.Entry, bool) {
	var best inventory.Entry
	found := false
	for _, g := range s.keptGroups {
		if trust.Under(project, g.Path) && (!found || len(g.Path) > len(best.Path)) {
			best, found = g, true
		}
	}
	if !found || !grants(best.Policies, want) {
		return inventory.Entry{}, false
	}
	return best, true
}

// currentProjects decides the fate of project entries no approval wants.
func (s *calleeState) currentProjects() {
	for k, cur := range s.curProj {
		if _, ok := s.wantProj[k]; ok {
			continue
		}
		id := cur.ID
		if p := s.c.ix.Project(cur.Path); p != nil && id == 0 {
			id = p.ID
		}
		base := Entry{Type: ProjectEntry, Path: cur.Path, ID: id, OnAllowlist: true, CurrentPolicies: cur.Policies, Autopopulated: cur.Autopopulated}
		if e, ok := s.discovered[k]; ok {
			base.Access, base.Uses = e.Access, e.Uses
		}
		if d, ok := s.denied(cur.Path); ok {
			base.Reason = s.denyReason(d)
			s.p.Remove = append(s.p.Remove, base)
			continue
		}
		if g, ok := s.coveringGrant(cur.Path); ok {
			base.Reason = fmt.Sprintf("covered by the group grant %s at %s; the project entry is redundant", g.CallerGroup, s.at(g.Line))
			s.p.Keep = append(s.p.Keep, base)
			continue
		}
		base.Reason = s.unapprovedReason(cur.Path, false, cur.Autopopulated)
		if s.c.opts.Prune {
			s.p.Remove = append(s.p.Remove, base)
		} else {
			s.p.Unapproved = append(s.p.Unapproved, base)
		}
	}
}

func (s *calleeState) unapprovedReason(path string, group bool, auto bool) string {
	r := "not approved"
	if s.c.tf == nil {
		r = "no use discovered"
	} else if a, ok := s.c.tf.Approval(path, s.p.Path); ok && a.Unreviewed {
		r = fmt.Sprintf("drafted at %s, still marked unreviewed", s.at(a.Line))
	} else if ok && a.Expired {
		r = fmt.Sprintf("approval at %s expired on %s", s.at(a.Line), a.Expires.Format(time.DateOnly))
	}
	if group {
		used := 0
		for _, m := range s.members(path) {
			if _, ok := s.discovered[key(m)]; ok {
				used++
			}
		}
		if used > 0 {
			r += fmt.Sprintf("; %d of its projects still use it: removing it breaks their jobs unless they get approved entries", used)
		}
	} else if e, ok := s.discovered[key(path)]; ok {
		r += "; still used (" + lastSeen(e) + "): removing it breaks " + path + "'s jobs"
	} else if s.c.tf != nil {
		r += "; no use discovered"
	}
	if auto {
		r += "; added by GitLab from the authentication log (autopopulated)"
	}
	return r
}

// lastSeen summarises an edge's evidence: the auth-log time, or the
// number of places in CI configuration.
func lastSeen(e graph.Edge) string {
	var parts []string
	n := 0
	for _, u := range e.Uses {
		switch u.Origin {
		case use.AuthLog:
			parts = append(parts, strings.TrimPrefix(u.Evidence.Detail, "job token "))
		default:
			n++
		}
	}
	if n > 0 {
		parts = append(parts, fmt.Sprintf("%d place(s) in CI configuration", n))
	}
	return strings.Join(parts, "; ")
}

// enforce decides whether to turn the allowlist on. Lock-down is the
// default: every callee's allowlist is enforced ("Limit access to this
// project", https://docs.gitlab.com/ci/jobs/ci_job_token/), whether or not
// anything is approved for it; only an unexpired open exception in
// trust.yaml leaves it off. The plan never turns an allowlist off.
func (s *calleeState) enforce() {
	inst := s.c.ix.Inventory().InstanceEnforcesAllowlist
	var scope *inventory.JobTokenScope
	if s.proj != nil {
		scope = s.proj.JobTokenScope
	}
	open, hasOpen := s.c.tf.OpenException(s.p.Path)
	switch {
	case inst != nil && *inst:
		s.p.Enforced = true
		s.p.EnforceNote = "enforced by the instance setting \"Enable and enforce job token allowlist for all projects\""
		if hasOpen && !open.Expired {
			s.c.warn("%s: the open exception at %s cannot keep it open: the instance setting enforces every allowlist", s.p.Path, s.at(open.Line))
		}
		return
	case scope != nil && scope.InboundEnabled:
		s.p.Enforced = true
		s.p.EnforceNote = "already enforced"
		if hasOpen && !open.Expired {
			s.p.EnforceNote += fmt.Sprintf("; the open exception at %s does not turn it off", s.at(open.Line))
		}
		return
	}
	if hasOpen && !open.Expired {
		s.p.Open = &open
		s.p.EnforceNote = fmt.Sprintf("stays open: exception at %s", s.at(open.Line))
		if open.Reason != "" {
			s.p.EnforceNote += ": " + open.Reason
		}
		s.p.EnforceNote += " (owner " + open.Owner
		if !open.Expires.IsZero() {
			s.p.EnforceNote += ", until " + open.Expires.Format(time.DateOnly)
		}
		s.p.EnforceNote += "); any project's job token may come in"
		return
	}
	s.p.Enforce = true
	s.p.EnforceNote = "turn on the allowlist"
	if len(s.p.Add)+len(s.p.Keep)+len(s.p.Update)+len(s.p.Unapproved) == 0 {
		s.p.EnforceNote += " (lock-down: no caller is approved, so it admits only the project itself)"
	}
	if hasOpen && open.Expired {
		s.p.EnforceNote += fmt.Sprintf("; the open exception at %s expired on %s", s.at(open.Line), open.Expires.Format(time.DateOnly))
	}
	if scope == nil {
		s.p.EnforceNote += " (current setting unknown; turning it on is idempotent)"
	}
	if c := s.blockedCallers(); len(c) > 0 {
		s.c.warn("%s: enforcing its allowlist blocks %d caller(s) without an approved entry: %s", s.p.Path, len(c), strings.Join(c, ", "))
	}
}

// unknownState marks the adds of a project whose current allowlist could
// not be read: each may already be there, and the plan only knows what it
// needs, not what is there to keep or remove.
func (s *calleeState) unknownState() {
	if !s.p.Unknown() {
		return
	}
	for i := range s.p.Add {
		s.p.Add[i].Reason += "; current allowlist unknown: the entry may already exist"
	}
	if len(s.deny) > 0 {
		// A deny rule removes what it forbids, but nothing can be removed
		// from an allowlist the plan has not seen.
		s.c.warn("%s: its allowlist is unknown, so the deny rule at %s cannot be checked against it: plan with a Maintainer token", s.p.Path, s.at(s.deny[0].Line))
	}
}

// blockedCallers lists callers that use the callee today and will be
// refused once the plan is applied and enforced.
func (s *calleeState) blockedCallers() []string {
	var out []string
	for _, r := range append(slices.Clone(s.p.NeedsReview), s.p.Denied...) {
		if !slices.Contains(out, r.Caller) && !s.admitted(r.Caller) {
			out = append(out, r.Caller)
		}
	}
	slices.Sort(out)
	return out
}

// admitted reports whether caller has an entry after the plan.
func (s *calleeState) admitted(caller string) bool {
	for _, l := range [][]Entry{s.p.Add, s.p.Keep, s.p.Update, s.p.Unapproved} {
		for _, e := range l {
			if (e.Type == ProjectEntry && strings.EqualFold(e.Path, caller)) || (e.Type == GroupEntry && trust.Under(caller, e.Path)) {
				return true
			}
		}
	}
	return false
}

func (s *calleeState) sort() {
	byPath := func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Path, b.Path))
	}
	for _, l := range []*[]Entry{&s.p.Add, &s.p.Update, &s.p.Remove, &s.p.Keep, &s.p.Stale, &s.p.Unapproved} {
		slices.SortFunc(*l, byPath)
	}
	byCaller := func(a, b Review) int {
		return cmp.Or(cmp.Compare(a.Caller, b.Caller), slices.Compare(a.Access, b.Access))
	}
	for _, l := range []*[]Review{&s.p.NeedsReview, &s.p.Denied, &s.p.Never} {
		slices.SortFunc(*l, byCaller)
	}
	slices.SortFunc(s.p.Advice, func(a, b Advice) int {
		return cmp.Or(cmp.Compare(a.Caller, b.Caller), slices.Compare(a.Access, b.Access))
	})
	s.p.Advice = slices.CompactFunc(s.p.Advice, func(a, b Advice) bool {
		return a.Caller == b.Caller && slices.Equal(a.Access, b.Access)
	})
}

// waves assigns each project its wave: from trust.yaml, or suggested from
// fan-in without one.
func (c *computer) waves() {
	if c.tf != nil && len(c.tf.Waves) > 0 {
		c.plan.Waves = c.tf.Waves
	} else {
		fan := map[string]int{}
		for _, p := range c.plan.Projects {
			if n := len(p.Add) + len(p.Keep) + len(p.Update) + len(p.NeedsReview); n > 0 {
				fan[p.Path] = n
			}
		}
		c.plan.Waves = trust.SuggestWaves(fan)
	}
	var unassigned []string
	for i := range c.plan.Projects {
		p := &c.plan.Projects[i]
		if w, ok := trust.WaveOf(c.plan.Waves, p.Path); ok {
			p.Wave = w.Name
		} else if p.Changes() {
			unassigned = append(unassigned, p.Path)
		}
	}
	if len(unassigned) > 0 {
		c.warn("%d project(s) with changes are in no wave (add an all: true wave, or list them): %s", len(unassigned), strings.Join(unassigned, ", "))
	}
}

func approvalReason(file string, line int, reason string) string {
	r := fmt.Sprintf("approved in %s:%d", file, line)
	if reason != "" {
		r += ": " + reason
	}
	return r
}

func (s *calleeState) denyReason(d trust.Deny) string {
	r := fmt.Sprintf("denied by the deny rule at %s", s.at(d.Line))
	if d.Reason != "" {
		r += ": " + d.Reason
	}
	return r + " (deny wins over every approval)"
}
