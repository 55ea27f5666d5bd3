package plan

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/capability"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/trust"
)

// pair builds the facts of apps/web → libs/jslib on GitLab 18.5 with a
// trust file; each case of TestDecide changes what its rule reads.
func pair(mod func(*Facts)) Facts {
	f := Facts{Type: ProjectEntry, Caller: "apps/web", ID: 301, Callee: "libs/jslib", TrustFile: "trust.yaml",
		State: StateKnown, Caps: capability.For(capability.MustVersion("18.5"))}
	if mod != nil {
		mod(&f)
	}
	return f
}

func discovered(kinds ...access.Kind) *graph.Edge {
	e := edge("apps/web", "libs/jslib", kinds...)
	return &e
}

func approval(kinds ...access.Kind) *trust.Edge {
	return &trust.Edge{Caller: "apps/web", Callee: "libs/jslib", Access: kinds, Reason: "web bundles jslib", Line: 3}
}

func grant(kinds ...access.Kind) *trust.GroupGrant {
	return &trust.GroupGrant{Callee: "libs/jslib", CallerGroup: "apps", Access: kinds, Reason: "every app", Line: 9}
}

func deny() *trust.Deny {
	return &trust.Deny{Callee: "libs/jslib", Callers: []string{"apps/web"}, Reason: "no", Line: 12}
}

func onList(pol ...string) *inventory.Entry {
	e := &inventory.Entry{Path: "apps/web", ID: 301}
	if len(pol) > 0 {
		e.Policies = pol
	}
	return e
}

