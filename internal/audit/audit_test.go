package audit

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/trust"
	"github.com/tokenscope/tokenscope/internal/use"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func edge(caller, callee string, kinds ...access.Kind) graph.Edge {
	e := graph.Edge{Caller: caller, Callee: callee, Access: access.Sort(slices.Clone(kinds))}
	for i, k := range kinds {
		e.Uses = append(e.Uses, use.Use{Origin: use.CIConfig, Access: k, Caller: caller, Callee: callee,
			Evidence: use.Evidence{Pos: loc.Pos{Project: caller, File: ".gitlab-ci.yml", Line: 10 + i}, Job: "build"}})
	}
	return e
}

func scope(enforced bool, entries ...inventory.Entry) *inventory.JobTokenScope {
	return &inventory.JobTokenScope{InboundEnabled: enforced, Allowlist: inventory.Allowlist{Projects: entries}}
}

// drifted is an org with one of every finding.
func drifted(t *testing.T, trustYAML string, opts Options) *Result {
	t.Helper()
	inv := &inventory.Inventory{Version: 1, GitLabVersion: "18.5", Groups: []inventory.Group{{Path: "apps", ID: 30}}, Projects: []*inventory.Project{
		{Path: "libs/jslib", ID: 201, JobTokenScope: scope(true,
			inventory.Entry{Path: "apps/web", Policies: []string{"read_packages", "read_repositories"}},
			inventory.Entry{Path: "apps/old"})},
		{Path: "libs/pylib", ID: 202, JobTokenScope: scope(false)},
		{Path: "apps/web", ID: 301, JobTokenScope: scope(true)},
		{Path: "apps/old", ID: 302, JobTokenScope: scope(true)},
		{Path: "apps/docs", ID: 303, JobTokenScope: scope(false)},
		{Path: "apps/api", ID: 304, JobTokenScope: scope(false)},
		{Path: "apps/new", ID: 305, JobTokenScope: scope(true)},
		{Path: "infra/tf", ID: 401, JobTokenScopeUnknown: true},
	}}
	ix := inventory.NewIndex(inv)
	g := &graph.Graph{Edges: []graph.Edge{
		edge("apps/new", "libs/jslib", access.RepositoryRead),
		edge("apps/web", "apps/new", access.RepositoryWrite),
		edge("apps/web", "libs/jslib", access.PackagesRead),
		edge("apps/web", "libs/pylib", access.PackagesRead),
	}}
	tf, diags := trust.Load("trust.yaml", []byte(trustYAML), trust.LoadOptions{Index: ix, Now: now})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return Audit(plan.Compute(g, ix, tf, plan.Options{}), ix, tf, opts)
}

const driftedTrust = `version: 1
edges:
  - {caller: apps/web, callee: libs/jslib, access: [packages-read], reason: bundles it, owner: "@web"}
  - {caller: apps/web, callee: libs/pylib, access: [packages-read], reason: bundles it}
  - {caller: apps/old, callee: apps/web, access: [repository-read], reason: mirrors, owner: "@old"}
  - {caller: apps/new, callee: apps/web, access: [repository-read], reason: x, owner: "@new", expires: 2026-11-01}
  - {caller: apps/docs, callee: apps/web, access: [repository-read], reason: x, owner: "@docs", unreviewed: true}
open:
  - {project: apps/docs, reason: public docs, owner: "@docs"}
  - {project: apps/api, reason: legacy, owner: "@api", expires: 2026-11-30}
`

func keyOf(f Finding) string {
	k := string(f.Kind) + " " + f.Project
	if f.Entry != "" {
		k += " " + string(f.EntryType) + ":" + f.Entry
	}
	if f.Fails {
		k += " FAIL"
	}
	if f.Acknowledged != nil {
		k += " ack"
	}
	return k
}

func keys(r *Result) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, keyOf(f))
	}
	return out
}

