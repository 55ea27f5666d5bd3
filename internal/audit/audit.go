package audit

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/trust"
)

// Kind is what a finding is about; the JSON, the Code Quality check name
// and trust.yaml's acknowledged: use the same word.
type Kind string

// Drift: the org differs from its reviewed intent. These fail the audit
// unless acknowledged.
const (
	// Unapproved: an entry on the allowlist that no approval covers.
	Unapproved Kind = "unapproved"
	// Remove: an entry on the allowlist the plan removes even without
	// pruning (a deny rule forbids it, or a group entry replaces it).
	Remove Kind = "remove"
	// Missing: an approved entry that is not on the allowlist.
	Missing Kind = "missing"
	// Wider: an entry whose policies grant more than approved.
	Wider Kind = "wider"
	// Narrower: an entry whose policies lack what the approval needs.
	Narrower Kind = "narrower"
	// NotEnforced: the allowlist is off and no open exception keeps it so.
	NotEnforced Kind = "not-enforced"
	// Expired: an approval, group grant or open exception whose expiry
	// date has passed.
	Expired Kind = "expired"
	// NoOwner: an approval or group grant that names nobody who answers
	// for it.
	NoOwner Kind = "no-owner"
	// Unknown: the project's allowlist could not be read, so the audit
	// cannot say it matches.
	Unknown Kind = "unknown"
)

// Standing findings: not drift, reported, failing only when asked
// (Options.FailOn).
const (
	// Review: a discovered use no approval covers.
	Review Kind = "review"
	// Stale: an approval nothing discovered uses.
	Stale Kind = "stale"
	// Impossible: an access a job token can never make across projects.
	Impossible Kind = "impossible"
	// Denied: a discovered use a deny rule forbids.
	Denied Kind = "denied"
	// Unreviewed: a trust.yaml entry still marked unreviewed.
	Unreviewed Kind = "unreviewed"
)

// Kinds lists every kind: drift first, then standing, each in the order
// the output explains them.
var Kinds = []Kind{Unapproved, Remove, Missing, Wider, Narrower, NotEnforced, Expired, NoOwner, Unknown,
	Review, Stale, Impossible, Denied, Unreviewed}

// Drift reports whether k is drift (fails by default) rather than a
// standing finding.
func (k Kind) Drift() bool {
	switch k {
	case Review, Stale, Impossible, Denied, Unreviewed:
		return false
	}
	return true
}

// Class is "drift" or "standing".
func (k Kind) Class() string {
	if k.Drift() {
		return "drift"
	}
	return "standing"
}

// ParseKinds reads a --fail-on list: kinds separated by commas, or "all".
func ParseKinds(s string) ([]Kind, error) {
	var out []Kind
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
			continue
		case f == "all":
			return slices.Clone(Kinds), nil
		case slices.Contains(Kinds, Kind(f)):
			out = append(out, Kind(f))
		default:
			valid := make([]string, len(Kinds))
			for i, k := range Kinds {
				valid[i] = string(k)
			}
			return nil, fmt.Errorf("unknown finding kind %q (valid: %s, all)", f, strings.Join(valid, ", "))
		}
	}
	return out, nil
}

// Finding is one thing the audit reports.
type Finding struct {
	Kind    Kind
	Project string
	// EntryType and Entry name the allowlist entry or caller the finding
	// is about; both are empty for findings about the project itself.
	EntryType plan.EntryType
	Entry     string
	// Detail says what is wrong, Action what to do about it.
	Detail string
	Action string
	// Line is the trust.yaml line the finding refers to (0: none).
	Line int
	// Acknowledged is the acknowledgement that keeps the finding from
	// failing (nil: none, or only an expired one).
	Acknowledged *trust.Acknowledgement
	// Fails is set when the finding fails the audit: drift, or a kind in
	// Options.FailOn, and not acknowledged.
	Fails bool
}

// Fingerprint identifies the finding across runs: its kind, project and
// entry (paths lower-cased, as GitLab compares them), never its wording or
// line, so a merge request widget (GitLab Code Quality) tracks it as the
// same finding while the text around it changes.
func (f Finding) Fingerprint() string {
	h := sha256.Sum256([]byte("tokenscope-audit\x00" + string(f.Kind) + "\x00" + strings.ToLower(f.Project) + "\x00" +
		string(f.EntryType) + "\x00" + strings.ToLower(f.Entry)))
	return hex.EncodeToString(h[:])
}

// Options tune Audit.
type Options struct {
	// FailOn are the standing kinds that fail the audit too.
	FailOn []Kind
}

