package plan

import (
	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/capability"
	"github.com/tokenscope/tokenscope/internal/trust"
	"github.com/tokenscope/tokenscope/internal/use"
)

// EntryType says whether an allowlist entry names a project or a group.
type EntryType string

// Entry types, as in the plan JSON.
const (
	ProjectEntry EntryType = "project"
	GroupEntry   EntryType = "group"
)

// Status is how the plan treats one caller of a callee, for people: the
// edge table shows it.
type Status string

// Statuses.
const (
	StatusAdd        Status = "add"        // approved, not on the allowlist yet
	StatusKeep       Status = "keep"       // approved and already covered
	StatusUpdate     Status = "update"     // approved, on the allowlist with other policies
	StatusRemove     Status = "remove"     // on the allowlist, going away (pruned, denied, limit)
	StatusReview     Status = "review"     // discovered, not approved: never added
	StatusStale      Status = "stale"      // approved, not discovered: kept, flagged
	StatusDenied     Status = "denied"     // a deny rule forbids it
	StatusNever      Status = "never"      // a job token cannot do this at all
	StatusUnapproved Status = "unapproved" // on the allowlist, not approved, kept without pruning
	// StatusViaGroup: approved, admitted by a group entry the plan adds, so
	// it gets no entry of its own (its access arrives with the group's).
	StatusViaGroup Status = "add-via-group"
)

// Entry is one allowlist entry the plan adds, keeps, updates or removes.
type Entry struct {
	Type EntryType
	Path string
	ID   int // numeric ID from the inventory; 0 when unknown
	// Access lists the access kinds the entry serves, sorted.
	Access []access.Kind
	// Policies are the fine-grained job token policies, sorted; nil means
	// default permissions, and PolicyReason says why.
	Policies     []string
	PolicyReason string
	// OnAllowlist is set when the entry exists on the allowlist today;
	// CurrentPolicies are then its policies (nil: default permissions).
	// For a keep covered by a group entry, CurrentPolicies are the group's.
	OnAllowlist     bool
	CurrentPolicies []string
	// Reason says why the plan does this, for reviewers and the JSON.
	Reason string
	// Role is the minimum role the triggering users need on the callee.
	Role access.Role
	// Uses are the discovered uses behind the entry (evidence).
	Uses []use.Use
	// Stale marks an approval without a discovered use.
	Stale bool
	// Autopopulated marks an entry GitLab added from its authentication log.
	Autopopulated bool
	// CoveredBy names the group entry that admits this project, so that it
	// needs no entry of its own: one on the allowlist (a keep), or one the
	// plan adds (CoverPlanned; the entry is in Project.ViaGroup).
	CoveredBy    string
	CoverPlanned bool
	// Widening describes what a group entry lets in.
	Widening *Widening
}

// DefaultPermissions reports whether the entry gets default permissions.
func (e Entry) DefaultPermissions() bool { return e.Policies == nil }

// Widening is what a group entry admits beyond the approved callers: the
// number GitLab's own compaction never shows.
type Widening struct {
	// Members are the projects of the group (and subgroups) the inventory
	// knows, the callee excluded.
	Members int
	// Extra are the members without an approved edge to the callee: the
	// widening itself.
	Extra []string
	// Replaces are the project entries this group entry replaces (when it
	// was proposed for the 200-entry limit).
	Replaces []string
	// Proposed is set when the plan proposes the group entry to respect
	// the allowlist limit; it is not in trust.yaml.
	Proposed bool
}

// Review is a caller the plan will not add without a human: discovered but
// not approved, access beyond its approval, or denied.
type Review struct {
	Caller string
	Access []access.Kind
	Uses   []use.Use
	Reason string
	// OnAllowlist is set when the caller already has an entry.
	OnAllowlist bool
}

// Advice is a recommendation where a job token is the wrong tool.
type Advice struct {
	Caller string
	Access []access.Kind
	Text   string
}

// State says whether the plan knows a project's current job token
// settings and allowlist.
type State string

// States, as in the plan JSON.
const (
	// StateKnown: the settings and allowlist were read (or the inventory
	// records them), so the plan is computed against them.
	StateKnown State = "known"
	// StateUnknown: they could not be read. GitLab shows a project's job
	// token scope only to its Maintainers
	// (https://docs.gitlab.com/api/project_job_token_scopes/), so a
	// lower-role token gets 403/404. The plan then proposes no removal and
	// no update (it cannot know what is there), its adds may already be
	// made, and nothing of it is safe to apply authoritatively.
	StateUnknown State = "unknown"
)

