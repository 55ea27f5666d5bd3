package plan

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/capability"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/trust"
	"github.com/tokenscope/tokenscope/internal/use"
)

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// org is the inventory every test starts from; tests change the callees'
// job token settings.
func org(version string, mod func(map[string]*inventory.Project)) *inventory.Index {
	inv := &inventory.Inventory{
		Version: 1, GitLabVersion: version,
		Groups: []inventory.Group{{Path: "apps", ID: 30}, {Path: "libs", ID: 20}, {Path: "infra", ID: 40},
			{Path: "platform", ID: 10}, {Path: "data", ID: 50}},
	}
	byPath := map[string]*inventory.Project{}
	for i, p := range []string{"apps/web", "apps/api", "apps/deploy", "apps/legacy", "libs/jslib", "infra/tfstate",
		"platform/base-images", "platform/build-scripts", "data/etl", "data/reports"} {
		pr := &inventory.Project{Path: p, ID: 100 + i}
		byPath[p] = pr
		inv.Projects = append(inv.Projects, pr)
	}
	byPath["apps/legacy"].Archived = true
	if mod != nil {
		mod(byPath)
	}
	return inventory.NewIndex(inv)
}

func scope(enabled bool, projects []inventory.Entry, groups ...inventory.Entry) *inventory.JobTokenScope {
	return &inventory.JobTokenScope{InboundEnabled: enabled, Allowlist: inventory.Allowlist{Projects: projects, Groups: groups}}
}

// edge builds a discovered edge with one CI-config use per kind, or an
// auth-log use when no kind is given.
func edge(caller, callee string, kinds ...access.Kind) graph.Edge {
	e := graph.Edge{Caller: caller, Callee: callee, Access: access.Sort(slices.Clone(kinds))}
	for i, k := range kinds {
		e.Uses = append(e.Uses, use.Use{Origin: use.CIConfig, Access: k, Caller: caller, Callee: callee,
			Evidence: use.Evidence{Pos: loc.Pos{Project: caller, File: ".gitlab-ci.yml", Line: 10 + i}, Job: "build", Detail: string(k) + " of " + callee}})
	}
	if len(kinds) == 0 {
		e.Uses = []use.Use{{Origin: use.AuthLog, Caller: caller, Callee: callee,
			Evidence: use.Evidence{Pos: loc.Pos{Project: callee}, Detail: "job token authentication log: last authorized 2026-11-20T08:15:00Z"}}}
	}
	return e
}

func graphOf(edges ...graph.Edge) *graph.Graph {
	slices.SortFunc(edges, func(a, b graph.Edge) int {
		return strings.Compare(a.Caller+" "+a.Callee, b.Caller+" "+b.Callee)
	})
	return &graph.Graph{Edges: edges}
}

func trustOf(t *testing.T, ix *inventory.Index, body string) *trust.File {
	t.Helper()
	f, diags := trust.Load("trust.yaml", []byte("version: 1\n"+body), trust.LoadOptions{Index: ix, Now: now})
	if diags.HasErrors() {
		t.Fatalf("trust file: %v", diags)
	}
	return f
}

func project(t *testing.T, p *Plan, path string) Project {
	t.Helper()
	for _, pr := range p.Projects {
		if pr.Path == path {
			return pr
		}
	}
	t.Fatalf("no plan for %s; projects: %v", path, p.Projects)
	return Project{}
}

// paths renders entries as "type:path[policies]" for compact assertions.
func paths(es []Entry) string {
	var out []string
	for _, e := range es {
		pol := "default"
		if e.Policies != nil {
			pol = strings.Join(e.Policies, "+")
		}
		out = append(out, fmt.Sprintf("%s:%s[%s]", e.Type, e.Path, pol))
	}
	return strings.Join(out, " ")
}

func callers(rs []Review) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Caller)
	}
	return strings.Join(out, " ")
}

func TestDiscoveredApprovedIsAdded(t *testing.T) {
	ix := org("18.5", func(m map[string]*inventory.Project) { m["libs/jslib"].JobTokenScope = scope(false, nil) })
	tf := trustOf(t, ix, `edges:
  - {caller: apps/web, callee: libs/jslib, access: [packages-read, artifacts-read], reason: web consumes the package}
`)
	p := Compute(graphOf(edge("apps/web", "libs/jslib", access.PackagesRead, access.ArtifactsRead)), ix, tf, Options{})
	pr := project(t, p, "libs/jslib")
	if got := paths(pr.Add); got != "project:apps/web[read_jobs+read_packages]" {
		t.Errorf("add = %s", got)
	}
	a := pr.Add[0]
	if a.ID != 100 || a.Role != access.Reporter || !strings.Contains(a.Reason, "approved in trust.yaml:3: web consumes the package") || len(a.Uses) != 2 {
		t.Errorf("entry = %+v", a)
	}
	if !pr.Enforce || pr.Enforced {
		t.Errorf("a callee with approved callers and inbound off must be enforced: %+v", pr)
	}
	if !p.Trusted || p.Findings() == false {
		t.Error("trusted plan with changes")
	}
}

