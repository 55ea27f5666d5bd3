package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/trust"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Rule names the rule of docs/design.md §6 ("Plan rules") that decided a
// pair. The rules are tried in this order; the first that applies wins.
type Rule string

// Rules, in their documented order.
const (
	RuleNever      Rule = "never"      // every discovered access is one a job token cannot make
	RuleDeny       Rule = "deny"       // a deny rule forbids the caller
	RuleNoTrust    Rule = "no-trust"   // no trust file: every discovered edge is proposed
	RuleApproved   Rule = "approved"   // discovered and approved
	RuleStale      Rule = "stale"      // approved, not discovered
	RuleGrant      Rule = "grant"      // a group grant admits the caller
	RuleReview     Rule = "review"     // discovered, not approved
	RuleUnapproved Rule = "unapproved" // on the allowlist, not approved
	RuleLimit      Rule = "limit"      // proposed for GitLab's allowlist limit
)

// Verdict is what the plan does with the pair's allowlist entry.
type Verdict string

// Verdicts.
const (
	VerdictNone       Verdict = ""           // no entry, none made
	VerdictAdd        Verdict = "add"        // the plan makes the entry
	VerdictKeep       Verdict = "keep"       // the entry (or a group entry on the allowlist) stays as it is
	VerdictUpdate     Verdict = "update"     // the entry stays with other policies
	VerdictRemove     Verdict = "remove"     // the entry goes
	VerdictUnapproved Verdict = "unapproved" // the entry stays, though nothing approves it
	VerdictViaGroup   Verdict = "via-group"  // no entry of its own: a group entry the plan adds admits it
)

// Decision is what the plan does about one (caller, callee) pair: the
// fate of its allowlist entry, and what it tells a reviewer.
type Decision struct {
	Type    EntryType
	Caller  string
	Rule    Rule
	Verdict Verdict
	// Entry is the entry the verdict is about (zero for VerdictNone).
	Entry Entry
	// Reviews are uses the plan does not allow without a human: an edge
	// nothing approves, or access beyond its approval.
	Reviews []Review
	Denied  *Review
	Never   *Review
	Advice  []Advice
	// Warnings are whole sentences for the plan's warnings.
	Warnings []string
}

// ruleOf is the first rule of docs/design.md §6 that applies to a project
// pair.
func ruleOf(f Facts) Rule {
	switch {
	case f.Edge != nil && neverOnly(f.Edge.Access):
		return RuleNever
	case f.Deny != nil:
		return RuleDeny
	case !f.Trusted() && f.Edge != nil:
		return RuleNoTrust
	case f.approved() && f.Edge != nil:
		return RuleApproved
	case f.approved():
		return RuleStale
	case f.Grant != nil:
		return RuleGrant
	case f.Edge != nil:
		return RuleReview
	}
	return RuleUnapproved
}

