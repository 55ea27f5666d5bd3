//lint:file-ignore SA1019 GitLab still embeds Group.projects by default; TestGroups checks it.

package sim_test

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
)

func TestVersionNeedsAuthentication(t *testing.T) {
	_, base := start(t, sim.Options{})
	c, rec := client(t, base, tokDev)
	v, _, err := c.Version.GetVersion()
	if err != nil || v.Version != "18.5.0" || v.Revision == "" {
		t.Fatalf("GetVersion = %+v, %v; want 18.5.0 with a revision", v, err)
	}
	if status, _ := rec.last(); status != 200 {
		t.Errorf("status %d", status)
	}

	anon, rec := client(t, base, "")
	if _, _, err := anon.Version.GetVersion(); err == nil {
		t.Error("anonymous GetVersion succeeded")
	}
	wantResponse(t, rec, 401, `{"message":"401 Unauthorized"}`)

	bad, rec := client(t, base, "glpat-not-a-token")
	if _, _, err := bad.Version.GetVersion(); err == nil {
		t.Error("GetVersion with an unknown token succeeded")
	}
	wantResponse(t, rec, 401, `{"message":"401 Unauthorized"}`)
}

// An invalid token is refused even where anonymous access works.
func TestInvalidTokenOnPublicProject(t *testing.T) {
	_, base := start(t, sim.Options{})
	anon, _ := client(t, base, "")
	if p, _, err := anon.Projects.GetProject("libs/jslib", nil); err != nil || p.ID != 201 {
		t.Fatalf("anonymous GetProject(public) = %v, %v", p, err)
	}
	bad, rec := client(t, base, "glpat-wrong")
	if _, _, err := bad.Projects.GetProject("libs/jslib", nil); err == nil {
		t.Error("GetProject with an invalid token succeeded")
	}
	wantResponse(t, rec, 401, `{"message":"401 Unauthorized"}`)
}

// Bearer tokens (OAuth and PAT alike) authenticate as PRIVATE-TOKEN does.
func TestBearerToken(t *testing.T) {
	_, base := start(t, sim.Options{})
	c, err := gitlab.NewAuthSourceClient(bearer(tokMaint), gitlab.WithBaseURL(base+"/api/v4"), gitlab.WithoutRetries())
	if err != nil {
		t.Fatal(err)
	}
	if s, _, err := c.JobTokenScope.GetProjectJobTokenAccessSettings(102); err != nil || !s.InboundEnabled {
		t.Fatalf("GetProjectJobTokenAccessSettings with Bearer = %+v, %v", s, err)
	}
}

// bearer authenticates with Authorization: Bearer.
type bearer string

func (bearer) Init(context.Context, *gitlab.Client) error { return nil }
func (b bearer) Header(context.Context) (string, string, error) {
	return "Authorization", "Bearer " + string(b), nil
}

// walkGroupProjects follows X-Next-Page like every client-go user does.
func walkGroupProjects(t *testing.T, c *gitlab.Client, group string, opt gitlab.ListGroupProjectsOptions) ([]string, []*gitlab.Response) {
	t.Helper()
	var paths []string
	var resps []*gitlab.Response
	opt.Page = 1
	for {
		ps, resp, err := c.Groups.ListGroupProjects(group, &opt)
		if err != nil {
			t.Fatalf("ListGroupProjects(%s, page %d): %v", group, opt.Page, err)
		}
		for _, p := range ps {
			paths = append(paths, p.PathWithNamespace)
		}
		resps = append(resps, resp)
		if resp.NextPage == 0 {
			return paths, resps
		}
		opt.Page = resp.NextPage
	}
}