func TestKeepAndUpdate(t *testing.T) {
	ix := org("18.5", func(m map[string]*inventory.Project) {
		m["libs/jslib"].JobTokenScope = scope(true, []inventory.Entry{
			{Path: "apps/web", Policies: []string{"read_packages"}},
			{Path: "apps/api"}, // default permissions
		})
	})
	tf := trustOf(t, ix, `edges:
  - {caller: apps/web, callee: libs/jslib, access: [packages-read], reason: x}
  - {caller: apps/api, callee: libs/jslib, access: [packages-read], reason: y}
`)
	g := graphOf(edge("apps/web", "libs/jslib", access.PackagesRead), edge("apps/api", "libs/jslib", access.PackagesRead))
	pr := project(t, Compute(g, ix, tf, Options{}), "libs/jslib")
	if got := paths(pr.Keep); got != "project:apps/web[read_packages]" {
		t.Errorf("keep = %s", got)
	}
	if got := paths(pr.Update); got != "project:apps/api[read_packages]" || pr.Update[0].CurrentPolicies != nil ||
		!strings.HasPrefix(pr.Update[0].Reason, "policies default permissions → read_packages") {
		t.Errorf("update = %s %+v", got, pr.Update)
	}
	if pr.Enforce || !pr.Enforced || len(pr.Add) != 0 {
		t.Errorf("already enforced, nothing to add: %+v", pr)
	}
}

func TestKeepWhenCoveredByGroupEntry(t *testing.T) {
	mod := func(m map[string]*inventory.Project) {
		m["platform/base-images"].JobTokenScope = scope(true, nil, inventory.Entry{Path: "apps"})
	}
	ix := org("18.5", mod)
	tf := trustOf(t, ix, `edges:
  - {caller: apps/api, callee: platform/base-images, access: [container-read], reason: base image}
`)
	g := graphOf(edge("apps/api", "platform/base-images", access.ContainerRead))
	pr := project(t, Compute(g, ix, tf, Options{}), "platform/base-images")
	if len(pr.Keep) != 1 || pr.Keep[0].CoveredBy != "apps" || len(pr.Add) != 0 {
		t.Errorf("apps/api is covered by the group entry apps: keep=%+v add=%+v", pr.Keep, pr.Add)
	}
	if got := paths(pr.Unapproved); got != "group:apps[default]" {
		t.Errorf("the group entry itself is not approved: unapproved = %s", got)
	}
	// With --prune the unapproved group goes, so apps/api needs its own entry.
	pr = project(t, Compute(g, ix, tf, Options{Prune: true}), "platform/base-images")
	if paths(pr.Remove) != "group:apps[default]" || paths(pr.Add) != "project:apps/api[default]" {
		t.Errorf("prune: remove=%s add=%s", paths(pr.Remove), paths(pr.Add))
	}
	if pr.Add[0].PolicyReason == "" || !strings.Contains(pr.Add[0].PolicyReason, "container registry pulls") {
		t.Errorf("container-read keeps default permissions with the reason: %q", pr.Add[0].PolicyReason)
	}
	// A group entry narrower than the caller needs does not cover it.
	ix = org("18.5", func(m map[string]*inventory.Project) {
		m["libs/jslib"].JobTokenScope = scope(true, nil, inventory.Entry{Path: "apps", Policies: []string{"read_jobs"}})
	})
	tf = trustOf(t, ix, `edges:
  - {caller: apps/api, callee: libs/jslib, access: [packages-read], reason: x}
`)
	pr = project(t, Compute(graphOf(edge("apps/api", "libs/jslib", access.PackagesRead)), ix, tf, Options{}), "libs/jslib")
	if paths(pr.Add) != "project:apps/api[read_packages]" {
		t.Errorf("a read_jobs group entry does not cover packages-read: add = %s", paths(pr.Add))
	}
}

func TestDiscoveredUnapprovedNeedsReview(t *testing.T) {
	ix := org("18.5", func(m map[string]*inventory.Project) { m["platform/build-scripts"].JobTokenScope = scope(false, nil) })
	tf := trustOf(t, ix, "edges: []\n")
	g := graphOf(edge("data/etl", "platform/build-scripts", access.RepositoryRead), edge("apps/legacy", "platform/build-scripts"))
	p := Compute(g, ix, tf, Options{})
	pr := project(t, p, "platform/build-scripts")
	if len(pr.Add) != 0 || callers(pr.NeedsReview) != "apps/legacy data/etl" {
		t.Fatalf("never added, listed for review: add=%s review=%s", paths(pr.Add), callers(pr.NeedsReview))
	}
	if r := pr.NeedsReview[0]; !strings.Contains(r.Reason, "archived") || len(r.Uses) != 1 {
		t.Errorf("archived caller: %+v", r)
	}
	if r := pr.NeedsReview[1]; r.Reason != "not approved in trust.yaml" || len(r.Uses) != 1 || r.Uses[0].Evidence.Line != 10 {
		t.Errorf("review carries the evidence: %+v", r)
	}
	// Lock-down: enforced all the same, and the callers it blocks are named.
	if !pr.Enforce || !strings.Contains(pr.EnforceNote, "lock-down: no caller is approved") {
		t.Errorf("lock-down enforces a callee without approved callers: %+v", pr)
	}
	if !slices.ContainsFunc(p.Warnings, func(w Warning) bool {
		return strings.Contains(w.Text, "platform/build-scripts: enforcing its allowlist blocks 2 caller(s) without an approved entry: apps/legacy, data/etl")
	}) {
		t.Errorf("the blocked callers must be named: %v", p.Warnings)
	}
}