// decide is the plan's one decision about a pair: pure, it reads only f.
// Its cases follow the rules of docs/design.md §6 in their order.
func decide(f Facts) Decision {
	if f.Type == GroupEntry {
		return decideGroup(f)
	}
	d := Decision{Type: ProjectEntry, Caller: f.Caller, Rule: ruleOf(f), Advice: advice(f)}
	var eff []access.Kind
	if f.Edge != nil {
		_, eff = splitNever(f.Edge.Access)
	}
	switch d.Rule {
	case RuleNever:
		// No entry helps; an entry on the allowlist is judged as any other
		// entry nothing wants.
		d.Never = &Review{Caller: f.Edge.Caller, Access: neverKinds(f.Edge.Access), Uses: f.Edge.Uses, OnAllowlist: f.Current != nil,
			Reason: "a job token cannot do this across projects; no allowlist entry helps"}
		d.Verdict, d.Entry = unwanted(f)
	case RuleDeny:
		// Deny wins over every approval: never added, removed even
		// without pruning.
		if f.Edge != nil {
			d.Denied = &Review{Caller: f.Edge.Caller, Access: f.Edge.Access, Uses: f.Edge.Uses, OnAllowlist: f.Current != nil,
				Reason: denyReason(f, *f.Deny)}
		}
		d.Verdict, d.Entry = unwanted(f)
	case RuleNoTrust:
		d.Verdict, d.Entry = place(f, want(f, eff, f.Edge.Uses, "discovered; no trust file: proposed, not reviewed", false))
	case RuleApproved:
		a := f.Approval
		kinds := eff
		if len(a.Access) > 0 {
			var never []access.Kind
			never, kinds = splitNever(a.Access)
			if r, ok := beyond(*f.Edge, a.Access, fmt.Sprintf("access beyond the approval at %s", at(f, a.Line))); ok {
				d.Reviews = append(d.Reviews, r)
			}
			if len(kinds) == 0 {
				// An approval of only what a job token cannot do admits
				// nothing: an entry would get default permissions, the
				// widest there are.
				d.Warnings = append(d.Warnings, neverApproval(f, never))
				d.Verdict, d.Entry = unwanted(f)
				break
			}
		}
		d.Warnings = append(d.Warnings, archived(f)...)
		d.Verdict, d.Entry = place(f, want(f, kinds, f.Edge.Uses, approvalReason(f.TrustFile, a.Line, a.Reason), false))
	case RuleStale:
		// The approval is the evidence (discovery cannot see targets held
		// in variables, or jobs outside the snapshot), but a reviewer
		// should know nothing uses it.
		a := f.Approval
		never, kinds := splitNever(a.Access)
		if len(never) > 0 {
			d.Warnings = append(d.Warnings, neverApproval(f, never))
			if len(kinds) == 0 {
				d.Verdict, d.Entry = unwanted(f)
				break
			}
		}
		d.Warnings = append(d.Warnings, archived(f)...)
		d.Verdict, d.Entry = place(f, want(f, kinds, nil, approvalReason(f.TrustFile, a.Line, a.Reason)+"; no use discovered (stale): kept, review whether it is still needed", true))
	case RuleGrant:
		// The use goes through the group entry (decided with the group);
		// a project entry on the allowlist is redundant but harmless.
		if g := f.Grant; f.Edge != nil && len(g.Access) > 0 {
			if r, ok := beyond(*f.Edge, g.Access, fmt.Sprintf("access beyond the group grant at %s", at(f, g.Line))); ok {
				d.Reviews = append(d.Reviews, r)
			}
		}
		d.Verdict, d.Entry = unwanted(f)
	case RuleReview:
		d.Reviews = append(d.Reviews, Review{Caller: f.Edge.Caller, Access: f.Edge.Access, Uses: f.Edge.Uses, OnAllowlist: f.Current != nil,
			Reason: reviewReason(f)})
		d.Verdict, d.Entry = unwanted(f)
	case RuleUnapproved:
		d.Verdict, d.Entry = unwanted(f)
	}
	return d
}

// decideGroup decides a group entry: deny wins; a grant in force keeps or
// adds it; an entry nothing approves is unapproved (or pruned). Its fate
// never depends on its members' decisions; only whether it is stale does
// (Admits).
func decideGroup(f Facts) Decision {
	d := Decision{Type: GroupEntry, Caller: f.Caller}
	switch {
	case f.Deny != nil:
		d.Rule = RuleDeny
		if f.Grant != nil {
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s: group grant %s (trust.yaml:%d) is overridden by the deny rule at line %d",
				f.Callee, f.Grant.CallerGroup, f.Grant.Line, f.Deny.Line))
		}
		if c := f.Current; c != nil {
			d.Verdict = VerdictRemove
			d.Entry = Entry{Type: GroupEntry, Path: c.Path, ID: cmp.Or(c.ID, f.ID), OnAllowlist: true, CurrentPolicies: c.Policies,
				Autopopulated: c.Autopopulated, Reason: denyReason(f, *f.Deny)}
		}
	case f.Grant != nil:
		d.Rule = RuleGrant
		w := groupEntry(f)
		if w.Stale {
			d.Rule = RuleStale
		}
		c := f.Current
		switch {
		case c == nil:
			d.Verdict = VerdictAdd
			w.Reason += unknownAdd(f)
		case samePolicies(c.Policies, w.Policies):
			d.Verdict = VerdictKeep
		default:
			d.Verdict = VerdictUpdate
			w.Reason = policyChange(c.Policies, w.Policies) + "; " + w.Reason
		}
		if c != nil {
			w.ID = cmp.Or(w.ID, c.ID)
			w.OnAllowlist, w.CurrentPolicies, w.Autopopulated = true, c.Policies, c.Autopopulated
		}
		d.Entry = w
	default:
		d.Rule = RuleUnapproved
		c := f.Current
		e := Entry{Type: GroupEntry, Path: c.Path, ID: cmp.Or(c.ID, f.ID), OnAllowlist: true, CurrentPolicies: c.Policies,
			Autopopulated: c.Autopopulated, Widening: widening(f), Reason: unapprovedReason(f)}
		d.Verdict, d.Entry = VerdictUnapproved, e
		if f.Prune {
			d.Verdict = VerdictRemove
		}
	}
	return d
}