// TestDecide has one case per rule of docs/design.md §6, in their order,
// and one per placement of a wanted entry: each checks the rule that
// decided, the verdict and what the decision tells a reviewer.
func TestDecide(t *testing.T) {
	type want struct {
		rule     Rule
		verdict  Verdict
		policies string // "default", or the policies joined by "+"; "" to skip
		reason   string // a substring of the entry's reason; "" to skip
		reviews  string // the reviews' callers and access, "caller:kind+kind"
		denied   bool
		never    bool
		warning  string // a substring of the only warning; "" for none
	}
	cases := []struct {
		name string
		f    Facts
		want want
	}{
		// Rule 1: a job token cannot do it; the entry on the allowlist is
		// judged as an entry nothing wants (here: unapproved).
		{"never", pair(func(f *Facts) {
			f.Edge, f.Approval, f.Current = discovered(access.RepositoryWrite), approval(access.RepositoryWrite), onList()
		}), want{rule: RuleNever, verdict: VerdictUnapproved, never: true, reason: "not approved; still used"}},
		// Rule 1 comes before deny: nothing would admit the use anyway, so
		// it is listed as impossible; the entry still goes (deny).
		{"never and denied", pair(func(f *Facts) {
			f.Edge, f.Deny, f.Current = discovered(access.ContainerWrite), deny(), onList()
		}), want{rule: RuleNever, verdict: VerdictRemove, never: true, reason: "denied by the deny rule"}},
		// Rule 2: deny wins over the approval, and removes the entry
		// without pruning.
		{"deny", pair(func(f *Facts) {
			f.Edge, f.Approval, f.Deny, f.Current = discovered(access.PackagesRead), approval(access.PackagesRead), deny(), onList()
		}), want{rule: RuleDeny, verdict: VerdictRemove, denied: true, reason: "denied by the deny rule at trust.yaml:12"}},
		{"deny without an entry", pair(func(f *Facts) {
			f.Edge, f.Approval, f.Deny = discovered(access.PackagesRead), approval(access.PackagesRead), deny()
		}), want{rule: RuleDeny, verdict: VerdictNone, denied: true}},
		// Rule 3: without a trust file every discovered edge is proposed.
		{"no trust", pair(func(f *Facts) {
			f.TrustFile, f.Edge = "", discovered(access.PackagesRead)
		}), want{rule: RuleNoTrust, verdict: VerdictAdd, policies: "read_packages", reason: "no trust file: proposed, not reviewed"}},
		// Rule 4: approved, narrowed to the approval; the rest is reviewed.
		{"approved", pair(func(f *Facts) {
			f.Edge, f.Approval = discovered(access.PackagesRead, access.ArtifactsRead), approval(access.PackagesRead)
		}), want{rule: RuleApproved, verdict: VerdictAdd, policies: "read_packages", reason: "approved in trust.yaml:3",
			reviews: "apps/web:artifacts-read"}},
		{"approved, only impossible kinds", pair(func(f *Facts) {
			f.Edge, f.Approval = discovered(access.RepositoryWrite, access.PackagesRead), approval(access.RepositoryWrite)
		}), want{rule: RuleApproved, verdict: VerdictNone, reviews: "apps/web:packages-read", warning: "approves repository-write for apps/web"}},
		{"approved but expired is not approved", pair(func(f *Facts) {
			a := approval(access.PackagesRead)
			a.Expired, a.Expires = true, time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
			f.Edge, f.Approval = discovered(access.PackagesRead), a
		}), want{rule: RuleReview, verdict: VerdictNone, reviews: "apps/web:packages-read"}},
		// Rule 5: approved, not discovered: honoured and flagged stale.
		{"stale", pair(func(f *Facts) { f.Approval = approval(access.PackagesRead) }),
			want{rule: RuleStale, verdict: VerdictAdd, policies: "read_packages", reason: "no use discovered (stale)"}},
		{"stale archived", pair(func(f *Facts) { f.Approval, f.Archived = approval(access.PackagesRead), true }),
			want{rule: RuleStale, verdict: VerdictAdd, warning: "approved caller apps/web is archived"}},
		// Rule 6: a group grant admits the caller: no project entry; one on
		// the allowlist is kept, redundant.
		{"grant", pair(func(f *Facts) {
			f.Edge, f.Grant, f.Current = discovered(access.PackagesRead, access.ArtifactsRead), grant(access.PackagesRead), onList()
		}), want{rule: RuleGrant, verdict: VerdictKeep, reason: "covered by the group grant apps at trust.yaml:9",
			reviews: "apps/web:artifacts-read"}},
		// Rule 7: discovered, not approved: review, never added.
		{"review", pair(func(f *Facts) { f.Edge = discovered(access.PackagesRead) }),
			want{rule: RuleReview, verdict: VerdictNone, reviews: "apps/web:packages-read"}},
		// Rule 8: on the allowlist, not approved: kept, or pruned.
		{"unapproved", pair(func(f *Facts) { f.Current = onList() }),
			want{rule: RuleUnapproved, verdict: VerdictUnapproved, reason: "not approved; no use discovered"}},
		{"unapproved pruned", pair(func(f *Facts) { f.Current, f.Prune = onList(), true }),
			want{rule: RuleUnapproved, verdict: VerdictRemove}},

		// Placement of a wanted entry.
		{"keep", pair(func(f *Facts) {
			f.Edge, f.Approval, f.Current = discovered(access.PackagesRead), approval(access.PackagesRead), onList("read_packages")
		}), want{rule: RuleApproved, verdict: VerdictKeep, policies: "read_packages"}},
		{"update", pair(func(f *Facts) {
			f.Edge, f.Approval, f.Current = discovered(access.PackagesRead), approval(access.PackagesRead), onList()
		}), want{rule: RuleApproved, verdict: VerdictUpdate, policies: "read_packages", reason: "policies default permissions → read_packages"}},
		{"unknown access keeps the current policies", pair(func(f *Facts) {
			f.Edge, f.Approval, f.Current = discovered(), approval(), onList("read_jobs")
		}), want{rule: RuleApproved, verdict: VerdictKeep, policies: "read_jobs"}},
		{"covered by a group entry on the allowlist", pair(func(f *Facts) {
			f.Edge, f.Approval, f.Cover = discovered(access.PackagesRead), approval(access.PackagesRead), &Cover{Path: "apps"}
		}), want{rule: RuleApproved, verdict: VerdictKeep}},
		{"admitted by a planned group entry", pair(func(f *Facts) {
			f.Edge, f.Approval = discovered(access.PackagesRead), approval(access.PackagesRead)
			f.Cover = &Cover{Path: "apps", Policies: []string{"read_packages"}, Planned: true}
		}), want{rule: RuleApproved, verdict: VerdictViaGroup, reason: "admitted by the group entry apps, which the plan adds"}},
		{"a narrower group entry does not cover", pair(func(f *Facts) {
			f.Edge, f.Approval = discovered(access.PackagesRead), approval(access.PackagesRead)
			f.Cover = &Cover{Path: "apps", Policies: []string{"read_jobs"}}
		}), want{rule: RuleApproved, verdict: VerdictAdd}},
		{"unknown state", pair(func(f *Facts) {
			f.Edge, f.Approval, f.State = discovered(access.PackagesRead), approval(access.PackagesRead), StateUnknown
		}), want{rule: RuleApproved, verdict: VerdictAdd, reason: "current allowlist unknown: the entry may already exist"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := decide(c.f)
			w := c.want
			if d.Rule != w.rule || d.Verdict != w.verdict {
				t.Fatalf("rule %q verdict %q, want %q %q (entry %+v)", d.Rule, d.Verdict, w.rule, w.verdict, d.Entry)
			}
			if w.policies != "" {
				got := "default"
				if d.Entry.Policies != nil {
					got = strings.Join(d.Entry.Policies, "+")
				}
				if got != w.policies {
					t.Errorf("policies %s, want %s", got, w.policies)
				}
			}
			if !strings.Contains(d.Entry.Reason, w.reason) {
				t.Errorf("reason %q lacks %q", d.Entry.Reason, w.reason)
			}
			var rs []string
			for _, r := range d.Reviews {
				rs = append(rs, r.Caller+":"+kindsJoined(r.Access))
			}
			if got := strings.Join(rs, " "); got != w.reviews {
				t.Errorf("reviews %q, want %q", got, w.reviews)
			}
			if (d.Denied != nil) != w.denied || (d.Never != nil) != w.never {
				t.Errorf("denied %v never %v, want %v %v", d.Denied, d.Never, w.denied, w.never)
			}
			switch {
			case w.warning == "" && len(d.Warnings) > 0:
				t.Errorf("unexpected warnings %q", d.Warnings)
			case w.warning != "" && (len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], w.warning)):
				t.Errorf("warnings %q, want one with %q", d.Warnings, w.warning)
			}
		})
	}
}

