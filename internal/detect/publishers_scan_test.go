package detect_test

import (
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/detect"
	"github.com/tokenscope/tokenscope/internal/discovery"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/inventory"
)

// The scan pipeline with ResolvePublishers between discovery and the
// graph (the hook discovery.Scan is to make): a Composer install from
// group 42's endpoint becomes an edge to the project that publishes the
// required package; without the step it is a group-scoped unresolved row.
func TestPublishersInTheScan(t *testing.T) {
	inv := &inventory.Inventory{
		ServerURL: "https://git.example.org",
		Groups:    []inventory.Group{{Path: "acme", ID: 42}},
		Projects:  []*inventory.Project{{Path: "acme/shop", ID: 1}, {Path: "acme/php/billing", ID: 2}, {Path: "acme/php/mailer", ID: 3}},
	}
	files := detect.MemFiles{
		"acme/shop:.gitlab-ci.yml": "test:\n  script:\n    - composer config gitlab-token.git.example.org gitlab-ci-token \"$CI_JOB_TOKEN\"\n    - composer install\n",
		"acme/shop:composer.json": `{"name": "acme/shop",
 "repositories": [{"type": "composer", "url": "https://git.example.org/api/v4/group/42/-/packages/composer/packages.json"}],
 "require": {"acme/billing": "^2.0", "symfony/console": "^7.0"}}`,
		"acme/php/billing:composer.json": `{"name": "acme/billing"}`,
		"acme/php/mailer:composer.json":  `{"name": "acme/mailer"}`,
	}
	ix := inventory.NewIndex(inv)
	res, err := discovery.DiscoverFiles(t.Context(), inv, files, discovery.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	before := graph.Build(ix, res.Uses, nil)
	if len(before.Edges) != 0 || len(before.Unresolved) != 1 || !strings.Contains(before.Unresolved[0].Reason, "group-scoped") {
		t.Fatalf("without the step: edges %+v, unresolved %+v", before.Edges, before.Unresolved)
	}
	after := graph.Build(ix, detect.ResolvePublishers(ix, files, res.Uses), nil)
	if len(after.Edges) != 1 || after.Edges[0].Caller != "acme/shop" || after.Edges[0].Callee != "acme/php/billing" || len(after.Unresolved) != 0 {
		t.Fatalf("with the step: edges %+v, unresolved %+v", after.Edges, after.Unresolved)
	}
}
