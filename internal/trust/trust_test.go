package trust

import (
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/use"
)

func testIndex() *inventory.Index {
	return inventory.NewIndex(&inventory.Inventory{
		Version: 1,
		Groups:  []inventory.Group{{Path: "apps", ID: 30}, {Path: "libs", ID: 20}},
		Projects: []*inventory.Project{
			{Path: "apps/web", ID: 301}, {Path: "apps/api", ID: 302}, {Path: "apps/deploy", ID: 303},
			{Path: "libs/jslib", ID: 201}, {Path: "infra/tfstate", ID: 401}, {Path: "platform/base-images", ID: 103},
		},
	})
}

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

const good = `version: 1
edges:
  - caller: apps/web
    callee: libs/jslib
    access: [packages-read, artifacts-read]
    reason: web consumes the design-system package
    owner: "@frontend"
    expires: 2027-06-30
  - caller: Apps/Deploy
    callee: infra/tfstate
    access: [terraform-state-write]
    reason: deploys
groups:
  - callee: platform/base-images
    caller_group: apps
    reason: every app builds on the base images
deny:
  - {callee: infra/tfstate, except: [apps/deploy]}
waves:
  - {name: pilot, projects: [libs/jslib]}
  - {name: platform, groups: [apps]}
  - {name: everything, all: true}
`

func TestLoadGood(t *testing.T) {
	f, diags := Load("trust.yaml", []byte(good), LoadOptions{Index: testIndex(), Now: now})
	if len(diags) != 0 {
		t.Fatalf("diagnostics on a good file:\n%v", diags)
	}
	e, ok := f.Approval("apps/deploy", "infra/tfstate")
	if !ok || e.Caller != "apps/deploy" || e.Line != 9 {
		t.Errorf("approval = %+v, %v; want canonical path apps/deploy at line 9", e, ok)
	}
	web, _ := f.Approval("apps/web", "libs/jslib")
	if got := web.Access; len(got) != 2 || got[0] != access.ArtifactsRead || web.Expires.Format(time.DateOnly) != "2027-06-30" || web.Expired {
		t.Errorf("edge = %+v", web)
	}
	if d := f.DenyRules("infra/tfstate"); len(d) != 1 || !d[0].Denies("apps/web") || d[0].Denies("apps/deploy") || d[0].Denies("infra/tfstate") {
		t.Errorf("deny = %+v", d)
	}
	if w, _ := f.WaveOf("apps/api"); w.Name != "platform" {
		t.Errorf("wave of apps/api = %q", w.Name)
	}
	if w, _ := f.WaveOf("data/etl"); w.Name != "everything" {
		t.Errorf("wave of data/etl = %q", w.Name)
	}
}