// Result is the audit of an org.
type Result struct {
	TrustFile string
	// Projects counts the projects audited, Enforced those whose allowlist
	// is enforced today, Open those an open exception keeps off.
	Projects, Enforced, Open int
	Findings                 []Finding // sorted by project, entry, kind
	// Unused are the unexpired acknowledgements no finding matches (the
	// finding was fixed, or the entry misnamed): to delete, in file order.
	Unused []trust.Acknowledgement
}

// Failed reports whether any finding fails the audit.
func (r *Result) Failed() bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Fails })
}

// Counts tallies the findings: failing, acknowledged, and by kind.
type Counts struct {
	Failing, Drift, Standing, Acknowledged int
	ByKind                                 map[Kind]int
}

// Counts tallies r.
func (r *Result) Counts() Counts {
	c := Counts{ByKind: map[Kind]int{}}
	for _, f := range r.Findings {
		c.ByKind[f.Kind]++
		if f.Kind.Drift() {
			c.Drift++
		} else {
			c.Standing++
		}
		if f.Fails {
			c.Failing++
		}
		if f.Acknowledged != nil {
			c.Acknowledged++
		}
	}
	return c
}

// Audit lists the findings of p, a plan computed without pruning against
// tf (so entries no approval covers are Unapproved, not removals), of the
// org ix describes (nil: count only the plan's projects). It is a pure
// function of its arguments.
func Audit(p *plan.Plan, ix *inventory.Index, tf *trust.File, opts Options) *Result {
	if tf == nil {
		tf = &trust.File{Name: trust.FileName}
	}
	a := &auditor{p: p, tf: tf, r: &Result{TrustFile: p.TrustFile}}
	for _, pr := range p.Projects {
		a.project(pr)
	}
	a.uncounted(ix)
	a.trustFile()
	used := map[int]bool{}
	for i := range a.r.Findings {
		if line := a.settle(&a.r.Findings[i], opts); line > 0 {
			used[line] = true
		}
	}
	for _, ack := range tf.Acknowledgements {
		if !ack.Expired && !used[ack.Line] {
			a.r.Unused = append(a.r.Unused, ack)
		}
	}
	slices.SortFunc(a.r.Findings, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(x.Project, y.Project), cmp.Compare(x.EntryType, y.EntryType), cmp.Compare(x.Entry, y.Entry),
			cmp.Compare(slices.Index(Kinds, x.Kind), slices.Index(Kinds, y.Kind)), cmp.Compare(x.Line, y.Line))
	})
	return a.r
}

type auditor struct {
	p  *plan.Plan
	tf *trust.File
	r  *Result
}

func (a *auditor) add(f Finding) { a.r.Findings = append(a.r.Findings, f) }

func (a *auditor) at(line int) string { return fmt.Sprintf("%s:%d", a.tf.Name, line) }

// project turns one project's plan into findings.
func (a *auditor) project(pr plan.Project) {
	a.r.Projects++
	if pr.Enforced {
		a.r.Enforced++
	}
	if pr.Open != nil {
		a.r.Open++
	}
	if pr.Unknown() {
		// Nothing of what the plan would change can be told from what is
		// there: one finding says so, instead of adds that may exist.
		a.add(Finding{Kind: Unknown, Project: pr.Path,
			Detail: "the job token settings and allowlist could not be read (GitLab shows them only to Maintainers: https://docs.gitlab.com/api/project_job_token_scopes/)",
			Action: "audit with a token of a Maintainer of the project"})
	} else {
		a.drift(pr)
	}
	for _, r := range pr.NeedsReview {
		a.add(Finding{Kind: Review, Project: pr.Path, EntryType: plan.ProjectEntry, Entry: r.Caller,
			Detail: "used (" + kinds(r.Access) + ") but " + r.Reason, Line: a.approvalLine(r.Caller, pr.Path),
			Action: fmt.Sprintf("approve it in %s if the access is intended, or change %s's jobs; once the allowlist is enforced they fail without an entry", a.tf.Name, r.Caller)})
	}
	for _, e := range pr.Stale {
		a.add(Finding{Kind: Stale, Project: pr.Path, EntryType: e.Type, Entry: e.Path, Line: a.entryLine(e, pr.Path),
			Detail: "approved, but no use was discovered",
			Action: fmt.Sprintf("ask the owner whether %s still needs it; delete the approval if not, or acknowledge it (uses held in variables or outside the snapshot are not seen)", e.Path)})
	}
	for _, r := range pr.Never {
		a.add(Finding{Kind: Impossible, Project: pr.Path, EntryType: plan.ProjectEntry, Entry: r.Caller,
			Detail: "uses " + kinds(r.Access) + ": " + r.Reason, Action: advice(pr, r)})
	}
	for _, r := range pr.Denied {
		a.add(Finding{Kind: Denied, Project: pr.Path, EntryType: plan.ProjectEntry, Entry: r.Caller, Line: a.denyLine(r.Caller, pr.Path),
			Detail: "used (" + kinds(r.Access) + ") but " + r.Reason,
			Action: fmt.Sprintf("change %s's jobs: the deny rule keeps it off the allowlist, so they fail", r.Caller)})
	}
}