func kindsJoined(ks []access.Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, "+")
}

// group builds the facts of the group entry apps on libs/jslib.
func group(mod func(*Facts)) Facts {
	f := Facts{Type: GroupEntry, Caller: "apps", ID: 30, Callee: "libs/jslib", TrustFile: "trust.yaml", State: StateKnown,
		Caps: capability.For(capability.MustVersion("18.5")), Members: []string{"apps/api", "apps/web"}}
	if mod != nil {
		mod(&f)
	}
	return f
}

// TestDecideGroup covers the rules for group entries: deny, grant (used,
// stale, or in use through members with their own approval), unapproved.
func TestDecideGroup(t *testing.T) {
	used := []string{"apps/web"}
	routedUse := *discovered(access.PackagesRead)
	cases := []struct {
		name    string
		f       Facts
		rule    Rule
		verdict Verdict
		stale   bool
		reason  string
		warning string
	}{
		{"denied grant", group(func(f *Facts) {
			f.Grant, f.Deny, f.Current = grant(), &trust.Deny{Callee: "libs/jslib", Callers: []string{"apps"}, Line: 12}, &inventory.Entry{Path: "apps"}
		}), RuleDeny, VerdictRemove, false, "denied by the deny rule at trust.yaml:12", "group grant apps (trust.yaml:9) is overridden by the deny rule at line 12"},
		{"grant used", group(func(f *Facts) { f.Grant, f.Used, f.Routed = grant(), used, []graph.Edge{routedUse} }),
			RuleGrant, VerdictAdd, false, "approved in trust.yaml:9", ""},
		{"grant unused", group(func(f *Facts) { f.Grant = grant(access.PackagesRead) }),
			RuleStale, VerdictAdd, true, "no use discovered from the group (stale)", ""},
		{"grant in use by an approved member", group(func(f *Facts) { f.Grant, f.Used, f.Admits = grant(access.PackagesRead), used, used }),
			RuleGrant, VerdictAdd, false, "approved in trust.yaml:9", ""},
		{"grant on the allowlist", group(func(f *Facts) {
			f.Grant, f.Admits, f.Current = grant(access.PackagesRead), used, &inventory.Entry{Path: "apps", Policies: []string{"read_packages"}}
		}), RuleGrant, VerdictKeep, false, "", ""},
		{"grant on the allowlist with other policies", group(func(f *Facts) {
			f.Grant, f.Admits, f.Current = grant(access.PackagesRead), used, &inventory.Entry{Path: "apps"}
		}), RuleGrant, VerdictUpdate, false, "policies default permissions → read_packages", ""},
		{"unapproved", group(func(f *Facts) { f.Current, f.Used = &inventory.Entry{Path: "apps"}, used }),
			RuleUnapproved, VerdictUnapproved, false, "1 of its projects still use it", ""},
		{"unapproved pruned", group(func(f *Facts) { f.Current, f.Prune = &inventory.Entry{Path: "apps"}, true }),
			RuleUnapproved, VerdictRemove, false, "not approved", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := decide(c.f)
			if d.Rule != c.rule || d.Verdict != c.verdict || d.Entry.Stale != c.stale {
				t.Fatalf("rule %q verdict %q stale %v, want %q %q %v", d.Rule, d.Verdict, d.Entry.Stale, c.rule, c.verdict, c.stale)
			}
			if !strings.Contains(d.Entry.Reason, c.reason) {
				t.Errorf("reason %q lacks %q", d.Entry.Reason, c.reason)
			}
			if c.warning == "" && len(d.Warnings) > 0 || c.warning != "" && !slices.ContainsFunc(d.Warnings, func(w string) bool { return strings.Contains(w, c.warning) }) {
				t.Errorf("warnings %q, want %q", d.Warnings, c.warning)
			}
			if d.Verdict != VerdictRemove && d.Entry.Widening == nil {
				t.Error("a group entry that stays shows its widening")
			}
		})
	}
}