// TestLoadMistakes checks that every mistake is reported with its line,
// all of them in one pass.
func TestLoadMistakes(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		want []string // "line: severity: substring"
	}{
		{"unknown access kind", "version: 1\nedges:\n  - caller: apps/web\n    callee: libs/jslib\n    access: [packages-read, npm-read]\n    reason: x\n",
			[]string{`5: error: unknown access kind "npm-read"`}},
		{"unknown project and group", "version: 1\nedges:\n  - caller: apps/nope\n    callee: libs/jslib\n    reason: x\ngroups:\n  - {callee: libs/jslib, caller_group: app, reason: x}\n",
			[]string{"3: error: caller: unknown project apps/nope (not in the inventory; if it is archived, snapshot with --include-archived)",
				"7: error: caller_group: unknown group app (not in the inventory; did you mean apps?"}},
		{"unknown name suggests the nearest", "version: 1\nedges:\n  - {caller: apps/wbe, callee: libs/jslib, reason: x}\n",
			[]string{"3: error: caller: unknown project apps/wbe (not in the inventory; did you mean apps/web?; if it is archived, snapshot with --include-archived)"}},
		{"caller equals callee", "version: 1\nedges:\n  - {caller: libs/jslib, callee: LIBS/jslib, reason: x}\n",
			[]string{"3: error: caller and callee are both libs/jslib"}},
		{"duplicate edge", "version: 1\nedges:\n  - {caller: apps/web, callee: libs/jslib, reason: x}\n  - {caller: apps/web, callee: libs/jslib, reason: y}\n",
			[]string{"4: error: duplicate edge apps/web → libs/jslib (first at line 3)"}},
		{"expired is a warning", "version: 1\nedges:\n  - {caller: apps/web, callee: libs/jslib, reason: x, access: [packages-read], expires: 2026-11-28}\n",
			[]string{"3: warning: apps/web → libs/jslib: approval expired on 2026-11-28"}},
		{"unknown field", "version: 1\nedges:\n  - caller: apps/web\n    calee: libs/jslib\n    reason: x\n",
			[]string{`4: error: unknown field "calee" in an edge`, "3: error: edge: callee is required"}},
		{"missing reason and placeholder owner", "version: 1\nedges:\n  - {caller: apps/web, callee: libs/jslib, access: [packages-read], owner: TODO}\n",
			[]string{"3: error: apps/web → libs/jslib: reason is required", "3: warning: apps/web → libs/jslib: owner is still the draft placeholder"}},
		{"bad version", "version: 2\n", []string{`1: error: version "2" is not supported`}},
		{"no version", "edges: []\n", []string{`1: error: missing "version: 1"`}},
		{"syntax error", "version: 1\nedges:\n  - caller: [x\n", []string{"error:"}},
		{"bad date", "version: 1\nedges:\n  - {caller: apps/web, callee: libs/jslib, reason: x, expires: soon}\n", []string{`3: error: expires "soon" is not a date`}},
		{"deny with both lists", "version: 1\ndeny:\n  - {callee: infra/tfstate, except: [apps/deploy], callers: [apps/web]}\n",
			[]string{"3: error: deny rule for infra/tfstate: give either except"}},
		{"denied approval warns", "version: 1\nedges:\n  - {caller: apps/web, callee: infra/tfstate, access: [terraform-state-read], reason: x}\ndeny:\n  - {callee: infra/tfstate, except: [apps/deploy]}\n",
			[]string{"3: warning: edge apps/web → infra/tfstate is denied by the deny rule at line 5"}},
		{"group is not a project", "version: 1\nedges:\n  - {caller: apps, callee: libs/jslib, reason: x}\n",
			[]string{"3: error: caller: apps is a group, not a project"}},
		{"waves", "version: 1\nwaves:\n  - {name: a, projects: [libs/jslib]}\n  - {name: a, all: true}\n  - {name: b}\n  - {name: c, all: true}\n  - {name: d, projects: [apps/web]}\n",
			[]string{`4: error: duplicate wave "a"`, `5: error: wave "b" names no projects`, `7: warning: wave "d" comes after wave "c"`}},
		{"not a list", "version: 1\nedges: {caller: x}\n", []string{"2: error: edges must be a list"}},
		{"open exceptions", "version: 1\nopen:\n  - {project: apps/nope, reason: x, owner: a}\n  - {project: apps/web, owner: a}\n  - {project: libs/jslib, reason: x}\n  - {project: apps/api, reason: x, owner: a, expires: 2026-01-01}\n  - {project: apps/api, reason: y, owner: b}\n  - {project: apps/deploy, reasn: x, owner: a}\n",
			[]string{"3: error: project: unknown project apps/nope", "4: error: open apps/web: reason is required", "5: error: open exception: owner is required",
				"6: warning: open apps/api: approval expired on 2026-01-01", "7: error: duplicate open exception for apps/api (first at line 6)",
				`8: error: unknown field "reasn" in an open exception`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Load("trust.yaml", []byte(tc.file), LoadOptions{Index: testIndex(), Now: now})
			for _, w := range tc.want {
				if !hasDiag(diags, w) {
					t.Errorf("missing %q in:\n%s", w, diagText(diags))
				}
			}
		})
	}
}

func hasDiag(diags diag.List, want string) bool {
	for _, d := range diags {
		if strings.Contains(d.String(), "trust.yaml:"+want) || (strings.HasPrefix(want, "error:") && d.Severity == diag.Error) {
			return true
		}
	}
	return false
}

func diagText(diags diag.List) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.String() + "\n")
	}
	return b.String()
}