func TestGroupProjectsPaginationWalk(t *testing.T) {
	_, base := start(t, sim.Options{})
	c, _ := client(t, base, tokMaint)
	paths, resps := walkGroupProjects(t, c, "libs", gitlab.ListGroupProjectsOptions{ListOptions: gitlab.ListOptions{PerPage: 20}})
	if len(paths) != genProjects+2 || len(resps) != 3 {
		t.Fatalf("walked %d projects in %d pages; want %d in 3", len(paths), len(resps), genProjects+2)
	}
	// Default order is created_at desc, which is ID order here.
	if paths[0] != "libs/gen-44" || paths[len(paths)-1] != "libs/jslib" {
		t.Errorf("order: first %s, last %s; want libs/gen-44 first (highest id), libs/jslib last", paths[0], paths[len(paths)-1])
	}
	first := resps[0]
	if first.TotalItems != 47 || first.TotalPages != 3 || first.ItemsPerPage != 20 || first.CurrentPage != 1 || first.NextPage != 2 || first.PreviousPage != 0 {
		t.Errorf("page 1 headers: total %d pages %d per %d current %d next %d prev %d",
			first.TotalItems, first.TotalPages, first.ItemsPerPage, first.CurrentPage, first.NextPage, first.PreviousPage)
	}
	link := first.Header.Get("Link")
	for _, want := range []string{`rel="next"`, `rel="first"`, `rel="last"`, "page=2", "per_page=20"} {
		if !strings.Contains(link, want) {
			t.Errorf("Link %q lacks %s", link, want)
		}
	}
	last := resps[2]
	if last.NextPage != 0 || last.PreviousPage != 2 || last.Header.Get("X-Next-Page") != "" {
		t.Errorf("last page: next %d prev %d X-Next-Page %q", last.NextPage, last.PreviousPage, last.Header.Get("X-Next-Page"))
	}
	// per_page is capped at 100, as on GitLab.
	_, resp, err := c.Groups.ListGroupProjects("libs", &gitlab.ListGroupProjectsOptions{ListOptions: gitlab.ListOptions{PerPage: 500}})
	if err != nil || resp.ItemsPerPage != 100 || resp.TotalPages != 1 {
		t.Errorf("per_page=500: %v, per page %d, pages %d; want 100 and 1", err, resp.ItemsPerPage, resp.TotalPages)
	}
}

func TestGroupProjectsFilters(t *testing.T) {
	_, base := start(t, sim.Options{})
	maint, _ := client(t, base, tokMaint)
	nobody, _ := client(t, base, tokNone)
	for _, tc := range []struct {
		name string
		c    *gitlab.Client
		opt  gitlab.ListGroupProjectsOptions
		want []string
	}{
		{"direct only", maint, gitlab.ListGroupProjectsOptions{}, []string{"apps/old", "apps/web"}},
		{"subgroups", maint, gitlab.ListGroupProjectsOptions{IncludeSubGroups: ptr(true)}, []string{"apps/old", "apps/team/api", "apps/web"}},
		{"not archived", maint, gitlab.ListGroupProjectsOptions{IncludeSubGroups: ptr(true), Archived: ptr(false)}, []string{"apps/team/api", "apps/web"}},
		{"archived only", maint, gitlab.ListGroupProjectsOptions{IncludeSubGroups: ptr(true), Archived: ptr(true)}, []string{"apps/old"}},
		{"non-member sees internal only", nobody, gitlab.ListGroupProjectsOptions{IncludeSubGroups: ptr(true)}, []string{"apps/team/api"}},
	} {
		paths, _ := walkGroupProjects(t, tc.c, "apps", tc.opt)
		slices.Sort(paths)
		if !slices.Equal(paths, tc.want) {
			t.Errorf("%s: %v; want %v", tc.name, paths, tc.want)
		}
	}
	// The full entity carries what snapshot needs; simple=true does not.
	ps, _, err := maint.Groups.ListGroupProjects("apps", &gitlab.ListGroupProjectsOptions{IncludeSubGroups: ptr(true), OrderBy: ptr("path"), Sort: ptr("asc")})
	if err != nil || len(ps) != 3 {
		t.Fatalf("ListGroupProjects: %v, %d", err, len(ps))
	}
	api := ps[0]
	if api.PathWithNamespace != "apps/team/api" || api.CIConfigPath != "ci/pipeline.yml" || api.DefaultBranch != "develop" || api.Visibility != gitlab.InternalVisibility || api.Namespace.FullPath != "apps/team" {
		t.Errorf("apps/team/api = %+v", api)
	}
	if ps[1].PathWithNamespace != "apps/old" || !ps[1].Archived {
		t.Errorf("apps/old = %s archived %v", ps[1].PathWithNamespace, ps[1].Archived)
	}
	simple, _, err := maint.Groups.ListGroupProjects("apps", &gitlab.ListGroupProjectsOptions{Simple: ptr(true), OrderBy: ptr("path"), Sort: ptr("asc")})
	if err != nil || len(simple) != 2 || simple[0].Archived || simple[0].Visibility != "" || simple[1].ID != 301 {
		t.Errorf("simple list = %v, %v", simple, err)
	}
}

