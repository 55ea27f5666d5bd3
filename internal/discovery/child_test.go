package discovery

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/use"
)

// The example org's apps/web starts a child pipeline (ci/e2e.yml): its job
// is analysed as apps/web's, named after the trigger job, with evidence in
// the child's file and the trigger job's BROWSER_TAG overriding the
// child's own value.
func TestExampleChildPipeline(t *testing.T) {
	snap, _, err := inventory.Load(filepath.Join("..", "..", "examples", "acme"), inventory.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	g, _, err := Scan(context.Background(), snap, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var found []use.Use
	for _, e := range g.Edges {
		for _, u := range e.Uses {
			if u.Evidence.Job == "child:e2e > e2e-chrome" {
				found = append(found, u)
				if e.Caller != "apps/web" || e.Callee != "platform/base-images" || u.Access != "container-read" {
					t.Errorf("child use on %s -> %s: %+v", e.Caller, e.Callee, u)
				}
				if u.Evidence.Project != "apps/web" || u.Evidence.File != "ci/e2e.yml" || u.Evidence.Line != 7 {
					t.Errorf("evidence %+v, want apps/web ci/e2e.yml:7", u.Evidence)
				}
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d uses of the child pipeline's job, want 1", len(found))
	}
	if slices.ContainsFunc(g.Notes, func(n use.Note) bool { return n.Project == "apps/web" && n.Kind == use.NotFetched }) {
		t.Errorf("a child pipeline in the snapshot is read, not noted as not fetched")
	}
}