// uncounted counts the projects the plan leaves out because it has
// nothing to say about them: in scope (not archived), so already enforced
// with nothing on the allowlist (docs/design.md §6 lock-down).
func (a *auditor) uncounted(ix *inventory.Index) {
	if ix == nil {
		return
	}
	in := make(map[string]bool, len(a.p.Projects))
	for _, pr := range a.p.Projects {
		in[strings.ToLower(pr.Path)] = true
	}
	for _, pr := range ix.Inventory().Projects {
		if !pr.Archived && !in[strings.ToLower(pr.Path)] {
			a.r.Projects++
			a.r.Enforced++
		}
	}
}

// drift lists what differs between the project's allowlist and its
// intent: exactly the changes its plan would make, and the entries the
// plan keeps only because it was not pruning.
func (a *auditor) drift(pr plan.Project) {
	if pr.Enforce {
		f := Finding{Kind: NotEnforced, Project: pr.Path,
			Detail: "the allowlist is not enforced: any project's job token may come in",
			Action: fmt.Sprintf("turn on \"Limit access to this project\" (plan and apply), or keep it open with a reviewed open: exception in %s", a.tf.Name)}
		if o, ok := a.tf.OpenException(pr.Path); ok && o.Expired {
			f.Detail += fmt.Sprintf("; the open exception at %s expired on %s", a.at(o.Line), o.Expires.Format(time.DateOnly))
			f.Line = o.Line
		}
		a.add(f)
	}
	for _, e := range pr.Add {
		f := Finding{Kind: Missing, Project: pr.Path, EntryType: e.Type, Entry: e.Path, Line: a.entryLine(e, pr.Path),
			Detail: "not on the allowlist: " + e.Reason,
			Action: fmt.Sprintf("add it (plan and apply); once the allowlist is enforced, %s's jobs fail without it", e.Path)}
		if e.Widening != nil && e.Widening.Proposed {
			f.Detail = fmt.Sprintf("a group entry the plan proposes to stay under GitLab's allowlist limit (lets in %d project(s) beyond the approved ones): %s", len(e.Widening.Extra), e.Reason)
			f.Action = "review the widening; approve the group in groups: or apply the plan"
		}
		a.add(f)
	}
	for _, e := range pr.Update {
		kind, detail := policyDrift(e)
		a.add(Finding{Kind: kind, Project: pr.Path, EntryType: e.Type, Entry: e.Path, Line: a.entryLine(e, pr.Path),
			Detail: detail + ": " + e.Reason,
			Action: "set the approved policies (plan and apply), or approve the access the entry grants"})
	}
	for _, e := range pr.Remove {
		a.add(Finding{Kind: Remove, Project: pr.Path, EntryType: e.Type, Entry: e.Path,
			Detail: "on the allowlist, must go: " + e.Reason,
			Action: "remove it (plan and apply)"})
	}
	for _, e := range pr.Unapproved {
		a.add(Finding{Kind: Unapproved, Project: pr.Path, EntryType: e.Type, Entry: e.Path, Line: a.entryLine(e, pr.Path),
			Detail: "on the allowlist: " + e.Reason,
			Action: fmt.Sprintf("approve it in %s if it is needed, or remove it (a pruned plan, then apply)", a.tf.Name)})
	}
}

// policyDrift says whether an entry's current policies grant more than
// the plan wants (wider) or lack some of it (narrower). Default
// permissions (nil) grant everything a job token can do.
func policyDrift(e plan.Entry) (Kind, string) {
	cur, want := e.CurrentPolicies, e.Policies
	var extra, lack []string
	switch {
	case cur == nil && want != nil:
		return Wider, "the entry has default permissions, wider than the approved " + policyText(want)
	case cur != nil && want == nil:
		return Narrower, "the entry has only " + policyText(cur) + "; the approval needs default permissions"
	}
	for _, c := range cur {
		if !slices.Contains(want, c) {
			extra = append(extra, c)
		}
	}
	for _, w := range want {
		if !slices.Contains(cur, w) {
			lack = append(lack, w)
		}
	}
	if len(extra) > 0 {
		d := "the entry also grants " + strings.Join(extra, ", ") + ", wider than approved"
		if len(lack) > 0 {
			d += ", and lacks " + strings.Join(lack, ", ")
		}
		return Wider, d
	}
	return Narrower, "the entry lacks " + strings.Join(lack, ", ") + ", which the approved access needs"
}