func TestAuditFindings(t *testing.T) {
	r := drifted(t, driftedTrust, Options{})
	want := []string{
		"expired apps/api FAIL",
		"not-enforced apps/api FAIL",
		"impossible apps/new project:apps/web",
		"missing apps/web project:apps/old FAIL",
		"stale apps/web project:apps/old",
		"unreviewed apps/web project:apps/docs",
		"expired apps/web project:apps/new FAIL",
		"unapproved libs/jslib project:apps/old FAIL",
		"review libs/jslib project:apps/new",
		"wider libs/jslib project:apps/web FAIL",
		"not-enforced libs/pylib FAIL",
		"missing libs/pylib project:apps/web FAIL",
		"no-owner libs/pylib project:apps/web FAIL",
		"unknown infra/tf FAIL",
	}
	got := keys(r)
	slices.Sort(want)
	sorted := slices.Sorted(slices.Values(got))
	if !slices.Equal(sorted, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(sorted, "\n"), strings.Join(want, "\n"))
	}
	if !r.Failed() {
		t.Error("drift must fail the audit")
	}
	if r.Projects != 8 || r.Enforced != 4 || r.Open != 1 {
		t.Errorf("projects %d, enforced %d, open %d", r.Projects, r.Enforced, r.Open)
	}
	// Sorted by project, then entry, then kind order.
	for i := 1; i < len(r.Findings); i++ {
		if r.Findings[i-1].Project > r.Findings[i].Project {
			t.Errorf("not sorted by project at %d: %s", i, got[i])
		}
	}
	for _, f := range r.Findings {
		if f.Action == "" || f.Detail == "" {
			t.Errorf("%s: no detail or action: %+v", keyOf(f), f)
		}
	}
	wider := find(t, r, Wider, "libs/jslib", "apps/web")
	if !strings.Contains(wider.Detail, "also grants read_repositories") || wider.Line != 3 {
		t.Errorf("wider: %+v", wider)
	}
	if f := find(t, r, NoOwner, "libs/pylib", "apps/web"); f.Line != 4 {
		t.Errorf("no-owner line %d, want 4", f.Line)
	}
	if f := find(t, r, Expired, "apps/api", ""); !strings.Contains(f.Detail, "open exception at trust.yaml:10 expired on 2026-11-30") {
		t.Errorf("expired open: %+v", f)
	}
	if f := find(t, r, NotEnforced, "apps/api", ""); !strings.Contains(f.Detail, "expired on 2026-11-30") || f.Line != 10 {
		t.Errorf("not-enforced after an expired exception: %+v", f)
	}
	if f := find(t, r, Impossible, "apps/new", "apps/web"); !strings.Contains(f.Action, "project access token") {
		t.Errorf("impossible: the plan's advice, got %q", f.Action)
	}
}

func find(t *testing.T, r *Result, k Kind, project, entry string) Finding {
	t.Helper()
	for _, f := range r.Findings {
		if f.Kind == k && f.Project == project && f.Entry == entry {
			return f
		}
	}
	t.Fatalf("no %s finding for %s %s in %v", k, project, entry, keys(r))
	return Finding{}
}

func TestAuditFailOnAndAcknowledged(t *testing.T) {
	file := driftedTrust + `acknowledged:
  - {kind: review, project: libs/jslib, entry: apps/new, reason: migrating to a deploy token, owner: "@new", expires: 2027-01-31}
  - {kind: not-enforced, project: libs/pylib, reason: rollout next week, owner: "@libs"}
  - {kind: stale, project: apps/web, entry: apps/old, reason: nightly mirror, owner: "@old", expires: 2026-11-15}
  - {kind: wider, project: libs/jslib, entry: apps/new, reason: nothing to acknowledge, owner: "@new"}
`
	r := drifted(t, file, Options{FailOn: []Kind{Review, Stale, Impossible}})
	if f := find(t, r, Review, "libs/jslib", "apps/new"); f.Fails || f.Acknowledged == nil || f.Acknowledged.Line != 12 {
		t.Errorf("acknowledged review: %s", keyOf(f))
	}
	if f := find(t, r, NotEnforced, "libs/pylib", ""); f.Fails || f.Acknowledged == nil {
		t.Errorf("acknowledged drift must not fail: %s", keyOf(f))
	}
	if f := find(t, r, Stale, "apps/web", "apps/old"); !f.Fails || f.Acknowledged != nil || !strings.Contains(f.Detail, "acknowledgement at trust.yaml:14 expired on 2026-11-15") {
		t.Errorf("an expired acknowledgement counts for nothing: %s %q", keyOf(f), f.Detail)
	}
	if f := find(t, r, Impossible, "apps/new", "apps/web"); !f.Fails {
		t.Errorf("--fail-on impossible: %s", keyOf(f))
	}
	if f := find(t, r, Unreviewed, "apps/web", "apps/docs"); f.Fails {
		t.Errorf("unreviewed is not in FailOn: %s", keyOf(f))
	}
	if len(r.Unused) != 1 || r.Unused[0].Line != 15 {
		t.Errorf("unused acknowledgements %+v, want the one at line 15", r.Unused)
	}
	c := r.Counts()
	if c.Acknowledged != 2 || c.ByKind[Missing] != 2 || c.Drift+c.Standing != len(r.Findings) {
		t.Errorf("counts %+v", c)
	}
}

