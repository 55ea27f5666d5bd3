package gitlab_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
	"github.com/tokenscope/tokenscope/internal/inventory"
)

// scopeOf reads one project's job token scope back through the client.
func scopeOf(t *testing.T, c *gitlab.Client, path string, id int) *inventory.JobTokenScope {
	t.Helper()
	ctx := context.Background()
	v, err := c.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	jt, err := c.ReadJobTokens(ctx, []*inventory.Project{{Path: path, ID: id}}, v, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := jt.Scopes[path]
	if s == nil {
		t.Fatalf("no scope for %s: %+v", path, jt.Problems)
	}
	return s
}

func paths(es []inventory.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Path)
	}
	slices.Sort(out)
	return out
}

// Every write against the simulator, by REST (IDs known) and by path
// (GraphQL), and GitLab's answer when the change is already made.
func TestWrites(t *testing.T) {
	s, err := sim.Load(acme(t), sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := client(t, srv.URL, gitlab.Options{})
	ctx := context.Background()
	jslib := gitlab.Ref{ID: 201, Path: "libs/jslib"}
	byPath := gitlab.Ref{Path: "libs/jslib"}
	web, api := gitlab.Ref{ID: 301, Path: "apps/web"}, gitlab.Ref{Path: "apps/api"}
	data := gitlab.Ref{Path: "data"}

	for _, w := range []func() error{
		func() error { return c.AddAllowlistEntry(ctx, jslib, web, false) },  // REST
		func() error { return c.AddAllowlistEntry(ctx, byPath, api, false) }, // GraphQL
		func() error { return c.AddAllowlistEntry(ctx, byPath, data, true) }, // GraphQL, group
		func() error {
			return c.UpdateAllowlistPolicies(ctx, jslib, web, []string{"read_jobs", "read_packages"})
		},
		func() error { return c.EnforceAllowlist(ctx, jslib) },
	} {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	sc := scopeOf(t, c, "libs/jslib", 201)
	if !sc.InboundEnabled || !slices.Equal(paths(sc.Allowlist.Projects), []string{"apps/api", "apps/web"}) || !slices.Equal(paths(sc.Allowlist.Groups), []string{"data"}) {
		t.Fatalf("after the writes: %+v", sc)
	}
	for _, e := range sc.Allowlist.Projects {
		if e.Path == "apps/web" && !slices.Equal(e.Policies, []string{"read_jobs", "read_packages"}) {
			t.Errorf("policies of apps/web: %v", e.Policies)
		}
	}

	// Twice: REST and GraphQL both answer with a text the plan's calls
	// list as done (internal/plan/calls.go).
	for _, err := range []error{c.AddAllowlistEntry(ctx, jslib, web, false), c.AddAllowlistEntry(ctx, byPath, api, false)} {
		var ae *gitlab.APIError
		if !errors.As(err, &ae) || !strings.Contains(ae.Msg, "already in the job token") {
			t.Errorf("second add: %v", err)
		}
	}

	for _, w := range []func() error{
		func() error { return c.RemoveAllowlistEntry(ctx, jslib, web, false) },  // REST
		func() error { return c.RemoveAllowlistEntry(ctx, byPath, api, false) }, // GraphQL, direction INBOUND
		func() error { return c.RemoveAllowlistEntry(ctx, byPath, data, true) }, // GraphQL, group
	} {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	sc = scopeOf(t, c, "libs/jslib", 201)
	if len(sc.Allowlist.Projects)+len(sc.Allowlist.Groups) != 0 {
		t.Errorf("after the removals: %+v", sc)
	}
	if err := c.RemoveAllowlistEntry(ctx, byPath, api, false); err == nil || !strings.Contains(err.Error(), "is not in the job token scope") {
		t.Errorf("second removal: %v", err)
	}
}

// A failed write never carries the token.
func TestWriteErrorsRedacted(t *testing.T) {
	s, err := sim.Load(acme(t), sim.Options{Tokens: []sim.Token{{Value: token, Role: sim.RoleDeveloper}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := client(t, srv.URL, gitlab.Options{})
	err = c.EnforceAllowlist(context.Background(), gitlab.Ref{ID: 201, Path: "libs/jslib"})
	if err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("err = %v", err)
	}
}
