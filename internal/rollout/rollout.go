package rollout

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/capability"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/planfile"
	"github.com/tokenscope/tokenscope/internal/trust"
	"github.com/tokenscope/tokenscope/internal/use"
)

// OrgWide is the name of the last wave: the instance setting "Enable and
// enforce job token allowlist for all projects"
// (https://docs.gitlab.com/administration/settings/continuous_integration/),
// which enforces every project's allowlist, open exceptions included.
const OrgWide = "org-wide"

// Options tune Compute.
type Options struct {
	// Since drops authentication-log rows last seen before it from the
	// pre-flight (they are still listed); zero keeps every row.
	Since time.Time
	// Plan, when set, is the saved plan whose allowlists are predicted
	// (the state after apply); nil predicts the current allowlists.
	Plan *planfile.Document
	// PlanFile names Plan, for the output.
	PlanFile string
	// GitLabVersion overrides the inventory's (and the plan's) version.
	GitLabVersion capability.Version
}

// Status is the rollout as predicted: every wave of trust.yaml, then the
// org-wide wave.
type Status struct {
	// Planned is set when the prediction is of a plan's allowlists.
	Planned  bool
	PlanFile string
	// TrustFile names trust.yaml, for its lines ("" without one).
	TrustFile string
	Since     time.Time
	// Capabilities of the GitLab version predicted for; PoliciesHonoured
	// says whether fine-grained policies are checked.
	Capabilities     capability.Capabilities
	PoliciesHonoured bool
	// Instance is the instance enforcement setting (nil: unknown).
	Instance *bool
	Waves    []Wave
}

// Verdict sums up a wave.
type Verdict string

// Verdicts.
const (
	// Safe: enforcing the wave refuses no caller in use.
	Safe Verdict = "safe"
	// Blocked: enforcing it refuses callers in use (Blocked counts them).
	Blocked Verdict = "blocked"
)

// Wave is one step of the rollout and its pre-flight.
type Wave struct {
	Name string
	// OrgWide marks the final wave: the instance setting.
	OrgWide bool
	Line    int // in trust.yaml; 0 for the org-wide wave
	// Projects are the callees the wave enforces, sorted by path.
	Projects []Project
	// Enforced counts the wave's projects enforced today.
	Enforced int
	Verdict  Verdict
	// Blocked are the callers in use the wave's enforcement refuses, by
	// callee then caller (archived callers and accesses a job token can
	// never make are not counted: enforcement changes nothing for them).
	Blocked []Block
}

// Block is one caller that a wave's enforcement refuses.
type Block struct {
	Callee, Caller string
	Status         CallerStatus
}

// CallerStatus says what to do about a refused caller.
type CallerStatus string

// Caller statuses.
const (
	// Approved: trust.yaml approves the access; the entry is missing
	// because the plan is not applied yet: apply the plan first.
	Approved CallerStatus = "approved"
	// Unapproved: nothing approves it: review it, do not widen the
	// allowlist to make it pass.
	Unapproved CallerStatus = "unapproved"
	// Denied: a deny rule forbids it: the refusal is intended.
	Denied CallerStatus = "denied"
	// Never: a job token cannot do this across projects at all.
	Never CallerStatus = "never"
	// Archived: the caller is archived; its jobs no longer run.
	Archived CallerStatus = "archived"
)

// Project is one callee of a wave.
type Project struct {
	Path       string
	Visibility string
	// Unknown: its allowlist could not be read (job_token_scope_unknown).
	Unknown bool
	// Enforced today; Enforce: the wave enforces it (false for a project
	// an open exception keeps off, except in the org-wide wave).
	Enforced, Enforce bool
	Open              *trust.Open
	// Entries on the allowlist today, the project's own excluded;
	// PlannedEntries after the plan (with Options.Plan); Approved counts
	// the approvals and group grants of trust.yaml that count for it.
	Entries, PlannedEntries, Approved int
	// AuthLog are the authentication-log rows, by origin.
	AuthLog []Origin
	// Callers are every caller known to use the project (discovered or in
	// the authentication log within the window), with the prediction.
	Callers []Caller
}

// Origin is one authentication-log row.
type Origin struct {
	Caller   string
	LastSeen time.Time
	// InWindow is false for a row last seen before Options.Since.
	InWindow bool
}