// groupEntry is the entry a group grant asks for: the access of the uses
// routed through it (or the grant's own kinds), stale when no use goes
// through it and it admits no approved member either.
func groupEntry(f Facts) Entry {
	g := f.Grant
	w := Entry{Type: GroupEntry, Path: f.Caller, ID: f.ID, Reason: approvalReason(f.TrustFile, g.Line, g.Reason), Widening: widening(f)}
	_, granted := splitNever(g.Access)
	if len(f.Routed) == 0 {
		w.Access = access.Sort(granted)
		if len(f.Admits) == 0 {
			w.Stale = true
			w.Reason += "; no use discovered from the group (stale): kept, review whether it is still needed"
		}
	}
	for _, e := range f.Routed {
		kinds := granted
		if len(g.Access) == 0 {
			_, kinds = splitNever(e.Access)
		}
		w.Access = access.Sort(append(w.Access, kinds...))
		w.Uses = append(w.Uses, e.Uses...)
	}
	slices.SortFunc(w.Uses, use.CompareUses)
	w.Role = minRole(w.Access)
	w.Policies, w.PolicyReason = Policies(w.Access, f.Caps)
	return w
}

// widening is what a group entry lets in: the members with no discovered
// use.
func widening(f Facts) *Widening {
	w := &Widening{Members: len(f.Members)}
	for _, m := range f.Members {
		if !slices.Contains(f.Used, m) {
			w.Extra = append(w.Extra, m)
		}
	}
	return w
}

// want is the project entry an approval (or, without a trust file, a
// discovered edge) asks for.
func want(f Facts, kinds []access.Kind, uses []use.Use, reason string, stale bool) Entry {
	e := Entry{Type: ProjectEntry, Path: f.Caller, ID: f.ID, Access: access.Sort(slices.Clone(kinds)), Uses: uses, Reason: reason, Stale: stale}
	e.Role = minRole(e.Access)
	e.Policies, e.PolicyReason = Policies(e.Access, f.Caps)
	return e
}

// place decides the verdict of a wanted project entry: keep or update
// the entry on the allowlist; keep when a group entry that stays admits
// the caller with enough permissions, or "via group" when that group
// entry is one the plan adds; else add.
func place(f Facts, e Entry) (Verdict, Entry) {
	if c := f.Current; c != nil {
		e.OnAllowlist, e.CurrentPolicies, e.Autopopulated = true, c.Policies, c.Autopopulated
		if len(e.Access) == 0 {
			// Unknown access is no reason to change what a reviewer or
			// GitLab set: widening to default permissions would be the
			// opposite of least privilege.
			e.Policies = c.Policies
			e.PolicyReason = "access kinds unknown (known only from the authentication log): the entry's current permissions are kept until trust.yaml names the kinds"
		}
		if samePolicies(c.Policies, e.Policies) {
			return VerdictKeep, e
		}
		e.Reason = policyChange(c.Policies, e.Policies) + "; " + e.Reason
		return VerdictUpdate, e
	}
	if cv := f.Cover; cv != nil && grants(cv.Policies, e.Policies) {
		e.CoveredBy, e.CurrentPolicies = cv.Path, cv.Policies
		if cv.Planned {
			e.CoverPlanned = true
			e.Reason = fmt.Sprintf("admitted by the group entry %s, which the plan adds: no entry of its own; ", cv.Path) + e.Reason
			return VerdictViaGroup, e
		}
		return VerdictKeep, e
	}
	e.Reason += unknownAdd(f)
	return VerdictAdd, e
}

// unknownAdd is what an add says when the callee's allowlist could not
// be read.
func unknownAdd(f Facts) string {
	if f.State == StateUnknown {
		return "; current allowlist unknown: the entry may already exist"
	}
	return ""
}

// unwanted is the fate of a project entry on the allowlist that no rule
// wants: removed when denied, kept when a group grant covers it, else
// unapproved (removed with Options.Prune).
func unwanted(f Facts) (Verdict, Entry) {
	c := f.Current
	if c == nil {
		return VerdictNone, Entry{}
	}
	e := Entry{Type: ProjectEntry, Path: c.Path, ID: cmp.Or(c.ID, f.ID), OnAllowlist: true, CurrentPolicies: c.Policies, Autopopulated: c.Autopopulated}
	if f.Edge != nil {
		e.Access, e.Uses = f.Edge.Access, f.Edge.Uses
	}
	switch {
	case f.Deny != nil:
		e.Reason = denyReason(f, *f.Deny)
		return VerdictRemove, e
	case f.Grant != nil:
		e.Reason = fmt.Sprintf("covered by the group grant %s at %s; the project entry is redundant", f.Grant.CallerGroup, at(f, f.Grant.Line))
		return VerdictKeep, e
	}
	e.Reason = unapprovedReason(f)
	if f.Prune {
		return VerdictRemove, e
	}
	return VerdictUnapproved, e
}