// An org that matches its intent has no drift; standing findings alone do
// not fail it.
func TestAuditClean(t *testing.T) {
	inv := &inventory.Inventory{Version: 1, GitLabVersion: "18.5", Projects: []*inventory.Project{
		{Path: "libs/jslib", ID: 201, JobTokenScope: scope(true, inventory.Entry{Path: "apps/web", Policies: []string{"read_packages"}})},
		{Path: "apps/web", ID: 301, JobTokenScope: scope(true)},
		{Path: "apps/x", ID: 302, JobTokenScope: scope(true)},
	}}
	ix := inventory.NewIndex(inv)
	g := &graph.Graph{Edges: []graph.Edge{edge("apps/web", "libs/jslib", access.PackagesRead), edge("apps/x", "libs/jslib", access.PackagesRead)}}
	tf, diags := trust.Load("trust.yaml", []byte("version: 1\nedges:\n  - {caller: apps/web, callee: libs/jslib, access: [packages-read], reason: r, owner: o}\n"), trust.LoadOptions{Index: ix, Now: now})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p := plan.Compute(g, ix, tf, plan.Options{})
	r := Audit(p, ix, tf, Options{})
	if got := keys(r); !slices.Equal(got, []string{"review libs/jslib project:apps/x"}) || r.Failed() {
		t.Errorf("findings %v, failed %v", got, r.Failed())
	}
	if r := Audit(p, nil, tf, Options{FailOn: []Kind{Review}}); !r.Failed() {
		t.Error("--fail-on review must fail on a use waiting for review")
	}
}

func TestParseKinds(t *testing.T) {
	ks, err := ParseKinds("review, stale,,impossible")
	if err != nil || !slices.Equal(ks, []Kind{Review, Stale, Impossible}) {
		t.Errorf("ParseKinds = %v, %v", ks, err)
	}
	if ks, err := ParseKinds("all"); err != nil || len(ks) != len(Kinds) {
		t.Errorf("all = %v, %v", ks, err)
	}
	if _, err := ParseKinds("review,stael"); err == nil || !strings.Contains(err.Error(), `unknown finding kind "stael"`) {
		t.Errorf("err = %v", err)
	}
}

// trust.yaml's acknowledged: must accept exactly the kinds the audit
// reports.
func TestTrustKnowsTheKinds(t *testing.T) {
	var ours []string
	for _, k := range Kinds {
		ours = append(ours, string(k))
	}
	slices.Sort(ours)
	theirs := slices.Sorted(slices.Values(trust.FindingKinds))
	if !slices.Equal(ours, theirs) {
		t.Errorf("audit kinds %v, trust.FindingKinds %v", ours, theirs)
	}
}

// Group entries and grants are findings like project ones, named as
// groups.
func TestAuditGroups(t *testing.T) {
	inv := &inventory.Inventory{Version: 1, GitLabVersion: "18.5",
		Groups: []inventory.Group{{Path: "apps", ID: 30}, {Path: "data", ID: 40}},
		Projects: []*inventory.Project{
			{Path: "libs/jslib", ID: 201, JobTokenScope: &inventory.JobTokenScope{InboundEnabled: true,
				Allowlist: inventory.Allowlist{Groups: []inventory.Entry{{Path: "data"}}}}},
			{Path: "apps/web", ID: 301, JobTokenScope: scope(true)},
			{Path: "data/etl", ID: 401, JobTokenScope: scope(true)},
		}}
	ix := inventory.NewIndex(inv)
	g := &graph.Graph{Edges: []graph.Edge{edge("apps/web", "libs/jslib", access.PackagesRead)}}
	tf, diags := trust.Load("trust.yaml", []byte("version: 1\ngroups:\n  - {callee: libs/jslib, caller_group: apps, access: [packages-read], reason: every app}\n"), trust.LoadOptions{Index: ix, Now: now})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	r := Audit(plan.Compute(g, ix, tf, plan.Options{}), ix, tf, Options{})
	want := []string{"missing libs/jslib group:apps FAIL", "no-owner libs/jslib group:apps FAIL", "unapproved libs/jslib group:data FAIL"}
	if got := keys(r); !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	if f := find(t, r, NoOwner, "libs/jslib", "apps"); f.Line != 3 || !strings.Contains(f.Detail, "group grant at trust.yaml:3") {
		t.Errorf("no-owner group grant: %+v", f)
	}
}