// Project is the plan for one callee project.
type Project struct {
	Path string
	ID   int
	Wave string
	// State is StateUnknown when the project's current settings and
	// allowlist could not be read.
	State State
	// Enforce turns on the allowlist ("Limit access to this project").
	Enforce bool
	// Enforced says the allowlist is enforced today (by the project or the
	// instance setting).
	Enforced bool
	// EnforceNote explains Enforce (or why not).
	EnforceNote string
	// Open is the trust.yaml exception that keeps the allowlist off (nil:
	// locked down, the default).
	Open *trust.Open

	Add, Update, Remove, Keep []Entry
	// ViaGroup are approved callers a group entry the plan adds will
	// admit: no call is made for them, the group entry's add is theirs.
	ViaGroup    []Entry
	NeedsReview []Review
	Stale       []Entry
	Denied      []Review
	// Unapproved are entries on the allowlist that no approval covers,
	// kept because the plan ran without Options.Prune (their Reason does
	// not say how to remove them: that is a flag, the command line's to
	// word).
	Unapproved []Entry
	// Never are edges whose every access kind a job token cannot make
	// across projects: no entry helps, Advice says what to use instead.
	Never  []Review
	Advice []Advice
}

// Unknown reports whether the project's current state could not be read.
func (p Project) Unknown() bool { return p.State == StateUnknown }

// Changes reports whether applying the project's plan changes GitLab.
func (p Project) Changes() bool {
	return p.Enforce || len(p.Add)+len(p.Update)+len(p.Remove) > 0
}

// Plan is the whole plan, projects sorted by path.
type Plan struct {
	// Trusted is set when the plan was computed with a trust file; without
	// one, every discovered edge is proposed, unreviewed.
	Trusted   bool
	TrustFile string
	// Unreviewed counts the trust file's entries still marked unreviewed
	// (drafted by trust init, not yet vouched for): none of them approves
	// anything, and apply refuses the plan while it is not zero unless told
	// otherwise.
	Unreviewed int
	Pruned     bool
	// Capabilities of the GitLab version the plan targets.
	Capabilities capability.Capabilities
	// StateDigest identifies the allowlist state the plan was computed
	// from (see StateDigest).
	StateDigest string
	// Instance is the instance setting "Enable and enforce job token
	// allowlist for all projects" as read (nil: unknown, e.g. the token
	// is not an administrator's).
	Instance *bool
	// ServerURL is the GitLab the inventory describes, for API steps.
	ServerURL  string
	Projects   []Project
	Waves      []trust.Wave
	Warnings   []Warning
	Unresolved []use.Unresolved
}

// WarningKind says what a warning is about. Most warnings are whole
// sentences; the ones whose remedy is a command-line flag carry only their
// kind, and the command line words them: plan does not know its flags.
type WarningKind int

// Warning kinds.
const (
	// WarnNote is a warning that Text says in full.
	WarnNote WarningKind = iota
	// WarnNoTrust: the plan was computed without a trust file, so every
	// discovered edge is proposed, not reviewed.
	WarnNoTrust
	// WarnVersionUnknown: neither the options nor the inventory name the
	// GitLab version, so the plan targets the newest one tokenscope knows.
	WarnVersionUnknown
)

// Warning is something the plan's reader must know before applying it.
type Warning struct {
	Kind WarningKind
	Text string // the sentence, for WarnNote; empty for the other kinds
}

// Findings reports whether the plan holds anything to act on: a change to
// make, an edge to review, a denied or unapproved entry, a stale approval,
// a project whose current state is unknown.
func (p *Plan) Findings() bool {
	for _, pr := range p.Projects {
		if pr.Changes() || pr.Unknown() || len(pr.NeedsReview)+len(pr.Denied)+len(pr.Unapproved)+len(pr.Stale) > 0 {
			return true
		}
	}
	return false
}

// Totals counts the plan's entries by kind, for summaries.
type Totals struct {
	Projects, Enforce, Add, Update, Remove, Keep, Review, Stale, Denied, Unapproved, Never, Advice int
	// ViaGroup counts approved callers admitted by a group entry the plan
	// adds (no entry of their own).
	ViaGroup int
	// Unknown counts projects whose current state could not be read;
	// Open those an open exception keeps off.
	Unknown, Open int
}

// Totals counts the plan.
func (p *Plan) Totals() Totals {
	var t Totals
	for _, pr := range p.Projects {
		t.Projects++
		if pr.Unknown() {
			t.Unknown++
		}
		if pr.Open != nil {
			t.Open++
		}
		if pr.Enforce {
			t.Enforce++
		}
		t.Add += len(pr.Add)
		t.Update += len(pr.Update)
		t.Remove += len(pr.Remove)
		t.Keep += len(pr.Keep)
		t.ViaGroup += len(pr.ViaGroup)
		t.Review += len(pr.NeedsReview)
		t.Stale += len(pr.Stale)
		t.Denied += len(pr.Denied)
		t.Unapproved += len(pr.Unapproved)
		t.Never += len(pr.Never)
		t.Advice += len(pr.Advice)
	}
	return t
}
