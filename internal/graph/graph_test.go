package graph

import (
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/use"
)

func testIndex() *inventory.Index {
	inv := &inventory.Inventory{
		Version: 1,
		Groups:  []inventory.Group{{Path: "libs", ID: 20}},
		Projects: []*inventory.Project{
			{Path: "apps/web", ID: 301},
			{Path: "libs/jslib", ID: 201, AuthLog: []inventory.AuthLogEntry{
				{Origin: "apps/web", LastAuthorizedAt: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)},
				{Origin: "apps/legacy", LastAuthorizedAt: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)},
			}},
			{Path: "libs/pylib", ID: 202},
			{Path: "platform/base-images", ID: 103},
		},
	}
	return inventory.NewIndex(inv)
}

func TestResolve(t *testing.T) {
	ix := testIndex()
	for _, tc := range []struct {
		name   string
		target use.Target
		callee string
		reason string // substring
	}{
		{"full path", use.Target{Kind: use.Path, Value: "libs/jslib"}, "libs/jslib", ""},
		{"case-insensitive path", use.Target{Kind: use.Path, Value: "Libs/JSLib"}, "libs/jslib", ""},
		{"numeric id", use.Target{Kind: use.ID, Value: "202"}, "libs/pylib", ""},
		{"self id", use.Target{Kind: use.ID, Value: inventory.SelfID}, "apps/web", ""},
		{"registry image, longest prefix", use.Target{Kind: use.Image, Value: "platform/base-images/node"}, "platform/base-images", ""},
		{"unknown path", use.Target{Kind: use.Path, Value: "nope/x"}, "", "not in the inventory"},
		{"unknown id", use.Target{Kind: use.ID, Value: "999"}, "", "project ID 999"},
		{"unexpanded variable", use.Target{Kind: use.Path, Value: "${X}/y"}, "", "not known statically"},
		{"detector reason wins", use.Target{Kind: use.Path, Value: "libs/jslib", Reason: "variable X is not defined"}, "", "variable X"},
		{"group by id", use.Target{Kind: use.Group, Value: "20"}, "", "group-scoped: the endpoint of group libs"},
		{"instance", use.Target{Kind: use.Instance, Value: "npm packages by name"}, "", "instance-level"},
		{"image without project", use.Target{Kind: use.Image, Value: "other/thing"}, "", "registry path other/thing"},
	} {
		callee, reason := Resolve(ix, "apps/web", tc.target)
		if callee != tc.callee || (tc.reason == "") != (reason == "") || !strings.Contains(reason, tc.reason) {
			t.Errorf("%s: Resolve = %q, %q; want %q, reason containing %q", tc.name, callee, reason, tc.callee, tc.reason)
		}
	}
}

func TestBuild(t *testing.T) {
	ix := testIndex()
	ev := func(file string, line int) use.Evidence {
		return use.Evidence{Pos: loc.Pos{Project: "apps/web", File: file, Line: line}, Job: "build", Detail: "x"}
	}
	uses := []use.Use{
		{Origin: use.CIConfig, Access: access.PackagesRead, Caller: "apps/web", Target: use.Target{Kind: use.ID, Value: "201"}, Evidence: ev(".npmrc", 2)},
		{Origin: use.CIConfig, Access: access.ArtifactsRead, Caller: "apps/web", Target: use.Target{Kind: use.Path, Value: "libs/jslib"}, Evidence: ev(".gitlab-ci.yml", 9)},
		// the same use twice (two variants of a job) is kept once
		{Origin: use.CIConfig, Access: access.ArtifactsRead, Caller: "apps/web", Target: use.Target{Kind: use.Path, Value: "libs/jslib"}, Evidence: ev(".gitlab-ci.yml", 9)},
		{Origin: use.CIConfig, Access: access.ContainerWrite, Caller: "apps/web", Target: use.Target{Kind: use.Image, Value: "apps/web"}, Evidence: ev(".gitlab-ci.yml", 20)},
		{Origin: use.CIConfig, Access: access.RepositoryRead, Caller: "apps/web", Target: use.Target{Kind: use.Path, Value: "${REPO}", Reason: "variable REPO is not defined"}, Evidence: ev(".gitlab-ci.yml", 30)},
	}
	g := Build(ix, uses, nil)
	if len(g.Edges) != 2 {
		t.Fatalf("edges = %+v", g.Edges)
	}
	e, ok := g.Edge("apps/web", "libs/jslib")
	if !ok {
		t.Fatal("apps/web -> libs/jslib missing")
	}
	if got := kindsOf(e.Access); got != "artifacts-read,packages-read" {
		t.Errorf("access = %s", got)
	}
	if len(e.Uses) != 3 { // two static (deduplicated) + one auth-log
		t.Errorf("uses = %+v", e.Uses)
	}
	if o := e.Origins(); len(o) != 2 || o[0] != use.AuthLog || o[1] != use.CIConfig {
		t.Errorf("origins = %v", o)
	}
	legacy, ok := g.Edge("apps/legacy", "libs/jslib")
	if !ok || len(legacy.Access) != 0 || legacy.Uses[0].Origin != use.AuthLog {
		t.Errorf("auth-log-only edge = %+v, %v", legacy, ok)
	}
	if len(g.Notes) != 1 || g.Notes[0].Kind != use.OwnProject || g.Notes[0].Line != 20 {
		t.Errorf("notes = %+v", g.Notes)
	}
	if len(g.Unresolved) != 1 || g.Unresolved[0].Reference != "${REPO}" || g.Unresolved[0].Line != 30 {
		t.Errorf("unresolved = %+v", g.Unresolved)
	}
	// Sorted by caller then callee.
	if g.Edges[0].Caller != "apps/legacy" || g.Edges[1].Caller != "apps/web" {
		t.Errorf("order = %s, %s", g.Edges[0].Caller, g.Edges[1].Caller)
	}
}