// trustFile checks the intent itself: approvals past their date, without
// an owner, or still drafts.
func (a *auditor) trustFile() {
	tf := a.tf
	if tf == nil {
		return
	}
	expired := func(project string, t plan.EntryType, entry string, line int, exp time.Time, what string) {
		a.add(Finding{Kind: Expired, Project: project, EntryType: t, Entry: entry, Line: line,
			Detail: fmt.Sprintf("the %s at %s expired on %s and no longer counts", what, a.at(line), exp.Format(time.DateOnly)),
			Action: "review it again and renew expires:, or delete it"})
	}
	owner := func(project string, t plan.EntryType, entry string, line int, own, what string) {
		if o := strings.TrimSpace(own); o != "" && !strings.HasPrefix(o, trust.Placeholder) {
			return
		}
		a.add(Finding{Kind: NoOwner, Project: project, EntryType: t, Entry: entry, Line: line,
			Detail: fmt.Sprintf("the %s at %s names no owner", what, a.at(line)),
			Action: "add owner: the person or team who answers for it"})
	}
	unreviewed := func(project string, t plan.EntryType, entry string, line int) {
		a.add(Finding{Kind: Unreviewed, Project: project, EntryType: t, Entry: entry, Line: line,
			Detail: fmt.Sprintf("drafted at %s, still marked unreviewed: it approves nothing", a.at(line)),
			Action: "review it and delete unreviewed: true, or delete the entry"})
	}
	for _, e := range tf.Edges {
		switch {
		case e.Unreviewed:
			unreviewed(e.Callee, plan.ProjectEntry, e.Caller, e.Line)
		case e.Expired:
			expired(e.Callee, plan.ProjectEntry, e.Caller, e.Line, e.Expires, "approval")
		default:
			owner(e.Callee, plan.ProjectEntry, e.Caller, e.Line, e.Owner, "approval")
		}
	}
	for _, g := range tf.Groups {
		switch {
		case g.Unreviewed:
			unreviewed(g.Callee, plan.GroupEntry, g.CallerGroup, g.Line)
		case g.Expired:
			expired(g.Callee, plan.GroupEntry, g.CallerGroup, g.Line, g.Expires, "group grant")
		default:
			owner(g.Callee, plan.GroupEntry, g.CallerGroup, g.Line, g.Owner, "group grant")
		}
	}
	for _, o := range tf.Open {
		if o.Expired {
			expired(o.Project, "", "", o.Line, o.Expires, "open exception")
		}
	}
}

// settle applies acknowledgements and decides whether f fails; it
// returns the line of the acknowledgement that matched (0: none).
func (a *auditor) settle(f *Finding, opts Options) int {
	ack, ok := a.tf.Acknowledged(string(f.Kind), f.Project, f.Entry)
	if ok && !ack.Expired {
		f.Acknowledged = &ack
		return ack.Line
	}
	if ok {
		f.Detail += fmt.Sprintf("; its acknowledgement at %s expired on %s", a.at(ack.Line), ack.Expires.Format(time.DateOnly))
	}
	f.Fails = f.Kind.Drift() || slices.Contains(opts.FailOn, f.Kind)
	return 0
}

// approvalLine is the line of the approval of caller → callee, if any.
func (a *auditor) approvalLine(caller, callee string) int {
	if e, ok := a.tf.Approval(caller, callee); ok {
		return e.Line
	}
	return 0
}

// entryLine is the line of the approval or group grant behind e.
func (a *auditor) entryLine(e plan.Entry, callee string) int {
	if e.Type == plan.ProjectEntry {
		return a.approvalLine(e.Path, callee)
	}
	for _, g := range a.tf.GroupGrants(callee) {
		if strings.EqualFold(g.CallerGroup, e.Path) {
			return g.Line
		}
	}
	return 0
}

func (a *auditor) denyLine(caller, callee string) int {
	for _, d := range a.tf.DenyRules(callee) {
		if d.Denies(caller) {
			return d.Line
		}
	}
	return 0
}

// advice is the plan's advice for an impossible access, or the general one.
func advice(pr plan.Project, r plan.Review) string {
	var out []string
	for _, ad := range pr.Advice {
		if ad.Caller == r.Caller && len(ad.Access) == 1 && slices.Contains(r.Access, ad.Access[0]) {
			out = append(out, ad.Text)
		}
	}
	if len(out) == 0 {
		return "use a project access token or deploy token instead of the job token"
	}
	return strings.Join(out, "; ")
}

func kinds(ks []access.Kind) string {
	if len(ks) == 0 {
		return "access unknown"
	}
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func policyText(p []string) string {
	if len(p) == 0 {
		return "no policies"
	}
	return strings.Join(p, ", ")
}
