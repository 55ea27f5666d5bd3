package gitlab

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/gitlab/schema"
)

// Every document the client sends validates against the schema and stays
// within GitLab's depth limit.
func TestQueriesValidate(t *testing.T) {
	files, err := fs.Glob(queryFS, "queries/*.graphql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no queries: %v", err)
	}
	for _, f := range files {
		data, _ := fs.ReadFile(queryFS, f)
		doc, err := schema.Validate(f, string(data))
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if len(doc.Operations) != 1 {
			t.Errorf("%s: %d operations; want one per file", f, len(doc.Operations))
		}
		if d, _ := schema.Depth(doc, ""); d > schema.MaxDepthAuthenticated {
			t.Errorf("%s: depth %d > %d", f, d, schema.MaxDepthAuthenticated)
		}
		if !strings.HasPrefix(string(data), "#") {
			t.Errorf("%s: starts without a comment saying what it is for", f)
		}
	}
	for _, name := range []string{qTreesAndFiles, qFiles, qTreePage, qJobTokenSettings, qJobTokenSettings179, qAuthLogs, qAuthLogPage, qAddEntry, qRemoveProject, qRemoveGroup, qUpdatePolicies} {
		if _, err := getQuery(name); err != nil {
			t.Error(err)
		}
	}
}