func kindsOf(ks []access.Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ",")
}

// A reference in a template apps include from platform/ci-templates is
// fixed in that template: the unresolved row names the template's
// project and file, with the caller whose pipeline runs it (freedesktop's
// ci-templates are included by hundreds of projects). The caller's own
// file has no Caller.
func TestBuildUnresolvedInIncludedFile(t *testing.T) {
	ix := testIndex()
	tpl := use.Evidence{Pos: loc.Pos{Project: "platform/ci-templates", File: "templates/build.yml", Line: 12}, Job: "build", Detail: "x"}
	own := use.Evidence{Pos: loc.Pos{Project: "apps/web", File: ".gitlab-ci.yml", Line: 3}, Job: "lint", Detail: "x"}
	g := Build(ix, []use.Use{
		{Origin: use.CIConfig, Access: access.ContainerRead, Caller: "apps/web", Target: use.Target{Kind: use.Image, Value: "${FDO_IMAGE}", Reason: "variable FDO_IMAGE is not defined"}, Evidence: tpl},
		{Origin: use.CIConfig, Access: access.ContainerRead, Caller: "apps/web", Target: use.Target{Kind: use.Image, Value: "${X}", Reason: "variable X is not defined"}, Evidence: own},
		{Origin: use.CIConfig, Access: access.ContainerWrite, Caller: "apps/web", Target: use.Target{Kind: use.Image, Value: "apps/web"}, Evidence: tpl},
	}, nil)
	want := []use.Unresolved{
		{Pos: own.Pos, Job: "lint", Access: access.ContainerRead, Reference: "${X}", Reason: "variable X is not defined"},
		{Pos: tpl.Pos, Caller: "apps/web", Job: "build", Access: access.ContainerRead, Reference: "${FDO_IMAGE}", Reason: "variable FDO_IMAGE is not defined"},
	}
	if len(g.Unresolved) != 2 || g.Unresolved[0] != want[0] || g.Unresolved[1] != want[1] {
		t.Errorf("unresolved:\n got  %+v\n want %+v", g.Unresolved, want)
	}
	if len(g.Notes) != 1 || g.Notes[0].Project != "platform/ci-templates" || g.Notes[0].Caller != "apps/web" || g.Notes[0].RunBy() != "apps/web" {
		t.Errorf("own-project note = %+v", g.Notes)
	}
	if got := use.Owner(g.Unresolved[1].Project, g.Unresolved[1].Caller); got != "platform/ci-templates (for apps/web)" {
		t.Errorf("Owner = %q", got)
	}
}

// A reference with a known group and an unknown rest resolves when one
// project fits, and lists the candidates otherwise (freedesktop's
// $CI_SERVER_URL/$FDO_UPSTREAM_REPO-style references, here with a group).
func TestResolvePrefix(t *testing.T) {
	inv := &inventory.Inventory{Version: 1, Projects: []*inventory.Project{
		{Path: "platform/ci-templates", ID: 1}, {Path: "platform/build-scripts", ID: 2}, {Path: "platform/images/base", ID: 3},
		{Path: "tools/lint", ID: 4}, {Path: "tools/lint-config", ID: 5}, {Path: "apps/web", ID: 6},
	}}
	ix := inventory.NewIndex(inv)
	const undef = "variable NAME is not defined in the CI config (it may be a project, group or instance variable)"
	for _, tc := range []struct {
		name   string
		target use.Target
		callee string
		reason string // exact
	}{
		{"one project fits the suffix", use.Target{Kind: use.Path, Value: "platform/build-${NAME}", Reason: undef}, "platform/build-scripts", ""},
		{"several fit: listed", use.Target{Kind: use.Path, Value: "tools/${NAME}", Reason: undef}, "",
			undef + "; 2 projects under tools fit tools/${NAME}: tools/lint, tools/lint-config"},
		{"none fits", use.Target{Kind: use.Path, Value: "tools/x-${NAME}", Reason: undef}, "", undef + "; no project under tools fits tools/x-${NAME}"},
		{"no group before the variable: as before", use.Target{Kind: use.Path, Value: "${NAME}/web", Reason: undef}, "", undef},
		{"API segment, encoded", use.Target{Kind: use.Unknown, Value: "platform%2Fci-${NAME}", Reason: undef}, "platform/ci-templates", ""},
		{"registry path: the project owns image names below it", use.Target{Kind: use.Image, Value: "platform/images/${img}", Reason: undef}, "platform/images/base", ""},
		{"registry path under a group with several projects", use.Target{Kind: use.Image, Value: "platform/${img}", Reason: undef}, "",
			undef + "; 3 projects under platform fit platform/${img}: platform/build-scripts, platform/ci-templates, platform/images/base"},
		{"registry path inside a project", use.Target{Kind: use.Image, Value: "platform/ci-templates/${img}", Reason: undef}, "platform/ci-templates", ""},
		{"numeric id stays unresolved", use.Target{Kind: use.Unknown, Value: "${PID}", Reason: "variable PID is not defined"}, "", "variable PID is not defined"},
	} {
		callee, reason := Resolve(ix, "apps/web", tc.target)
		if callee != tc.callee || reason != tc.reason {
			t.Errorf("%s: Resolve = %q, %q\n want %q, %q", tc.name, callee, reason, tc.callee, tc.reason)
		}
	}
}
