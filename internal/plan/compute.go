package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokenscope/tokenscope/internal/capability"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/trust"
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
// It reads as its rules (docs/design.md §6): per callee, the facts of
// every (caller, callee) pair are gathered first (calleeFacts,
// projectFacts, groupFacts); decide makes one pure decision per pair,
// trying the rules in their documented order (ruleOf); the project's lists
// are views of the decisions (view), revised once for GitLab's allowlist
// limit (limit); decideEnforce decides lock-down last. Group entries are
// decided before their members, whose facts say which group entry admits
// them after the plan (Facts.Cover).
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

// callee plans one callee: the facts of every (caller, callee) pair, one
// decision per pair, and the project's lists as views of the decisions.
//
// Group entries are decided first: their fate (stay, go, be added) never
// depends on their members, while a member's depends on the group entry
// that admits it after the plan (Facts.Cover). Whether a group entry is
// stale depends on the members it admits, so the groups are decided once
// more with that fact; nothing else changes in that second decision.
func (c *computer) callee(path string) (Project, bool) {
	cf := c.calleeFacts(path)
	projects := cf.projectFacts()
	groups := cf.groupFacts()
	for i := range groups {
		if groups[i].Grant != nil {
			groups[i].Routed = routed(groups[i], projects)
		}
	}
	cover := covers(decideAll(groups))
	for i := range projects {
		projects[i].Cover = nearestCover(cover, projects[i].Caller)
	}
	pds := decideAll(projects)
	for i := range groups {
		groups[i].Admits = admits(groups[i], pds)
	}
	ds := append(decideAll(groups), pds...)
	ds, limitWarnings := cf.limit(ds)

	p := view(ds)
	p.Path, p.State = path, cf.state
	if cf.proj != nil {
		p.ID = cf.proj.ID
	}
	for _, d := range ds {
		for _, w := range d.Warnings {
			c.warn("%s", w)
		}
	}
	for _, w := range limitWarnings {
		c.warn("%s", w)
	}
	en := decideEnforce(cf.enforceFacts(p))
	p.Enforce, p.Enforced, p.EnforceNote, p.Open = en.Enforce, en.Enforced, en.Note, en.Open
	for _, w := range en.Warnings {
		c.warn("%s", w)
	}
	if p.Unknown() && len(cf.deny) > 0 {
		// A deny rule removes what it forbids, but nothing can be removed
		// from an allowlist the plan has not seen.
		c.warn("%s: its allowlist is unknown, so the deny rule at %s:%d cannot be checked against it: plan with a Maintainer token", path, c.tf.Name, cf.deny[0].Line)
	}
	empty := !p.Changes() && !p.Unknown() && p.Open == nil &&
		len(p.Keep)+len(p.ViaGroup)+len(p.NeedsReview)+len(p.Stale)+len(p.Denied)+len(p.Unapproved)+len(p.Never) == 0
	return p, !empty
}

func decideAll(fs []Facts) []Decision {
	out := make([]Decision, len(fs))
	for i, f := range fs {
		out[i] = decide(f)
	}
	return out
}

// admits lists the members of group that their decisions leave to the
// group entry: kept or added via it, with no entry of their own.
func admits(group Facts, ds []Decision) []string {
	var out []string
	for _, d := range ds {
		if (d.Verdict == VerdictKeep || d.Verdict == VerdictViaGroup) && d.Entry.CoveredBy != "" && strings.EqualFold(d.Entry.CoveredBy, group.Caller) {
			out = append(out, d.Entry.Path)
		}
	}
	return out
}

// view is the project's lists, each a view of the decisions: every entry
// is in the list of its verdict, and in Stale as well when it is an
// approval nothing uses that the plan still honours.
func view(ds []Decision) Project {
	var p Project
	lists := map[Verdict]*[]Entry{VerdictAdd: &p.Add, VerdictKeep: &p.Keep, VerdictUpdate: &p.Update,
		VerdictRemove: &p.Remove, VerdictUnapproved: &p.Unapproved, VerdictViaGroup: &p.ViaGroup}
	for _, d := range ds {
		if l, ok := lists[d.Verdict]; ok {
			*l = append(*l, d.Entry)
			if d.Entry.Stale && d.Verdict != VerdictRemove && d.Verdict != VerdictUnapproved {
				p.Stale = append(p.Stale, d.Entry)
			}
		}
		p.NeedsReview = append(p.NeedsReview, d.Reviews...)
		if d.Denied != nil {
			p.Denied = append(p.Denied, *d.Denied)
		}
		if d.Never != nil {
			p.Never = append(p.Never, *d.Never)
		}
		p.Advice = append(p.Advice, d.Advice...)
	}
	p.sort()
	return p
}

// enforceFacts are what the enforcement decision reads: the settings,
// the open exception, and (views of the pairs' decisions) whether any
// caller keeps an entry and which callers enforcement blocks.
type enforceFacts struct {
	Callee, TrustFile string
	Instance          *bool
	Scope             *inventory.JobTokenScope
	Open              *trust.Open
	Admits            bool
	Blocked           []string
}