// advice says where a job token is the wrong tool for a discovered use.
func advice(f Facts) []Advice {
	if f.Edge == nil {
		return nil
	}
	var out []Advice
	never, eff := splitNever(f.Edge.Access)
	for _, k := range never {
		out = append(out, Advice{Caller: f.Edge.Caller, Access: []access.Kind{k}, Text: neverAdvice(k, f.Edge.Caller, f.Callee)})
	}
	if slices.Contains(eff, access.PipelineTrigger) {
		out = append(out, Advice{Caller: f.Edge.Caller, Access: []access.Kind{access.PipelineTrigger}, Text: triggerAdvice(f.Callee)})
	}
	return out
}

// beyond lists the discovered kinds an approval does not cover as needing
// review: the entry is narrowed to the approval, so those uses will fail.
func beyond(e graph.Edge, approved []access.Kind, reason string) (Review, bool) {
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
		return Review{}, false
	}
	for _, u := range e.Uses {
		if slices.Contains(extra, u.Access) {
			uses = append(uses, u)
		}
	}
	return Review{Caller: e.Caller, Access: extra, Uses: uses, Reason: reason}, true
}

func neverOnly(ks []access.Kind) bool {
	never, eff := splitNever(ks)
	return len(never) > 0 && len(eff) == 0
}

func neverKinds(ks []access.Kind) []access.Kind {
	never, _ := splitNever(ks)
	return never
}

func neverApproval(f Facts, never []access.Kind) string {
	return fmt.Sprintf("%s: %s approves %s for %s, which a job token cannot do across projects", f.Callee, at(f, f.Approval.Line), kindsText(never), f.Approval.Caller)
}

func archived(f Facts) []string {
	if !f.Archived || !f.Trusted() {
		return nil
	}
	return []string{fmt.Sprintf("%s: approved caller %s is archived: its jobs no longer run; delete the approval", f.Callee, f.Caller)}
}

func at(f Facts, line int) string { return fmt.Sprintf("%s:%d", f.TrustFile, line) }

func reviewReason(f Facts) string {
	r := "not approved in " + f.TrustFile
	if a := f.Approval; a != nil && a.Unreviewed {
		r = fmt.Sprintf("drafted at %s, still marked unreviewed: a draft is not a review", at(f, a.Line))
	} else if a != nil && a.Expired {
		r = fmt.Sprintf("the approval at %s expired on %s", at(f, a.Line), a.Expires.Format(time.DateOnly))
	}
	if f.Archived {
		r += "; the caller is archived, its jobs no longer run"
	}
	return r
}

func unapprovedReason(f Facts) string {
	r := "not approved"
	if !f.Trusted() {
		r = "no use discovered"
	} else if a := f.Approval; a != nil && a.Unreviewed {
		r = fmt.Sprintf("drafted at %s, still marked unreviewed", at(f, a.Line))
	} else if a != nil && a.Expired {
		r = fmt.Sprintf("approval at %s expired on %s", at(f, a.Line), a.Expires.Format(time.DateOnly))
	}
	path := f.Current.Path
	switch {
	case f.Type == GroupEntry:
		if len(f.Used) > 0 {
			r += fmt.Sprintf("; %d of its projects still use it: removing it breaks their jobs unless they get approved entries", len(f.Used))
		}
	case f.Edge != nil:
		r += "; still used (" + lastSeen(*f.Edge) + "): removing it breaks " + path + "'s jobs"
	case f.Trusted():
		r += "; no use discovered"
	}
	if f.Current.Autopopulated {
		r += "; added by GitLab from the authentication log (autopopulated)"
	}
	return r
}

func approvalReason(file string, line int, reason string) string {
	r := fmt.Sprintf("approved in %s:%d", file, line)
	if reason != "" {
		r += ": " + reason
	}
	return r
}

func denyReason(f Facts, d trust.Deny) string {
	r := fmt.Sprintf("denied by the deny rule at %s", at(f, d.Line))
	if d.Reason != "" {
		r += ": " + d.Reason
	}
	return r + " (deny wins over every approval)"
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