func TestOpenException(t *testing.T) {
	f, diags := Load("trust.yaml", []byte("version: 1\nopen:\n  - {project: APPS/web, reason: public docs, owner: \"@web\", expires: 2027-01-31}\n"), LoadOptions{Index: testIndex(), Now: now})
	if len(diags) != 0 {
		t.Fatal(diagText(diags))
	}
	o, ok := f.OpenException("apps/web")
	if !ok || o.Project != "apps/web" || o.Reason != "public docs" || o.Owner != "@web" || o.Expires.Format(time.DateOnly) != "2027-01-31" || o.Expired || o.Line != 3 {
		t.Errorf("open = %+v, %v", o, ok)
	}
	if _, ok := f.OpenException("apps/api"); ok {
		t.Error("only the named project is open")
	}
}

func TestExpiredApprovalStopsCounting(t *testing.T) {
	file := "version: 1\nedges:\n  - {caller: apps/web, callee: libs/jslib, access: [packages-read], reason: x, expires: 2026-11-29}\n"
	f, diags := Load("t.yaml", []byte(file), LoadOptions{Now: now})
	if e, _ := f.Approval("apps/web", "libs/jslib"); e.Expired || len(diags) != 0 {
		t.Errorf("valid through its expiry day: %+v %v", e, diags)
	}
	f, _ = Load("t.yaml", []byte(file), LoadOptions{Now: now.AddDate(0, 0, 1)})
	if e, _ := f.Approval("apps/web", "libs/jslib"); !e.Expired {
		t.Errorf("expired the day after: %+v", e)
	}
}

func TestUnreviewedMarker(t *testing.T) {
	file := `version: 1
edges:
  - {caller: apps/web, callee: libs/jslib, access: [packages-read], reason: x, unreviewed: true}
  - {caller: apps/api, callee: libs/jslib, access: [packages-read], reason: x, unreviewed: false}
  - {caller: apps/deploy, callee: libs/jslib, access: [packages-read], reason: x}
groups:
  - {callee: platform/base-images, caller_group: apps, reason: x, unreviewed: true}
`
	f, diags := Load("t.yaml", []byte(file), LoadOptions{Index: testIndex(), Now: now})
	if len(diags) != 0 {
		t.Fatalf("a marker is not a mistake: %s", diagText(diags))
	}
	web, _ := f.Approval("apps/web", "libs/jslib")
	api, _ := f.Approval("apps/api", "libs/jslib")
	deploy, _ := f.Approval("apps/deploy", "libs/jslib")
	if !web.Unreviewed || web.Counts() {
		t.Errorf("unreviewed: true must not count: %+v", web)
	}
	if api.Unreviewed || !api.Counts() || deploy.Unreviewed || !deploy.Counts() {
		t.Errorf("unreviewed: false and no marker both count: %+v %+v", api, deploy)
	}
	if g := f.GroupGrants("platform/base-images"); len(g) != 1 || !g[0].Unreviewed || g[0].Counts() {
		t.Errorf("group grant marker: %+v", g)
	}
	want := []Pending{{Line: 3, What: "apps/web → libs/jslib"}, {Line: 7, What: "group apps → platform/base-images"}}
	if got := f.Unreviewed(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Unreviewed() = %+v, want %+v", got, want)
	}
	_, diags = Load("t.yaml", []byte("version: 1\nedges:\n  - {caller: apps/web, callee: libs/jslib, reason: x, unreviewed: maybe}\n"), LoadOptions{})
	if !diags.HasErrors() || !strings.Contains(diagText(diags), "t.yaml:3: error: unreviewed must be true or false") {
		t.Errorf("a marker that is not a boolean is an error with its line: %s", diagText(diags))
	}
}

func TestDenyGroups(t *testing.T) {
	except := Deny{Callee: "infra/tfstate", Except: []string{"apps/deploy"}}
	if !except.DeniesGroup("apps", []string{"apps/deploy", "apps/web"}) || except.DeniesGroup("apps", []string{"apps/deploy"}) {
		t.Error("an except rule denies a group that holds any other project")
	}
	if !except.DeniesGroup("unknown", nil) {
		t.Error("a group of unknown membership may hold anyone")
	}
	callers := Deny{Callee: "infra/tfstate", Callers: []string{"sandbox"}}
	if !callers.Denies("sandbox/broken") || callers.Denies("apps/web") || !callers.DeniesGroup("sandbox/sub", nil) || callers.DeniesGroup("apps", nil) {
		t.Error("a callers rule denies exactly those projects and groups")
	}
}

