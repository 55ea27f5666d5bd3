package gitlab

import (
	"embed"
	"fmt"
	"sync"

	"github.com/tokenscope/tokenscope/internal/gitlab/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

//go:embed queries/*.graphql
var queryFS embed.FS

// Query names: the files in queries/ without the extension.
const (
	qTreesAndFiles    = "project_trees_and_files"
	qFiles            = "project_files"
	qTreePage         = "project_tree_page"
	qJobTokenSettings = "job_token_settings"
	// qJobTokenSettings179 is for GitLab 17.9 (no autopopulated field).
	qJobTokenSettings179 = "job_token_settings_17_9"
	qAuthLogs            = "auth_logs"
	qAuthLogPage         = "auth_log_page"
)

// query is one embedded, validated GraphQL document.
type query struct {
	name string
	text string
	doc  *ast.QueryDocument
}

var (
	queriesOnce sync.Once
	queries     map[string]*query
	queriesErr  error
)

// loadQueries reads and validates every embedded document once.
func loadQueries() (map[string]*query, error) {
	queriesOnce.Do(func() {
		entries, err := queryFS.ReadDir("queries")
		if err != nil {
			queriesErr = err
			return
		}
		queries = map[string]*query{}
		for _, e := range entries {
			data, err := queryFS.ReadFile("queries/" + e.Name())
			if err != nil {
				queriesErr = err
				return
			}
			doc, err := schema.Validate(e.Name(), string(data))
			if err != nil {
				queriesErr = err
				return
			}
			name := e.Name()[:len(e.Name())-len(".graphql")]
			queries[name] = &query{name: name, text: string(data), doc: doc}
		}
	})
	return queries, queriesErr
}

// getQuery returns the named document; a missing one is a programming error
// caught by the tests.
func getQuery(name string) (*query, error) {
	qs, err := loadQueries()
	if err != nil {
		return nil, err
	}
	q, ok := qs[name]
	if !ok {
		return nil, fmt.Errorf("no embedded GraphQL query %q", name)
	}
	return q, nil
}