// Caller is one caller of a callee and the predicted answer to each of its
// uses.
type Caller struct {
	Caller string
	// Outcome is Refused when any use is refused.
	Outcome Outcome
	// Status says what to do about a refused caller ("" when allowed).
	Status CallerStatus
	// Line is the trust.yaml line of the approval or deny rule behind
	// Status, 0 when none.
	Line   int
	Checks []Check
}

// Check is one use and its predicted answer.
type Check struct {
	Use      use.Use
	Request  Request
	Decision Decision
}

// Counts reports whether a refused caller counts against the wave.
func (c Caller) counts() bool {
	return c.Outcome == Refused && c.Status != Archived && c.Status != Never
}

// Compute predicts the rollout of inv's projects in the waves of tf (or
// waves suggested from the edges when tf has none), then org-wide. g holds
// the discovered edges (its auth-log uses are ignored: the inventory's
// rows, with their time, are used instead). The result depends only on
// the arguments.
func Compute(g *graph.Graph, ix *inventory.Index, tf *trust.File, o Options) *Status {
	inv := ix.Inventory()
	st := &Status{Planned: o.Plan != nil, PlanFile: o.PlanFile, Since: o.Since, Instance: inv.InstanceEnforcesAllowlist}
	if tf != nil {
		st.TrustFile = tf.Name
	}
	v := o.GitLabVersion
	if v.IsZero() {
		ver := inv.GitLabVersion
		if o.Plan != nil && o.Plan.GitLabVersion != "" {
			ver = o.Plan.GitLabVersion
		}
		v, _ = capability.ParseVersion(ver)
	}
	st.Capabilities = capability.For(v)
	// Before GA, policies take effect only on projects with the feature
	// flag add_policies_to_ci_job_token; elsewhere entries act with
	// default permissions (https://docs.gitlab.com/ci/jobs/fine_grained_permissions/).
	st.PoliciesHonoured = st.Capabilities.PoliciesUsable() && !st.Capabilities.PoliciesNeedFlag()
	c := &computer{g: g, ix: ix, tf: tf, o: o, st: st, byCallee: map[string][]graph.Edge{}, planned: map[string]*planfile.Project{}}
	for _, e := range g.Edges {
		k := strings.ToLower(e.Callee)
		c.byCallee[k] = append(c.byCallee[k], e)
	}
	if o.Plan != nil {
		for i := range o.Plan.Projects {
			c.planned[strings.ToLower(o.Plan.Projects[i].Project)] = &o.Plan.Projects[i]
		}
	}
	waves := c.waves()
	byWave := make([][]Project, len(waves))
	var all []Project
	for _, p := range inv.Projects {
		if p.Archived {
			// Archived projects run no jobs and are read-only: nothing
			// enforces their allowlists in a rollout.
			continue
		}
		pr, org := c.project(p, false), c.project(p, true)
		all = append(all, org)
		if w, ok := waveIndex(waves, p.Path); ok {
			byWave[w] = append(byWave[w], pr)
		}
	}
	for i, w := range waves {
		st.Waves = append(st.Waves, finish(Wave{Name: w.Name, Line: w.Line}, byWave[i]))
	}
	st.Waves = append(st.Waves, finish(Wave{Name: OrgWide, OrgWide: true}, all))
	return st
}

type computer struct {
	g        *graph.Graph
	ix       *inventory.Index
	tf       *trust.File
	o        Options
	st       *Status
	byCallee map[string][]graph.Edge
	planned  map[string]*planfile.Project
}

// waves are trust.yaml's, or suggested from fan-in as plan suggests them.
func (c *computer) waves() []trust.Wave {
	if c.tf != nil && len(c.tf.Waves) > 0 {
		return c.tf.Waves
	}
	if c.o.Plan != nil && len(c.o.Plan.Waves) > 0 {
		out := make([]trust.Wave, len(c.o.Plan.Waves))
		for i, w := range c.o.Plan.Waves {
			out[i] = trust.Wave{Name: w.Name, Projects: w.Projects, Groups: w.Groups, All: w.All}
		}
		return out
	}
	fan := map[string]int{}
	for _, e := range c.g.Edges {
		fan[e.Callee]++
	}
	return trust.SuggestWaves(fan)
}