func sampleGraph() *graph.Graph {
	return &graph.Graph{
		Edges: []graph.Edge{
			{Caller: "apps/deploy", Callee: "infra/tfstate", Uses: []use.Use{{Origin: use.AuthLog, Evidence: use.Evidence{Pos: loc.Pos{Project: "infra/tfstate"}, Detail: "job token authentication log: last authorized 2026-11-27T22:01:13Z"}}}},
			{Caller: "apps/web", Callee: "libs/jslib", Access: []access.Kind{access.ArtifactsRead, access.PackagesRead}, Uses: []use.Use{
				{Origin: use.CIConfig, Access: access.PackagesRead, Evidence: use.Evidence{Pos: loc.Pos{Project: "apps/web", File: ".npmrc", Line: 2}, Detail: "npm registry projects/201 with _authToken=glpat-abcdefghijklmnop\nsecond line"}},
				{Origin: use.CIConfig, Access: access.ArtifactsRead, Evidence: use.Evidence{Pos: loc.Pos{Project: "apps/web", File: ".gitlab-ci.yml", Line: 24}, Job: "build", Detail: "needs:project libs/jslib"}},
			}},
			{Caller: "apps/web", Callee: "platform/base-images", Access: []access.Kind{access.ContainerRead, access.ContainerWrite}, Uses: []use.Use{
				{Origin: use.CIConfig, Access: access.ContainerWrite, Evidence: use.Evidence{Pos: loc.Pos{Project: "apps/web", File: ".gitlab-ci.yml", Line: 40}, Job: "push", Detail: "docker push registry.example.com/platform/base-images/node"}},
			}},
			{Caller: "data/reports", Callee: "apps/web", Access: []access.Kind{access.RepositoryWrite}, Uses: []use.Use{
				{Origin: use.CIConfig, Access: access.RepositoryWrite, Evidence: use.Evidence{Pos: loc.Pos{Project: "data/reports", File: ".gitlab-ci.yml", Line: 12}, Job: "publish", Detail: "git push"}},
			}},
		},
		Unresolved: []use.Unresolved{{Pos: loc.Pos{Project: "data/etl", File: ".gitlab-ci.yml", Line: 30}, Job: "fixtures", Access: access.RepositoryRead, Reference: "${FIXTURES_REPO}", Reason: "variable FIXTURES_REPO is not defined"}},
	}
}

func TestDraft(t *testing.T) {
	out := string(Draft(sampleGraph(), DraftOptions{Source: "examples/acme"}))
	for _, want := range []string{
		"  # apps/web -> libs/jslib\n  #   ci-config apps/web/.npmrc:2: packages-read npm registry projects/201 with _authToken=[MASKED] second line\n",
		"  #   ci-config apps/web/.gitlab-ci.yml:24 (job build): artifacts-read needs:project libs/jslib\n",
		"    access: [artifacts-read, packages-read]\n    reason: \"TODO: why apps/web needs libs/jslib\"\n    owner: TODO\n",
		"  #   access unknown: the authentication log does not say which",
		"  - caller: apps/deploy\n    callee: infra/tfstate\n    access: []\n",
		"  #   not drafted: container-write",
		"    access: [container-read]\n",
		"#   data/reports -> apps/web: repository-write\n",
		"#   data/etl .gitlab-ci.yml:30 (job fixtures): repository-read ${FIXTURES_REPO}\n#     variable FIXTURES_REPO is not defined\n",
		"waves:\n  - name: pilot\n    projects: [infra/tfstate]  # callers: 1\n",
		"  - name: everything\n    all: true\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("draft lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "glpat-") {
		t.Error("draft leaks a token")
	}
	if strings.Contains(out, "caller: data/reports") {
		t.Error("a job token can never push: the edge must not be drafted")
	}
	// The draft loads back: only placeholders and unnamed kinds warn.
	f, diags := Load("trust.yaml", []byte(out), LoadOptions{Now: now})
	if diags.HasErrors() {
		t.Fatalf("draft does not load:\n%s\n%s", diagText(diags), out)
	}
	if len(f.Edges) != 3 || len(f.Waves) != 4 {
		t.Errorf("loaded %d edges, %d waves", len(f.Edges), len(f.Waves))
	}
	// Every drafted edge is marked: a draft is not a review.
	for _, e := range f.Edges {
		if !e.Unreviewed || e.Counts() {
			t.Errorf("drafted edge %s → %s is not marked unreviewed", e.Caller, e.Callee)
		}
	}
	if n := len(f.Unreviewed()); n != 3 {
		t.Errorf("Unreviewed() = %d entries, want 3", n)
	}
	for _, d := range diags {
		if !strings.Contains(d.Summary, "placeholder") && !strings.Contains(d.Summary, "names no access kinds") {
			t.Errorf("unexpected diagnostic on a draft: %s", d)
		}
	}
	if again := string(Draft(sampleGraph(), DraftOptions{Source: "examples/acme"})); again != out {
		t.Error("draft is not deterministic")
	}
}