// TestDecideEnforce covers lock-down: the instance setting, an enforced
// allowlist, an open exception (in force or expired), and the default.
func TestDecideEnforce(t *testing.T) {
	on, off := true, false
	open := &trust.Open{Project: "libs/jslib", Reason: "docs", Owner: "@docs", Line: 20}
	expired := &trust.Open{Project: "libs/jslib", Reason: "docs", Owner: "@docs", Line: 20, Expired: true,
		Expires: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)}
	cases := []struct {
		name              string
		f                 enforceFacts
		enforce, enforced bool
		open              bool
		note, warning     string
	}{
		{"instance", enforceFacts{Instance: &on, Open: open}, false, true, false, "enforced by the instance setting", "cannot keep it open"},
		{"already", enforceFacts{Instance: &off, Scope: scope(true, nil)}, false, true, false, "already enforced", ""},
		{"open", enforceFacts{Scope: scope(false, nil), Open: open}, false, false, true, "stays open: exception at trust.yaml:20: docs (owner @docs)", ""},
		{"expired open", enforceFacts{Scope: scope(false, nil), Open: expired, Admits: true}, true, false, false, "expired on 2026-01-31", ""},
		{"lock-down", enforceFacts{Blocked: []string{"apps/web"}}, true, false, false, "no caller is approved, so it admits only the project itself", "blocks 1 caller(s)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.f.Callee, c.f.TrustFile = "libs/jslib", "trust.yaml"
			en := decideEnforce(c.f)
			if en.Enforce != c.enforce || en.Enforced != c.enforced || (en.Open != nil) != c.open {
				t.Fatalf("enforce %v enforced %v open %v, want %v %v %v", en.Enforce, en.Enforced, en.Open != nil, c.enforce, c.enforced, c.open)
			}
			if !strings.Contains(en.Note, c.note) {
				t.Errorf("note %q lacks %q", en.Note, c.note)
			}
			if c.warning == "" && len(en.Warnings) > 0 || c.warning != "" && (len(en.Warnings) != 1 || !strings.Contains(en.Warnings[0], c.warning)) {
				t.Errorf("warnings %q, want %q", en.Warnings, c.warning)
			}
		})
	}
}