type enforcement struct {
	Enforce, Enforced bool
	Note              string
	Open              *trust.Open
	Warnings          []string
}

func (cf *calleeFacts) enforceFacts(p Project) enforceFacts {
	f := enforceFacts{Callee: cf.path, Instance: cf.c.ix.Inventory().InstanceEnforcesAllowlist,
		Admits: len(p.Add)+len(p.Keep)+len(p.Update)+len(p.Unapproved) > 0, Blocked: p.blockedCallers()}
	if cf.proj != nil {
		f.Scope = cf.proj.JobTokenScope
	}
	if cf.c.tf != nil {
		f.TrustFile = cf.c.tf.Name
	}
	if o, ok := cf.c.tf.OpenException(cf.path); ok {
		f.Open = &o
	}
	return f
}

// decideEnforce decides whether to turn the allowlist on. Lock-down is
// the default: every callee's allowlist is enforced ("Limit access to this
// project", https://docs.gitlab.com/ci/jobs/ci_job_token/), whether or not
// anything is approved for it; only an unexpired open exception in
// trust.yaml leaves it off. The plan never turns an allowlist off.
func decideEnforce(f enforceFacts) enforcement {
	var en enforcement
	at := func(line int) string { return fmt.Sprintf("%s:%d", f.TrustFile, line) }
	open := f.Open != nil && !f.Open.Expired
	switch {
	case f.Instance != nil && *f.Instance:
		en.Enforced = true
		en.Note = "enforced by the instance setting \"Enable and enforce job token allowlist for all projects\""
		if open {
			en.Warnings = append(en.Warnings, fmt.Sprintf("%s: the open exception at %s cannot keep it open: the instance setting enforces every allowlist", f.Callee, at(f.Open.Line)))
		}
		return en
	case f.Scope != nil && f.Scope.InboundEnabled:
		en.Enforced = true
		en.Note = "already enforced"
		if open {
			en.Note += fmt.Sprintf("; the open exception at %s does not turn it off", at(f.Open.Line))
		}
		return en
	case open:
		o := *f.Open
		en.Open = &o
		en.Note = fmt.Sprintf("stays open: exception at %s", at(o.Line))
		if o.Reason != "" {
			en.Note += ": " + o.Reason
		}
		en.Note += " (owner " + o.Owner
		if !o.Expires.IsZero() {
			en.Note += ", until " + o.Expires.Format(time.DateOnly)
		}
		en.Note += "); any project's job token may come in"
		return en
	}
	en.Enforce = true
	en.Note = "turn on the allowlist"
	if !f.Admits {
		en.Note += " (lock-down: no caller is approved, so it admits only the project itself)"
	}
	if f.Open != nil && f.Open.Expired {
		en.Note += fmt.Sprintf("; the open exception at %s expired on %s", at(f.Open.Line), f.Open.Expires.Format(time.DateOnly))
	}
	if f.Scope == nil {
		en.Note += " (current setting unknown; turning it on is idempotent)"
	}
	if len(f.Blocked) > 0 {
		en.Warnings = append(en.Warnings, fmt.Sprintf("%s: enforcing its allowlist blocks %d caller(s) without an approved entry: %s", f.Callee, len(f.Blocked), strings.Join(f.Blocked, ", ")))
	}
	return en
}

// blockedCallers lists callers that use the callee today and will be
// refused once the plan is applied and enforced.
func (p Project) blockedCallers() []string {
	var out []string
	for _, r := range append(slices.Clone(p.NeedsReview), p.Denied...) {
		if !slices.Contains(out, r.Caller) && !p.admitted(r.Caller) {
			out = append(out, r.Caller)
		}
	}
	slices.Sort(out)
	return out
}

// admitted reports whether caller has an entry after the plan.
func (p Project) admitted(caller string) bool {
	for _, l := range [][]Entry{p.Add, p.Keep, p.Update, p.Unapproved} {
		for _, e := range l {
			if (e.Type == ProjectEntry && strings.EqualFold(e.Path, caller)) || (e.Type == GroupEntry && trust.Under(caller, e.Path)) {
				return true
			}
		}
	}
	return false
}

func (p *Project) sort() {
	byPath := func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Path, b.Path))
	}
	for _, l := range []*[]Entry{&p.Add, &p.Update, &p.Remove, &p.Keep, &p.ViaGroup, &p.Stale, &p.Unapproved} {
		slices.SortFunc(*l, byPath)
	}
	byCaller := func(a, b Review) int {
		return cmp.Or(cmp.Compare(a.Caller, b.Caller), slices.Compare(a.Access, b.Access))
	}
	for _, l := range []*[]Review{&p.NeedsReview, &p.Denied, &p.Never} {
		slices.SortFunc(*l, byCaller)
	}
	slices.SortFunc(p.Advice, func(a, b Advice) int {
		return cmp.Or(cmp.Compare(a.Caller, b.Caller), slices.Compare(a.Access, b.Access))
	})
	p.Advice = slices.CompactFunc(p.Advice, func(a, b Advice) bool {
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
			if n := len(p.Add) + len(p.Keep) + len(p.ViaGroup) + len(p.Update) + len(p.NeedsReview); n > 0 {
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