func TestDraftEmpty(t *testing.T) {
	out := Draft(&graph.Graph{}, DraftOptions{})
	f, diags := Load("t.yaml", out, LoadOptions{})
	if len(diags) != 0 || len(f.Edges) != 0 || len(f.Waves) != 1 {
		t.Errorf("empty draft: %v %+v\n%s", diags, f, out)
	}
}

func TestSuggestWaves(t *testing.T) {
	fan := map[string]int{"libs/a": 1, "libs/b": 4, "apps/x": 2, "apps/y": 2, "platform/z": 9, "data/w": 1, "infra/s": 3,
		"libs/c": 5, "data/v": 1, "infra/t": 1}
	w := SuggestWaves(fan)
	names := []string{}
	for _, x := range w {
		names = append(names, x.Name)
	}
	// 10 callees: a pilot of 2 (fewest callers, by path: both of data),
	// then the groups by their remaining callers (apps 4, infra 4,
	// platform 9, libs 10).
	if got := strings.Join(names, ","); got != "pilot,apps,infra,platform,libs,everything" {
		t.Errorf("waves = %s", got)
	}
	if got := strings.Join(w[0].Projects, ","); got != "data/v,data/w" {
		t.Errorf("pilot = %s", got)
	}
	if len(SuggestWaves(nil)) != 1 {
		t.Error("no callees: only the everything wave")
	}
}

func TestScalar(t *testing.T) {
	for in, want := range map[string]string{
		"apps/web": "apps/web", "TODO": "TODO", "yes": `"yes"`, "123": `"123"`, "a: b": `"a: b"`, "@frontend": `"@frontend"`, `x"y`: `"x\"y"`,
	} {
		if got := scalar(in); got != want {
			t.Errorf("scalar(%q) = %s; want %s", in, got, want)
		}
	}
}

// scopeIndex is an org read without archived projects and without the
// data group: apps/legacy-portal (archived) is named by GitLab on an
// allowlist and in an authentication log, data/etl only in a log.
func scopeIndex() *inventory.Index {
	return inventory.NewIndex(&inventory.Inventory{
		Version: 1,
		Projects: []*inventory.Project{
			{Path: "apps/web", ID: 301},
			{Path: "libs/jslib", ID: 201, JobTokenScope: &inventory.JobTokenScope{Allowlist: inventory.Allowlist{
				Projects: []inventory.Entry{{Path: "apps/legacy-portal", ID: 306}}}},
				AuthLog: []inventory.AuthLogEntry{{Origin: "apps/legacy-portal"}, {Origin: "data/etl"}}},
			{Path: "platform/build-scripts", ID: 102},
		},
	})
}