// TestGroupGrantStatuses checks through Compute that a group grant and
// its members get one consistent status (issue 13): a member with its own
// approval that a planned group entry admits is "via group", not a keep;
// the group entry it goes through is in use, not stale; an unused grant's
// entry is stale and in the Stale list whatever its verdict.
func TestGroupGrantStatuses(t *testing.T) {
	ix := org("18.5", func(m map[string]*inventory.Project) {
		m["libs/jslib"].JobTokenScope = scope(true, nil)
		m["data/reports"].JobTokenScope = scope(true, nil)
	})
	tf := trustOf(t, ix, `edges:
  - {caller: apps/web, callee: libs/jslib, access: [packages-read], reason: x}
groups:
  - {callee: libs/jslib, caller_group: apps, access: [packages-read], reason: every app}
  - {callee: data/reports, caller_group: apps, access: [packages-read], reason: maybe}
`)
	p := Compute(graphOf(edge("apps/web", "libs/jslib", access.PackagesRead)), ix, tf, Options{})
	pr := project(t, p, "libs/jslib")
	if paths(pr.Add) != "group:apps[read_packages]" || pr.Add[0].Stale || len(pr.Keep) != 0 {
		t.Errorf("the group entry is added, in use: add=%s stale=%v keep=%s", paths(pr.Add), pr.Add[0].Stale, paths(pr.Keep))
	}
	if paths(pr.ViaGroup) != "project:apps/web[read_packages]" || pr.ViaGroup[0].CoveredBy != "apps" || !pr.ViaGroup[0].CoverPlanned {
		t.Errorf("apps/web comes in through the planned group entry: %+v", pr.ViaGroup)
	}
	if len(pr.Stale) != 0 {
		t.Errorf("nothing is stale: %s", paths(pr.Stale))
	}
	if calls := pr.Calls(p.Capabilities); len(calls) != 2 || calls[0].Kind != CallAddGroup {
		t.Errorf("one add (the group's) and its policies: %+v", calls)
	}
	pr = project(t, p, "data/reports")
	if paths(pr.Add) != "group:apps[read_packages]" || !pr.Add[0].Stale || paths(pr.Stale) != "group:apps[read_packages]" {
		t.Errorf("an unused grant's entry is a stale add, listed as stale: add=%s stale=%s", paths(pr.Add), paths(pr.Stale))
	}
	if p.Totals().Stale != 1 || p.Totals().ViaGroup != 1 {
		t.Errorf("totals = %+v", p.Totals())
	}
}

// TestCoverUsesPoliciesAfterThePlan: a group entry whose policies the
// plan narrows covers a member only with what it will grant, not with the
// default permissions it has today (which would leave the member without
// access once the update is applied).
func TestCoverUsesPoliciesAfterThePlan(t *testing.T) {
	ix := org("18.5", func(m map[string]*inventory.Project) {
		m["libs/jslib"].JobTokenScope = scope(true, nil, inventory.Entry{Path: "apps"})
	})
	tf := trustOf(t, ix, `edges:
  - {caller: apps/web, callee: libs/jslib, access: [artifacts-read], reason: x}
groups:
  - {callee: libs/jslib, caller_group: apps, access: [packages-read], reason: every app}
`)
	pr := project(t, Compute(graphOf(edge("apps/web", "libs/jslib", access.ArtifactsRead)), ix, tf, Options{}), "libs/jslib")
	if paths(pr.Update) != "group:apps[read_packages]" {
		t.Fatalf("the group entry is narrowed: update = %s", paths(pr.Update))
	}
	if paths(pr.Add) != "project:apps/web[read_jobs]" || len(pr.Keep) != 0 {
		t.Errorf("read_packages does not cover artifacts-read: apps/web needs its own entry: add=%s keep=%s", paths(pr.Add), paths(pr.Keep))
	}
}
