package gitlab_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
	"github.com/tokenscope/tokenscope/internal/inventory"
)

// TestHostileNamesFromGitLab: a server (compromised, impersonated, or a
// proxy) that names a project or an allowlist entry with a path no GitLab
// could hold: the reader drops it with a problem, and the allowlist that
// holds it is read as unknown rather than partial.
func TestHostileNamesFromGitLab(t *testing.T) {
	bad := "g/x\necho pwned"
	inv := &inventory.Inventory{Version: 1, GitLabVersion: "18.5",
		Groups: []inventory.Group{{Path: "g", ID: 1}},
		Projects: []*inventory.Project{
			{Path: "g/web", ID: 10, JobTokenScope: &inventory.JobTokenScope{InboundEnabled: true,
				Allowlist: inventory.Allowlist{Projects: []inventory.Entry{{Path: bad, ID: 11}}}}},
			{Path: bad, ID: 11},
			{Path: "g/api", ID: 12},
		}}
	s, err := sim.New(inv, nil, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := client(t, srv.URL, gitlab.Options{})
	ctx := context.Background()
	l, err := c.ListGroups(ctx, []string{"g"}, false)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, p := range l.Projects {
		paths = append(paths, p.Path)
	}
	if strings.Join(paths, " ") != "g/api g/web" || len(l.Problems) != 1 || !strings.Contains(l.Problems[0].Summary, `"g/x\necho pwned"`) {
		t.Errorf("projects %q, problems %+v", paths, l.Problems)
	}
	v, err := c.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, rest := range []bool{false, true} {
		jt, err := c.ReadJobTokens(ctx, l.Projects, v, rest, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := jt.Scopes["g/web"]; ok || jt.Scopes["g/api"] == nil {
			t.Errorf("rest=%v: scopes %v: g/web's allowlist names a bad path and must be unknown", rest, jt.Scopes)
		}
		found := false
		for _, p := range jt.Problems {
			found = found || p.Project == "g/web" && strings.Contains(p.Summary, "allowlist entry")
		}
		if !found {
			t.Errorf("rest=%v: no problem for g/web: %+v", rest, jt.Problems)
		}
	}
}