// TestLoadOutsideScope: names GitLab knows but the snapshot did not read
// are reported with the reason and the flag that reads them, not as
// unknown; an approval for a callee outside the scope is left out of the
// plan's lists; a deny rule never fails the file.
func TestLoadOutsideScope(t *testing.T) {
	file := `version: 1
edges:
  - {caller: apps/legacy-portal, callee: libs/jslib, access: [packages-read], reason: x}
  - {caller: apps/web, callee: data/etl, access: [packages-read], reason: x, unreviewed: true}
  - {caller: apps/web, callee: libs/jslib, access: [packages-read], reason: x}
groups:
  - {callee: libs/jslib, caller_group: data, access: [packages-read], reason: x}
deny:
  - {callee: platform/build-scripts, callers: [apps/legacy-portal, apps/gone, sandbox]}
  - {callee: data/warehouse, except: [apps/web]}
open:
  - {project: data/etl, reason: x, owner: a}
waves:
  - {name: pilot, projects: [apps/legacy-portal, libs/jslib]}
`
	f, diags := Load("trust.yaml", []byte(file), LoadOptions{Index: scopeIndex(), Now: now})
	if diags.HasErrors() {
		t.Fatalf("a file naming projects outside the scope must load without errors:\n%s", diagText(diags))
	}
	for _, w := range []string{
		"3: warning: edge apps/legacy-portal → libs/jslib: the caller apps/legacy-portal is outside the scope (GitLab names it on the allowlist of libs/jslib, but the snapshot did not read it: archived projects are skipped unless --include-archived); its entry is planned by path",
		"4: warning: edge apps/web → data/etl is not planned: the callee data/etl is outside the scope: GitLab names it in the authentication log of libs/jslib, but it is in group data, which was not read; snapshot with --group data to plan it",
		"7: warning: group grant data → libs/jslib: the caller_group data is outside the scope (group data was not read; snapshot with --group data to plan it); its entry is planned by path",
		"9: warning: deny rule for platform/build-scripts: callers apps/legacy-portal is outside the scope (GitLab names it",
		"9: warning: deny rule for platform/build-scripts: callers: unknown project apps/gone (not in the inventory; if it is archived, snapshot with --include-archived); the rule applies to that path only",
		"9: warning: deny rule for platform/build-scripts: callers sandbox is outside the scope (group sandbox was not read",
		"10: warning: deny rule for data/warehouse: callee data/warehouse is outside the scope (it is in group data, which was not read; snapshot with --group data to plan it); the rule has no allowlist to apply to in this plan",
		"12: warning: open data/etl is not planned: data/etl is outside the scope",
		`14: warning: wave "pilot": apps/legacy-portal is outside the scope, so in no wave of this plan`,
	} {
		if !hasDiag(diags, w) {
			t.Errorf("missing %q in:\n%s", w, diagText(diags))
		}
	}
	if len(f.Edges) != 2 || len(f.Groups) != 1 || len(f.Open) != 0 || len(f.Deny) != 2 {
		t.Errorf("edges %d, groups %d, open %d, deny %d; want 2, 1, 0, 2 (the callee outside is left out)", len(f.Edges), len(f.Groups), len(f.Open), len(f.Deny))
	}
	if len(f.Outside) != 2 || f.Outside[0].Line != 4 || f.Outside[1].What != "open data/etl" {
		t.Errorf("outside = %+v", f.Outside)
	}
	if p := f.OutsideUnreviewed(); len(p) != 1 || p[0].Line != 4 {
		t.Errorf("outside unreviewed = %+v, want line 4", p)
	}
	if !f.Deny[0].Denies("apps/legacy-portal") {
		t.Error("the deny rule must still deny the archived caller by path")
	}

	// With archived projects read, a name GitLab knows that is still
	// missing was deleted or moved; a typo is still an error.
	ix := scopeIndex()
	ix.Inventory().Projects = append(ix.Inventory().Projects, &inventory.Project{Path: "apps/old", ID: 399, Archived: true})
	_, diags = Load("trust.yaml", []byte("version: 1\nedges:\n  - {caller: apps/legacy-portal, callee: libs/jslib, access: [packages-read], reason: x}\n  - {caller: apps/olt, callee: libs/jslib, access: [packages-read], reason: x}\n"),
		LoadOptions{Index: inventory.NewIndex(ix.Inventory())})
	for _, w := range []string{
		"3: warning: edge apps/legacy-portal → libs/jslib: the caller apps/legacy-portal is outside the scope (GitLab names it on the allowlist of libs/jslib, but the snapshot, archived projects included, does not hold it: it was deleted or moved)",
		"4: error: caller: unknown project apps/olt (not in the inventory; did you mean apps/old?)",
	} {
		if !hasDiag(diags, w) {
			t.Errorf("missing %q in:\n%s", w, diagText(diags))
		}
	}
}