// GET /groups/:id still embeds the group's projects by default; the test
// checks that deprecated behaviour on purpose.
func TestGroups(t *testing.T) {
	_, base := start(t, sim.Options{})
	c, rec := client(t, base, tokMaint)
	for _, key := range []any{30, "apps"} {
		g, _, err := c.Groups.GetGroup(key, nil)
		if err != nil || g.ID != 30 || g.FullPath != "apps" || len(g.Projects) != 2 {
			t.Errorf("GetGroup(%v) = %+v, %v", key, g, err)
		}
	}
	team, _, err := c.Groups.GetGroup("apps/team", &gitlab.GetGroupOptions{WithProjects: ptr(false)})
	if err != nil || team.ParentID != 30 || team.FullPath != "apps/team" || team.Projects != nil || team.ID == 0 {
		t.Errorf("GetGroup(apps/team) = %+v, %v", team, err)
	}
	if team.Visibility != gitlab.InternalVisibility {
		t.Errorf("apps/team visibility %s; want internal (its most visible project)", team.Visibility)
	}
	subs, _, err := c.Groups.ListSubGroups("apps", nil)
	if err != nil || len(subs) != 1 || subs[0].FullPath != "apps/team" {
		t.Errorf("ListSubGroups(apps) = %v, %v", subs, err)
	}
	desc, _, err := c.Groups.ListDescendantGroups("apps", nil)
	if err != nil || len(desc) != 1 || desc[0].FullPath != "apps/team" {
		t.Errorf("ListDescendantGroups(apps) = %v, %v", desc, err)
	}
	if _, _, err := c.Groups.GetGroup("nope", nil); err == nil {
		t.Error("unknown group found")
	}
	wantResponse(t, rec, 404, `{"message":"404 Group Not Found"}`)
	anon, rec := client(t, base, "")
	if _, _, err := anon.Groups.GetGroup("platform", nil); err == nil {
		t.Error("private group visible anonymously")
	}
	wantResponse(t, rec, 404, `{"message":"404 Group Not Found"}`)
	if g, _, err := anon.Groups.GetGroup("libs", nil); err != nil || len(g.Projects) != 1 {
		t.Errorf("public group libs anonymously = %v, %v; want it with its one public project", g, err)
	}
}