func TestStaleApprovals(t *testing.T) {
	ix := org("18.5", func(m map[string]*inventory.Project) {
		m["platform/build-scripts"].JobTokenScope = scope(true, []inventory.Entry{{Path: "apps/web", Policies: []string{"read_repositories"}}})
	})
	tf := trustOf(t, ix, `edges:
  - {caller: apps/web, callee: platform/build-scripts, access: [repository-read], reason: build scripts}
  - {caller: apps/api, callee: platform/build-scripts, access: [repository-read], reason: fixtures via $REPO}
`)
	pr := project(t, Compute(graphOf(), ix, tf, Options{}), "platform/build-scripts")
	if paths(pr.Keep) != "project:apps/web[read_repositories]" || paths(pr.Add) != "project:apps/api[read_repositories]" {
		t.Errorf("stale approvals are honoured: keep=%s add=%s", paths(pr.Keep), paths(pr.Add))
	}
	if paths(pr.Stale) != "project:apps/api[read_repositories] project:apps/web[read_repositories]" {
		t.Errorf("and flagged: stale = %s", paths(pr.Stale))
	}
	if !strings.Contains(pr.Add[0].Reason, "no use discovered (stale)") {
		t.Errorf("reason: %s", pr.Add[0].Reason)
	}
}

func TestUnapprovedEntriesRemovedOnlyWithPrune(t *testing.T) {
	mod := func(m map[string]*inventory.Project) {
		m["libs/jslib"].JobTokenScope = scope(true, []inventory.Entry{
			{Path: "libs/jslib"}, // self: never planned
			{Path: "apps/legacy", Autopopulated: true},
			{Path: "data/etl"},
		})
	}
	ix := org("18.5", mod)
	tf := trustOf(t, ix, "edges: []\n")
	g := graphOf(edge("apps/legacy", "libs/jslib"))
	pr := project(t, Compute(g, ix, tf, Options{}), "libs/jslib")
	if len(pr.Remove) != 0 || paths(pr.Unapproved) != "project:apps/legacy[default] project:data/etl[default]" {
		t.Errorf("without --prune: remove=%s unapproved=%s", paths(pr.Remove), paths(pr.Unapproved))
	}
	legacy := pr.Unapproved[0]
	for _, want := range []string{"still used (authentication log: last authorized 2026-11-20", "autopopulated"} {
		if !strings.Contains(legacy.Reason, want) {
			t.Errorf("reason %q lacks %q", legacy.Reason, want)
		}
	}
	pr = project(t, Compute(g, ix, tf, Options{Prune: true}), "libs/jslib")
	if paths(pr.Remove) != "project:apps/legacy[default] project:data/etl[default]" || len(pr.Unapproved) != 0 {
		t.Errorf("with --prune: remove=%s", paths(pr.Remove))
	}
	if !strings.Contains(pr.Remove[1].Reason, "not approved; no use discovered") {
		t.Errorf("reason: %s", pr.Remove[1].Reason)
	}
}

func TestDenyWins(t *testing.T) {
	ix := org("18.5", func(m map[string]*inventory.Project) {
		m["infra/tfstate"].JobTokenScope = scope(true,
			[]inventory.Entry{{Path: "apps/deploy", Policies: []string{"admin_terraform_state", "read_terraform_state"}}, {Path: "apps/web"}},
			inventory.Entry{Path: "apps"})
	})
	tf := trustOf(t, ix, `edges:
  - {caller: apps/deploy, callee: infra/tfstate, access: [terraform-state-write], reason: deploys}
  - {caller: apps/web, callee: infra/tfstate, access: [terraform-state-read], reason: reads outputs}
groups:
  - {callee: infra/tfstate, caller_group: apps, reason: too wide}
deny:
  - {callee: infra/tfstate, except: [apps/deploy], reason: state holds secrets}
`)
	g := graphOf(edge("apps/deploy", "infra/tfstate", access.TerraformStateWrite), edge("apps/web", "infra/tfstate", access.TerraformStateRead))
	p := Compute(g, ix, tf, Options{})
	pr := project(t, p, "infra/tfstate")
	if paths(pr.Keep) != "project:apps/deploy[admin_terraform_state+read_terraform_state]" {
		t.Errorf("the excepted caller stays: keep = %s", paths(pr.Keep))
	}
	if callers(pr.Denied) != "apps/web" || !pr.Denied[0].OnAllowlist || !strings.Contains(pr.Denied[0].Reason, "trust.yaml:8: state holds secrets") {
		t.Errorf("denied = %+v", pr.Denied)
	}
	if paths(pr.Remove) != "group:apps[default] project:apps/web[default]" {
		t.Errorf("denied entries go even without --prune: remove = %s", paths(pr.Remove))
	}
	if !slices.ContainsFunc(p.Warnings, func(w Warning) bool { return strings.Contains(w.Text, "group grant apps") }) {
		t.Errorf("the overridden group grant is reported: %v", p.Warnings)
	}
}