func waveIndex(waves []trust.Wave, path string) (int, bool) {
	w, ok := trust.WaveOf(waves, path)
	if !ok {
		return 0, false
	}
	return slices.IndexFunc(waves, func(x trust.Wave) bool { return x.Name == w.Name }), true
}

// project predicts one callee: its wave's enforcement, or (org) the
// instance setting's.
func (c *computer) project(p *inventory.Project, org bool) Project {
	pr := Project{Path: p.Path, Visibility: cmp.Or(p.Visibility, "private"), Unknown: p.StateUnknown()}
	cur := newAllowlist(p)
	inst := c.st.Instance != nil && *c.st.Instance
	pr.Enforced = cur.Enforced || inst
	pr.Entries = cur.entries(p.Path)
	if c.tf != nil {
		for _, a := range c.tf.EdgesTo(p.Path) {
			if a.Counts() {
				pr.Approved++
			}
		}
		for _, g := range c.tf.GroupGrants(p.Path) {
			if g.Counts() {
				pr.Approved++
			}
		}
	}
	after := cur.clone()
	if pp := c.planned[strings.ToLower(p.Path)]; pp != nil {
		c.applyPlan(&after, pp)
		pr.PlannedEntries = after.entries(p.Path)
	} else {
		pr.PlannedEntries = pr.Entries
	}
	if o, ok := c.tf.OpenException(p.Path); ok && !o.Expired {
		pr.Open = &o
	}
	switch {
	case org, inst:
		// The instance setting enforces every allowlist; an open exception
		// cannot hold under it.
		pr.Enforce = true
	case c.o.Plan != nil:
		pp := c.planned[strings.ToLower(p.Path)]
		pr.Enforce = pr.Enforced || pp != nil && pp.Enforce
	default:
		pr.Enforce = pr.Enforced || pr.Open == nil
	}
	after.Enforced = pr.Enforce
	c.authLog(&pr, p)
	c.callers(&pr, after)
	return pr
}

// applyPlan makes a's entries those after the plan's calls, as apply
// makes them: adds (with their policies), policy updates, and removals
// when the plan was pruned (apply removes only then, docs/design.md §8b).
func (c *computer) applyPlan(a *Allowlist, pp *planfile.Project) {
	set := func(t string, e inventory.Entry) {
		if t == "group" {
			a.Groups[strings.ToLower(e.Path)] = e
		} else {
			a.Projects[strings.ToLower(e.Path)] = e
		}
	}
	for _, e := range pp.Add {
		set(string(e.Type), inventory.Entry{Path: e.Path, ID: e.ID, Policies: e.Policies})
	}
	for _, e := range pp.Update {
		set(string(e.Type), inventory.Entry{Path: e.Path, ID: e.ID, Policies: e.Policies})
	}
	if c.o.Plan.Pruned {
		for _, r := range pp.Remove {
			if r.Type == "group" {
				delete(a.Groups, strings.ToLower(r.Path))
			} else {
				delete(a.Projects, strings.ToLower(r.Path))
			}
		}
	}
	if pp.Enforce {
		a.Enforced = true
	}
}

func (c *computer) authLog(pr *Project, p *inventory.Project) {
	for _, r := range p.AuthLog {
		if strings.EqualFold(r.Origin, p.Path) {
			continue
		}
		pr.AuthLog = append(pr.AuthLog, Origin{Caller: r.Origin, LastSeen: r.LastAuthorizedAt,
			InWindow: c.o.Since.IsZero() || !r.LastAuthorizedAt.Before(c.o.Since)})
	}
	slices.SortFunc(pr.AuthLog, func(a, b Origin) int { return cmp.Compare(a.Caller, b.Caller) })
}