func TestProject(t *testing.T) {
	_, base := start(t, sim.Options{})
	dev, rec := client(t, base, tokDev)
	p, _, err := dev.Projects.GetProject("apps/web", nil)
	if err != nil || p.ID != 301 || p.DefaultBranch != "main" || p.EmptyRepo || p.Permissions == nil || p.Permissions.ProjectAccess == nil || p.Permissions.ProjectAccess.AccessLevel != gitlab.MaintainerPermissions {
		t.Fatalf("GetProject(apps/web) = %+v, %v", p, err)
	}
	// URLs come from GitLab's external_url (the org's server_url), not
	// from the address the client used.
	if p.WebURL != externalURL+"/apps/web" || p.HTTPURLToRepo != externalURL+"/apps/web.git" {
		t.Errorf("urls %s %s", p.WebURL, p.HTTPURLToRepo)
	}
	empty, _, err := dev.Projects.GetProject(202, nil)
	if err != nil || !empty.EmptyRepo || empty.DefaultBranch != "" {
		t.Errorf("libs/pylib = %+v, %v; want an empty repository without default branch", empty, err)
	}
	for _, key := range []any{"apps/nope", 99999} {
		if _, _, err := dev.Projects.GetProject(key, nil); err == nil {
			t.Errorf("GetProject(%v) found", key)
		}
		wantResponse(t, rec, 404, `{"message":"404 Project Not Found"}`)
	}
	nobody, rec := client(t, base, tokNone)
	if _, _, err := nobody.Projects.GetProject("apps/web", nil); err == nil {
		t.Error("private project visible to a non-member")
	}
	wantResponse(t, rec, 404, `{"message":"404 Project Not Found"}`)
}

func gitBlobID(content string) string {
	h := sha1.Sum([]byte(fmt.Sprintf("blob %d\x00%s", len(content), content)))
	return hex.EncodeToString(h[:])
}