func TestEnforce(t *testing.T) {
	tfBody := "edges:\n  - {caller: apps/web, callee: libs/jslib, access: [packages-read], reason: x}\n"
	g := graphOf(edge("apps/web", "libs/jslib", access.PackagesRead), edge("data/etl", "libs/jslib", access.PackagesRead))
	for _, tc := range []struct {
		name     string
		instance *bool
		scope    *inventory.JobTokenScope
		enforce  bool
		note     string
	}{
		{"off", nil, scope(false, nil), true, "turn on the allowlist"},
		{"unknown", nil, nil, true, "current setting unknown"},
		{"project on", nil, scope(true, nil), false, "already enforced"},
		{"instance on", ptr(true), scope(false, nil), false, "instance setting"},
		{"instance off", ptr(false), scope(false, nil), true, "turn on"},
	} {
		ix := org("18.5", func(m map[string]*inventory.Project) { m["libs/jslib"].JobTokenScope = tc.scope })
		ix.Inventory().InstanceEnforcesAllowlist = tc.instance
		p := Compute(g, ix, trustOf(t, ix, tfBody), Options{})
		pr := project(t, p, "libs/jslib")
		if pr.Enforce != tc.enforce || !strings.Contains(pr.EnforceNote, tc.note) {
			t.Errorf("%s: enforce=%v note=%q", tc.name, pr.Enforce, pr.EnforceNote)
		}
		blocked := slices.ContainsFunc(p.Warnings, func(w Warning) bool {
			return strings.Contains(w.Text, "libs/jslib: enforcing its allowlist blocks 1 caller(s) without an approved entry: data/etl")
		})
		if blocked != tc.enforce {
			t.Errorf("%s: the caller awaiting review must be named when enforcing: %v", tc.name, p.Warnings)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestWithoutTrustEveryEdgeIsProposed(t *testing.T) {
	ix := org("18.5", nil)
	g := graphOf(edge("apps/web", "libs/jslib", access.PackagesRead), edge("apps/legacy", "libs/jslib"))
	p := Compute(g, ix, nil, Options{})
	pr := project(t, p, "libs/jslib")
	if p.Trusted || paths(pr.Add) != "project:apps/legacy[default] project:apps/web[read_packages]" {
		t.Errorf("add = %s", paths(pr.Add))
	}
	if p.Warnings[0].Kind != WarnNoTrust {
		t.Errorf("the plan says so loudly: %v", p.Warnings)
	}
	if !strings.Contains(pr.Add[0].PolicyReason, "authentication log does not say which") {
		t.Errorf("auth-log-only edge: %q", pr.Add[0].PolicyReason)
	}
}

func TestUnknownAccessKeepsCurrentPermissions(t *testing.T) {
	ix := org("18.5", func(m map[string]*inventory.Project) {
		m["infra/tfstate"].JobTokenScope = scope(true, []inventory.Entry{{Path: "apps/deploy", Policies: []string{"read_terraform_state"}}})
	})
	tf := trustOf(t, ix, "edges:\n  - {caller: apps/deploy, callee: infra/tfstate, reason: seen in the log}\n")
	pr := project(t, Compute(graphOf(edge("apps/deploy", "infra/tfstate")), ix, tf, Options{}), "infra/tfstate")
	if len(pr.Update) != 0 || paths(pr.Keep) != "project:apps/deploy[read_terraform_state]" {
		t.Errorf("an entry is never widened because the access is unknown: keep=%s update=%s", paths(pr.Keep), paths(pr.Update))
	}
}

func TestAuthLogOnlyEdges(t *testing.T) {
	ix := org("18.5", nil)
	tf := trustOf(t, ix, `edges:
  - {caller: apps/web, callee: libs/jslib, reason: seen in the log}
  - {caller: apps/api, callee: libs/jslib, access: [packages-read], reason: named after review}
`)
	g := graphOf(edge("apps/web", "libs/jslib"), edge("apps/api", "libs/jslib"), edge("data/etl", "libs/jslib"))
	pr := project(t, Compute(g, ix, tf, Options{}), "libs/jslib")
	if paths(pr.Add) != "project:apps/api[read_packages] project:apps/web[default]" {
		t.Errorf("add = %s", paths(pr.Add))
	}
	if callers(pr.NeedsReview) != "data/etl" {
		t.Errorf("unapproved log-only edge needs review: %s", callers(pr.NeedsReview))
	}
}

func TestPoliciesByVersion(t *testing.T) {
	for _, tc := range []struct {
		version string
		kinds   []access.Kind
		want    string // policies, or "null: reason substring"
	}{
		{"18.5", []access.Kind{access.PackagesRead, access.ArtifactsRead}, "read_jobs,read_packages"},
		{"18.5", []access.Kind{access.RepositoryRead}, "read_repositories"},
		{"18.3", []access.Kind{access.RepositoryRead}, "null: policy read_repositories, which GitLab has from 18.4 (this is 18.3)"},
		{"17.8", []access.Kind{access.PackagesRead}, "null: GitLab 17.8 has no fine-grained job token permissions"},
		{"17.10", []access.Kind{access.PackagesRead}, "read_packages"},
		{"18.5", []access.Kind{access.PackagesRead, access.ContainerRead}, "null: container-read: container registry pulls"},
		{"18.5", []access.Kind{access.PipelineTrigger}, "null: pipeline-trigger: the pipeline trigger API has no fine-grained policy"},
		{"18.5", []access.Kind{access.TerraformStateWrite, access.TerraformStateRead}, "admin_terraform_state,read_terraform_state"},
		{"18.5", nil, "null: access kinds unknown"},
		{"", []access.Kind{access.RepositoryRead}, "read_repositories"},
	} {
		var v capability.Version
		if tc.version != "" {
			v = capability.MustVersion(tc.version)
		}
		pol, reason := Policies(tc.kinds, capability.For(v))
		got := strings.Join(pol, ",")
		if pol == nil {
			got = "null: " + reason
		}
		if !strings.HasPrefix(tc.want, "null: ") && got != tc.want || strings.HasPrefix(tc.want, "null: ") && !strings.Contains(got, strings.TrimPrefix(tc.want, "null: ")) {
			t.Errorf("%s %v: got %q; want %q", tc.version, tc.kinds, got, tc.want)
		}
	}
}

func TestVersionFromInventoryOrOption(t *testing.T) {
	ix := org("17.8", nil)
	g := graphOf(edge("apps/web", "libs/jslib", access.PackagesRead))
	p := Compute(g, ix, nil, Options{})
	if pr := project(t, p, "libs/jslib"); pr.Add[0].Policies != nil || p.Capabilities.Version.String() != "17.8" {
		t.Errorf("17.8 from the inventory: %+v", pr.Add[0])
	}
	p = Compute(g, ix, nil, Options{GitLabVersion: capability.MustVersion("18.4")})
	if pr := project(t, p, "libs/jslib"); paths(pr.Add) != "project:apps/web[read_packages]" {
		t.Errorf("--gitlab-version wins: %s", paths(pr.Add))
	}
	p = Compute(g, org("18.1", nil), nil, Options{})
	if !slices.ContainsFunc(p.Warnings, func(w Warning) bool {
		return strings.Contains(w.Text, "Enable fine-grained permissions for CI/CD job tokens")
	}) {
		t.Errorf("beta policies need the top-level group setting: %v", p.Warnings)
	}
}

func TestNeverEdges(t *testing.T) {
	ix := org("18.5", nil)
	tf := trustOf(t, ix, "edges: []\n")
	g := graphOf(edge("data/reports", "apps/web", access.RepositoryWrite),
		edge("apps/web", "platform/base-images", access.ContainerRead, access.ContainerWrite))
	p := Compute(g, ix, tf, Options{})
	pr := project(t, p, "apps/web")
	if callers(pr.Never) != "data/reports" || len(pr.NeedsReview)+len(pr.Add) != 0 {
		t.Errorf("a push is never reviewed or added: never=%s review=%s", callers(pr.Never), callers(pr.NeedsReview))
	}
	if len(pr.Advice) != 1 || !strings.Contains(pr.Advice[0].Text, "project access token of apps/web with write_repository") {
		t.Errorf("advice = %+v", pr.Advice)
	}
	base := project(t, p, "platform/base-images")
	if callers(base.NeedsReview) != "apps/web" || base.NeedsReview[0].Access[0] != access.ContainerRead ||
		len(base.Advice) != 1 || !strings.Contains(base.Advice[0].Text, "write_registry") {
		t.Errorf("the pull is reviewed, the push advised: %+v", base)
	}
}

func TestAccessBeyondApproval(t *testing.T) {
	ix := org("18.5", nil)
	tf := trustOf(t, ix, "edges:\n  - {caller: apps/web, callee: libs/jslib, access: [packages-read], reason: x}\n")
	g := graphOf(edge("apps/web", "libs/jslib", access.PackagesRead, access.ArtifactsRead))
	pr := project(t, Compute(g, ix, tf, Options{}), "libs/jslib")
	if paths(pr.Add) != "project:apps/web[read_packages]" {
		t.Errorf("the entry is narrowed to the approval: %s", paths(pr.Add))
	}
	if len(pr.NeedsReview) != 1 || pr.NeedsReview[0].Access[0] != access.ArtifactsRead || len(pr.NeedsReview[0].Uses) != 1 ||
		!strings.Contains(pr.NeedsReview[0].Reason, "access beyond the approval at trust.yaml:3") {
		t.Errorf("review = %+v", pr.NeedsReview)
	}
}

func TestExpiredApprovalNeedsReview(t *testing.T) {
	ix := org("18.5", func(m map[string]*inventory.Project) {
		m["libs/jslib"].JobTokenScope = scope(true, []inventory.Entry{{Path: "apps/web", Policies: []string{"read_packages"}}})
	})
	tf := trustOf(t, ix, "edges:\n  - {caller: apps/web, callee: libs/jslib, access: [packages-read], reason: x, expires: 2026-01-31}\n")
	pr := project(t, Compute(graphOf(edge("apps/web", "libs/jslib", access.PackagesRead)), ix, tf, Options{}), "libs/jslib")
	if len(pr.Keep)+len(pr.Add) != 0 || len(pr.NeedsReview) != 1 || !strings.Contains(pr.NeedsReview[0].Reason, "expired on 2026-01-31") {
		t.Errorf("review = %+v keep = %s", pr.NeedsReview, paths(pr.Keep))
	}
	if len(pr.Unapproved) != 1 || !strings.Contains(pr.Unapproved[0].Reason, "expired on 2026-01-31") {
		t.Errorf("the entry is no longer approved: %+v", pr.Unapproved)
	}
}

func TestGroupGrantIsAnExplicitWidening(t *testing.T) {
	ix := org("18.5", nil)
	tf := trustOf(t, ix, `groups:
  - {callee: platform/base-images, caller_group: apps, access: [container-read], reason: every app builds on the base images}
`)
	g := graphOf(edge("apps/web", "platform/base-images", access.ContainerRead), edge("apps/api", "platform/base-images", access.ContainerRead))
	pr := project(t, Compute(g, ix, tf, Options{}), "platform/base-images")
	if paths(pr.Add) != "group:apps[default]" || pr.Add[0].ID != 30 {
		t.Fatalf("add = %s", paths(pr.Add))
	}
	w := pr.Add[0].Widening
	if w == nil || w.Members != 4 || strings.Join(w.Extra, " ") != "apps/deploy apps/legacy" || w.Proposed {
		t.Errorf("widening = %+v", w)
	}
	if len(pr.Add[0].Uses) != 2 {
		t.Errorf("the group entry carries the evidence of its callers: %d uses", len(pr.Add[0].Uses))
	}
}

// TestLimit builds a callee with more callers than the limit allows and
// checks that the plan proposes the fewest group entries, then the ones
// letting in the fewest extra projects, and shows exactly what they let in.
func TestLimit(t *testing.T) {
	inv := &inventory.Inventory{Version: 1, GitLabVersion: "18.5"}
	inv.Projects = append(inv.Projects, &inventory.Project{Path: "shared/lib", ID: 1,
		JobTokenScope: scope(true, []inventory.Entry{{Path: "team-a/svc/s1", Policies: []string{"read_packages"}}})})
	var edges []graph.Edge
	add := func(p string, used bool) {
		inv.Projects = append(inv.Projects, &inventory.Project{Path: p, ID: len(inv.Projects) + 1})
		if used {
			edges = append(edges, edge(p, "shared/lib", access.PackagesRead))
		}
	}
	for i := 1; i <= 4; i++ {
		add(fmt.Sprintf("team-a/svc/s%d", i), true) // team-a/svc: 4 used, 0 extra
	}
	add("team-a/tools", false) // team-a: 4 used, 1 extra
	add("team-b/x1", true)
	add("team-b/x2", true)
	add("team-b/y", false)
	add("team-b/z", false) // team-b: 2 used, 2 extra
	ix := inventory.NewIndex(inv)
	g := graphOf(edges...)

	// 6 entries, limit 4: one group saving 2 suffices; team-a/svc (saves
	// 3, lets in nobody) beats team-a (1 extra) and team-b (2 extra).
	p := Compute(g, ix, nil, Options{ProjectLimit: 4})
	pr := project(t, p, "shared/lib")
	var groups []Entry
	for _, e := range pr.Add {
		if e.Type == GroupEntry {
			groups = append(groups, e)
		}
	}
	if paths(groups) != "group:team-a/svc[read_packages]" {
		t.Fatalf("proposed = %s; add = %s", paths(groups), paths(pr.Add))
	}
	w := groups[0].Widening
	if !w.Proposed || len(w.Extra) != 0 || strings.Join(w.Replaces, " ") != "team-a/svc/s1 team-a/svc/s2 team-a/svc/s3 team-a/svc/s4" {
		t.Errorf("widening = %+v", w)
	}
	if paths(pr.Remove) != "project:team-a/svc/s1[read_packages]" {
		t.Errorf("the replaced entry on the allowlist is removed: %s", paths(pr.Remove))
	}
	if n := len(stayingOf(pr)); n > 4 {
		t.Errorf("%d project entries stay; limit 4", n)
	}
	// Limit 1: 6 → 1 needs saving 5: no single group does (team-a saves 3
	// with tools, team-b 1), so two groups: team-a and team-b.
	p = Compute(g, ix, nil, Options{ProjectLimit: 1})
	pr = project(t, p, "shared/lib")
	groups = groups[:0]
	for _, e := range pr.Add {
		if e.Type == GroupEntry {
			groups = append(groups, e)
		}
	}
	if paths(groups) != "group:team-a[read_packages] group:team-b[read_packages]" {
		t.Errorf("proposed = %s", paths(groups))
	}
	if len(groups) == 2 && strings.Join(groups[1].Widening.Extra, " ") != "team-b/y team-b/z" {
		t.Errorf("team-b lets in exactly y and z: %+v", groups[1].Widening)
	}
	if !slices.ContainsFunc(p.Warnings, func(w Warning) bool { return strings.Contains(w.Text, "lets in 2 more project(s): team-b/y, team-b/z") }) {
		t.Errorf("the widening is loud: %v", p.Warnings)
	}
}

func stayingOf(pr Project) []string {
	var out []string
	for _, l := range [][]Entry{pr.Add, pr.Keep, pr.Update, pr.Unapproved} {
		for _, e := range l {
			if e.Type == ProjectEntry && e.CoveredBy == "" {
				out = append(out, e.Path)
			}
		}
	}
	return out
}

func TestLimitRespectsDeny(t *testing.T) {
	inv := &inventory.Inventory{Version: 1, GitLabVersion: "18.5"}
	inv.Projects = append(inv.Projects, &inventory.Project{Path: "shared/lib", ID: 1})
	var edges []graph.Edge
	for _, p := range []string{"g/a", "g/b", "g/c", "g/bad"} {
		inv.Projects = append(inv.Projects, &inventory.Project{Path: p, ID: len(inv.Projects) + 1})
		if p != "g/bad" {
			edges = append(edges, edge(p, "shared/lib", access.PackagesRead))
		}
	}
	ix := inventory.NewIndex(inv)
	p := Compute(graphOf(edges...), ix, nil, Options{ProjectLimit: 2})
	if !slices.ContainsFunc(p.Warnings, func(w Warning) bool { return strings.Contains(w.Text, "proposed group entry g ") }) {
		t.Fatalf("without deny the group g is proposed: %v", p.Warnings)
	}
	// With a trust file, the edges need approval; approve them all.
	tf := trustOf(t, ix, `edges:
  - {caller: g/a, callee: shared/lib, access: [packages-read], reason: x}
  - {caller: g/b, callee: shared/lib, access: [packages-read], reason: x}
  - {caller: g/c, callee: shared/lib, access: [packages-read], reason: x}
deny:
  - {callee: shared/lib, callers: [g/bad]}
`)
	p = Compute(graphOf(edges...), ix, tf, Options{ProjectLimit: 2})
	pr := project(t, p, "shared/lib")
	for _, e := range pr.Add {
		if e.Type == GroupEntry {
			t.Errorf("a group entry letting in a denied project is never proposed: %s", e.Path)
		}
	}
	if !slices.ContainsFunc(p.Warnings, func(w Warning) bool { return strings.Contains(w.Text, "exceed GitLab's limit of 2") }) {
		t.Errorf("the plan says it cannot fit: %v", p.Warnings)
	}
}

func TestWaves(t *testing.T) {
	ix := org("18.5", nil)
	tf := trustOf(t, ix, `edges:
  - {caller: apps/web, callee: libs/jslib, access: [packages-read], reason: x}
  - {caller: apps/deploy, callee: infra/tfstate, access: [terraform-state-write], reason: x}
waves:
  - {name: pilot, projects: [libs/jslib]}
`)
	g := graphOf(edge("apps/web", "libs/jslib", access.PackagesRead), edge("apps/deploy", "infra/tfstate", access.TerraformStateWrite))
	p := Compute(g, ix, tf, Options{})
	if project(t, p, "libs/jslib").Wave != "pilot" || project(t, p, "infra/tfstate").Wave != "" {
		t.Errorf("waves from trust.yaml")
	}
	if !slices.ContainsFunc(p.Warnings, func(w Warning) bool {
		return strings.Contains(w.Text, "in no wave") && strings.Contains(w.Text, "infra/tfstate")
	}) {
		t.Errorf("a project in no wave is reported: %v", p.Warnings)
	}
	p = Compute(g, ix, nil, Options{})
	if project(t, p, "libs/jslib").Wave == "" || p.Waves[len(p.Waves)-1].Name != "everything" {
		t.Errorf("suggested waves without trust: %+v", p.Waves)
	}
}

func TestStateDigest(t *testing.T) {
	mk := func(mod func(map[string]*inventory.Project)) string {
		return StateDigest(org("18.5", mod).Inventory())
	}
	base := mk(func(m map[string]*inventory.Project) {
		m["libs/jslib"].JobTokenScope = scope(true, []inventory.Entry{{Path: "apps/web", Policies: []string{"read_packages"}}})
	})
	if !strings.HasPrefix(base, "sha256:") || len(base) != 71 {
		t.Errorf("digest = %s", base)
	}
	same := mk(func(m map[string]*inventory.Project) {
		m["libs/jslib"].JobTokenScope = scope(true, []inventory.Entry{{Path: "apps/web", Policies: []string{"read_packages"}}})
		m["libs/jslib"].AuthLog = []inventory.AuthLogEntry{{Origin: "apps/web", LastAuthorizedAt: now}}
	})
	if same != base {
		t.Error("the authentication log does not change the allowlist state")
	}
	for name, mod := range map[string]func(map[string]*inventory.Project){
		"policy": func(m map[string]*inventory.Project) {
			m["libs/jslib"].JobTokenScope = scope(true, []inventory.Entry{{Path: "apps/web", Policies: []string{"read_jobs"}}})
		},
		"enabled": func(m map[string]*inventory.Project) {
			m["libs/jslib"].JobTokenScope = scope(false, []inventory.Entry{{Path: "apps/web", Policies: []string{"read_packages"}}})
		},
		"entry": func(m map[string]*inventory.Project) {
			m["libs/jslib"].JobTokenScope = scope(true, []inventory.Entry{{Path: "apps/web", Policies: []string{"read_packages"}}}, inventory.Entry{Path: "apps"})
		},
	} {
		if mk(mod) == base {
			t.Errorf("%s change must change the digest", name)
		}
	}
}

func TestDeterministic(t *testing.T) {
	ix := org("18.5", func(m map[string]*inventory.Project) {
		m["libs/jslib"].JobTokenScope = scope(true, []inventory.Entry{{Path: "data/etl"}, {Path: "apps/legacy"}})
		m["platform/base-images"].JobTokenScope = scope(false, nil, inventory.Entry{Path: "apps"}, inventory.Entry{Path: "data"})
	})
	g := graphOf(edge("apps/web", "libs/jslib", access.PackagesRead), edge("apps/api", "libs/jslib", access.ArtifactsRead),
		edge("apps/web", "platform/base-images", access.ContainerRead), edge("data/etl", "platform/base-images"))
	a := Compute(g, ix, nil, Options{Prune: true})
	for range 5 {
		if b := Compute(g, ix, nil, Options{Prune: true}); !reflect.DeepEqual(a, b) {
			t.Fatal("Compute is not deterministic")
		}
	}
	rows := a.Rows()
	for i := 1; i < len(rows); i++ {
		if rows[i-1].Callee > rows[i].Callee {
			t.Errorf("rows not sorted by callee")
		}
	}
}

// A project whose settings could not be read (a token below Maintainer)
// has an unknown state: no removal, no update, adds marked, and the plan
// has findings even when nothing else would change.
func TestUnknownState(t *testing.T) {
	ix := org("18.5", func(m map[string]*inventory.Project) {
		m["libs/jslib"].JobTokenScopeUnknown = true
		m["infra/tfstate"].JobTokenScope = scope(true, []inventory.Entry{{Path: "apps/deploy"}})
	})
	tf := trustOf(t, ix, `edges:
  - {caller: apps/web, callee: libs/jslib, access: [packages-read], reason: x}
  - {caller: apps/deploy, callee: infra/tfstate, reason: y}
deny:
  - {callee: libs/jslib, callers: [data/etl]}
`)
	g := graphOf(edge("apps/web", "libs/jslib", access.PackagesRead), edge("apps/deploy", "infra/tfstate"))
	p := Compute(g, ix, tf, Options{Prune: true})
	pr := project(t, p, "libs/jslib")
	if pr.State != StateUnknown || !pr.Unknown() {
		t.Fatalf("state = %q; want unknown", pr.State)
	}
	if len(pr.Remove)+len(pr.Update)+len(pr.Unapproved) != 0 {
		t.Errorf("an unknown allowlist gets no removal, update or unapproved entry: %+v", pr)
	}
	if got := paths(pr.Add); got != "project:apps/web[read_packages]" || !strings.Contains(pr.Add[0].Reason, "current allowlist unknown") {
		t.Errorf("add = %s %+v; want the add marked", got, pr.Add)
	}
	if !slices.ContainsFunc(p.Warnings, func(w Warning) bool {
		return w.Text == "libs/jslib: its allowlist is unknown, so the deny rule at trust.yaml:6 cannot be checked against it: plan with a Maintainer token"
	}) {
		t.Errorf("the unchecked deny rule must be named: %v", p.Warnings)
	}
	if known := project(t, p, "infra/tfstate"); known.State != StateKnown {
		t.Errorf("a read project is known: %q", known.State)
	}
	if p.Totals().Unknown != 1 || !p.Findings() {
		t.Errorf("totals = %+v, findings = %v", p.Totals(), p.Findings())
	}
	// Unknown alone is a finding: the plan cannot say the org is in order.
	ix = org("18.5", func(m map[string]*inventory.Project) {
		m["libs/jslib"].JobTokenScopeUnknown = true
	})
	ix.Inventory().InstanceEnforcesAllowlist = ptr(true) // nothing to enforce
	p = Compute(graphOf(edge("data/etl", "libs/jslib", access.PackagesRead)), ix, trustOf(t, ix, "deny:\n  - {callee: libs/jslib, callers: [data/etl]}\n"), Options{})
	if pr := project(t, p, "libs/jslib"); pr.Changes() || !pr.Unknown() || !p.Findings() {
		t.Errorf("changes=%v unknown=%v findings=%v", pr.Changes(), pr.Unknown(), p.Findings())
	}
	// The digest tells unknown from nothing configured.
	a := StateDigest(org("18.5", nil).Inventory())
	b := StateDigest(org("18.5", func(m map[string]*inventory.Project) { m["libs/jslib"].JobTokenScopeUnknown = true }).Inventory())
	if a == b {
		t.Error("the state digest must change when a project's state becomes unknown")
	}
}

// Lock-down is the default: every project in scope is enforced, called or
// not; only an unexpired open exception keeps one open.
func TestLockDown(t *testing.T) {
	ix := org("18.5", func(m map[string]*inventory.Project) {
		for _, p := range m {
			p.JobTokenScope = scope(false, nil)
		}
		m["data/reports"].JobTokenScope = scope(true, nil) // enforced already
	})
	tf := trustOf(t, ix, `edges:
  - {caller: apps/web, callee: libs/jslib, access: [packages-read], reason: x, expires: 2026-01-31}
open:
  - {project: apps/api, reason: public API docs pull from anywhere, owner: "@api", expires: 2027-03-31}
  - {project: infra/tfstate, reason: old, owner: "@ops", expires: 2026-01-31}
  - {project: data/reports, reason: x, owner: "@data"}
`)
	p := Compute(graphOf(edge("apps/web", "libs/jslib", access.PackagesRead)), ix, tf, Options{})
	// Nobody calls apps/deploy: locked, admitting only itself.
	if pr := project(t, p, "apps/deploy"); !pr.Enforce || !strings.Contains(pr.EnforceNote, "admits only the project itself") {
		t.Errorf("uncalled project: %+v", pr)
	}
	// The only approval of libs/jslib expired: still locked.
	if pr := project(t, p, "libs/jslib"); !pr.Enforce || len(pr.Add) != 0 || callers(pr.NeedsReview) != "apps/web" {
		t.Errorf("expired approval: %+v", pr)
	}
	if pr := project(t, p, "apps/api"); pr.Enforce || pr.Open == nil || pr.Open.Owner != "@api" ||
		pr.EnforceNote != "stays open: exception at trust.yaml:5: public API docs pull from anywhere (owner @api, until 2027-03-31); any project's job token may come in" {
		t.Errorf("open exception: %+v", pr)
	}
	if pr := project(t, p, "infra/tfstate"); !pr.Enforce || pr.Open != nil || !strings.Contains(pr.EnforceNote, "the open exception at trust.yaml:6 expired on 2026-01-31") {
		t.Errorf("expired open exception: %+v", pr)
	}
	// Archived projects run no jobs: not planned unless named. An
	// exception does not turn an enforced allowlist off: data/reports has
	// nothing to change.
	for _, pr := range p.Projects {
		if pr.Path == "apps/legacy" || pr.Path == "data/reports" {
			t.Errorf("archived uncalled project planned: %+v", pr)
		}
	}
	if p.Instance != nil {
		t.Errorf("instance setting = %v; want unknown", *p.Instance)
	}
}