// callers predicts every use of the callee under the allowlist a.
func (c *computer) callers(pr *Project, a Allowlist) {
	by := map[string]*Caller{}
	get := func(caller string) *Caller {
		if p := c.ix.Project(caller); p != nil {
			caller = p.Path
		}
		k := strings.ToLower(caller)
		if by[k] == nil {
			by[k] = &Caller{Caller: caller, Outcome: Allowed}
		}
		return by[k]
	}
	check := func(cl *Caller, u use.Use) {
		req := RequestOf(u)
		d := Decide(a, cl.Caller, u.Access, req, c.st.PoliciesHonoured)
		cl.Checks = append(cl.Checks, Check{Use: u, Request: req, Decision: d})
		if d.Outcome == Refused {
			cl.Outcome = Refused
		}
	}
	for _, e := range c.byCallee[strings.ToLower(pr.Path)] {
		for _, u := range e.Uses {
			if u.Origin == use.AuthLog {
				continue // from the inventory below, with its time and window
			}
			check(get(e.Caller), u)
		}
	}
	for _, r := range pr.AuthLog {
		if !r.InWindow {
			continue
		}
		check(get(r.Caller), use.Use{Origin: use.AuthLog, Caller: r.Caller, Callee: pr.Path,
			Evidence: use.Evidence{Detail: "job token authentication log: last authorized " + r.LastSeen.UTC().Format(time.RFC3339)}})
	}
	for _, cl := range by {
		if cl.Outcome == Refused {
			c.status(cl, pr.Path)
		}
		pr.Callers = append(pr.Callers, *cl)
	}
	slices.SortFunc(pr.Callers, func(a, b Caller) int { return cmp.Compare(a.Caller, b.Caller) })
}

// status says what to do about a refused caller, from its refused checks:
// archived callers run no jobs; a deny rule makes the refusal intended;
// an access nothing approves is to be reviewed, not let in; an approved
// one waits for the plan; what a job token can never do needs another
// credential whatever the allowlist says.
func (c *computer) status(cl *Caller, callee string) {
	if p := c.ix.Project(cl.Caller); p != nil && p.Archived {
		cl.Status = Archived
		return
	}
	for _, d := range c.tf.DenyRules(callee) {
		if d.Denies(cl.Caller) {
			cl.Status, cl.Line = Denied, d.Line
			return
		}
	}
	approved, never := false, false
	for _, ch := range cl.Checks {
		if ch.Decision.Outcome != Refused {
			continue
		}
		if ch.Decision.Reason == NeverAllowed {
			never = true
			continue
		}
		line, ok := c.approval(cl.Caller, callee, ch.Use.Access)
		if !ok {
			cl.Status, cl.Line = Unapproved, 0
			return
		}
		approved, cl.Line = true, line
	}
	switch {
	case approved:
		cl.Status = Approved
	case never:
		cl.Status = Never
	}
}

// approval returns the line of the approval (an edge, else a group grant)
// that covers caller's access k to callee; an approval without kinds
// covers every kind, and a use of no known kind is covered by any
// approval.
func (c *computer) approval(caller, callee string, k access.Kind) (int, bool) {
	covers := func(kinds []access.Kind) bool { return k == "" || len(kinds) == 0 || slices.Contains(kinds, k) }
	if c.tf == nil {
		return 0, false
	}
	if a, ok := c.tf.Approval(caller, callee); ok && a.Counts() && covers(a.Access) {
		return a.Line, true
	}
	for _, g := range c.tf.GroupGrants(callee) {
		if g.Counts() && trust.Under(caller, g.CallerGroup) && covers(g.Access) {
			return g.Line, true
		}
	}
	return 0, false
}

// finish sorts a wave and gives its verdict.
func finish(w Wave, ps []Project) Wave {
	slices.SortFunc(ps, func(a, b Project) int { return cmp.Compare(a.Path, b.Path) })
	w.Projects = ps
	for _, p := range ps {
		if p.Enforced {
			w.Enforced++
		}
		for _, cl := range p.Callers {
			if cl.counts() {
				w.Blocked = append(w.Blocked, Block{Callee: p.Path, Caller: cl.Caller, Status: cl.Status})
			}
		}
	}
	w.Verdict = Safe
	if len(w.Blocked) > 0 {
		w.Verdict = Blocked
	}
	return w
}

// Wave returns the wave named name.
func (s *Status) Wave(name string) (Wave, bool) {
	i := slices.IndexFunc(s.Waves, func(w Wave) bool { return w.Name == name })
	if i < 0 {
		return Wave{}, false
	}
	return s.Waves[i], true
}

// Breaks reports whether enforcing any wave refuses a caller in use.
func (s *Status) Breaks() bool {
	return slices.ContainsFunc(s.Waves, func(w Wave) bool { return w.Verdict == Blocked })
}