func TestTree(t *testing.T) {
	_, base := start(t, sim.Options{})
	c, rec := client(t, base, tokMaint)
	var got []string
	opt := &gitlab.ListTreeOptions{Recursive: ptr(true), ListOptions: gitlab.ListOptions{PerPage: 3}}
	pages := 0
	var ids = map[string]string{}
	for {
		nodes, resp, err := c.Repositories.ListTree("platform/build-scripts", opt)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, n := range nodes {
			got = append(got, n.Type+":"+n.Path)
			ids[n.Path] = n.ID
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	want := []string{"tree:scripts", "tree:scripts/lib", "blob:.gitlab-ci.yml", "blob:README.md", "blob:scripts/build.sh", "blob:scripts/lib/binary.bin", "blob:scripts/lib/common.sh"}
	if !slices.Equal(got, want) || pages != 3 {
		t.Errorf("recursive tree in %d pages = %v; want %v in 3", pages, got, want)
	}
	if ids["scripts/build.sh"] != gitBlobID("#!/bin/sh\necho build\n") {
		t.Errorf("blob id %s is not the git blob SHA-1", ids["scripts/build.sh"])
	}
	nodes, _, err := c.Repositories.ListTree("platform/build-scripts", &gitlab.ListTreeOptions{Path: ptr("scripts"), Ref: ptr("main")})
	if err != nil || len(nodes) != 2 || nodes[0].Name != "lib" || nodes[0].Mode != "040000" || nodes[1].Path != "scripts/build.sh" {
		t.Errorf("tree of scripts = %v, %v", nodes, err)
	}
	for _, tc := range []struct {
		name    string
		project any
		c       *gitlab.Client
		opt     *gitlab.ListTreeOptions
		status  int
		body    string
	}{
		{"unknown ref", "platform/build-scripts", c, &gitlab.ListTreeOptions{Ref: ptr("feature")}, 404, `{"message":"404 Tree Not Found"}`},
		{"empty repository", "libs/pylib", c, nil, 404, `{"message":"404 Tree Not Found"}`},
	} {
		if _, _, err := tc.c.Repositories.ListTree(tc.project, tc.opt); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
		wantResponse(t, rec, tc.status, tc.body)
	}
	// A guest of a private project cannot read its code.
	guest, rec := client(t, base, tokGuest)
	if _, _, err := guest.Repositories.ListTree("platform/build-scripts", nil); err == nil {
		t.Error("guest listed a private repository")
	}
	wantResponse(t, rec, 403, `{"message":"403 Forbidden"}`)
}

func TestFiles(t *testing.T) {
	_, base := start(t, sim.Options{})
	c, rec := client(t, base, tokMaint)
	f, _, err := c.RepositoryFiles.GetFile("platform/build-scripts", "scripts/lib/common.sh", &gitlab.GetFileOptions{Ref: ptr("main")})
	if err != nil {
		t.Fatal(err)
	}
	content, _ := base64.StdEncoding.DecodeString(f.Content)
	if string(content) != "common() { :; }\n" || f.Encoding != "base64" || f.FileName != "common.sh" || f.FilePath != "scripts/lib/common.sh" || f.Size != 16 || f.BlobID != gitBlobID(string(content)) || f.Ref != "main" {
		t.Errorf("GetFile = %+v", f)
	}
	raw, _, err := c.RepositoryFiles.GetRawFile(102, ".gitlab-ci.yml", nil)
	if err != nil || string(raw) != "build:\n  script: [./scripts/build.sh]\n" {
		t.Errorf("GetRawFile = %q, %v", raw, err)
	}
	meta, _, err := c.RepositoryFiles.GetRawFileMetaData(102, ".gitlab-ci.yml", &gitlab.GetRawFileOptions{Ref: ptr("main")})
	if err != nil || meta.BlobID != gitBlobID(string(raw)) || meta.Size != int64(len(raw)) {
		t.Errorf("GetRawFileMetaData = %+v, %v", meta, err)
	}
	for _, tc := range []struct {
		name, file string
		ref        *string
		status     int
		body       string
	}{
		{"missing file", "nope.yml", ptr("main"), 404, `{"message":"404 File Not Found"}`},
		{"unknown ref", ".gitlab-ci.yml", ptr("feature"), 404, `{"message":"404 Commit Not Found"}`},
		{"ref is required", ".gitlab-ci.yml", nil, 400, `{"error":"ref is missing"}`},
		{"no climbing out", "../apps/web/.gitlab-ci.yml", ptr("main"), 404, `{"message":"404 File Not Found"}`},
	} {
		if _, _, err := c.RepositoryFiles.GetFile(102, tc.file, &gitlab.GetFileOptions{Ref: tc.ref}); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
		wantResponse(t, rec, tc.status, tc.body)
	}
}

func TestJobTrace(t *testing.T) {
	s, base := start(t, sim.Options{})
	c, rec := client(t, base, tokMaint)
	r, _, err := c.Jobs.GetTraceFile("apps/web", 4711)
	if err != nil {
		t.Fatal(err)
	}
	log, _ := io.ReadAll(r)
	if !strings.Contains(string(log), "Authentication by CI/CD job token not allowed from web to build-scripts.") {
		t.Errorf("trace = %q", log)
	}
	if _, _, err := c.Jobs.GetTraceFile("apps/web", 1); err == nil {
		t.Error("unknown job found")
	}
	wantResponse(t, rec, 404, `{"message":"404 Not Found"}`)
	if err := s.AddJobLog("libs/jslib", 7, "added\n"); err != nil {
		t.Fatal(err)
	}
	r, _, err = c.Jobs.GetTraceFile(201, 7)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "added\n" {
		t.Errorf("added trace = %q", b)
	}
	anon, rec := client(t, base, "")
	if _, _, err := anon.Jobs.GetTraceFile("libs/jslib", 7); err == nil {
		t.Error("anonymous trace read")
	}
	wantResponse(t, rec, 401, `{"message":"401 Unauthorized"}`)
}

func TestUnknownRoutes(t *testing.T) {
	_, base := start(t, sim.Options{})
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/api/v4/nope", 404, `{"error":"404 Not Found"}`},
		{"POST", "/api/v4/projects/102", 405, `{"error":"405 Not Allowed"}`},
		{"GET", "/elsewhere", 404, `{"error":"404 Not Found"}`},
	} {
		req, _ := http.NewRequest(tc.method, base+tc.path, nil)
		req.Header.Set("PRIVATE-TOKEN", tokMaint)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || strings.TrimSpace(string(body)) != tc.body {
			t.Errorf("%s %s = %d %s; want %d %s", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.body)
		}
	}
}
