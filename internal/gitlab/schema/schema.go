package schema

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

//go:embed gitlab.graphql
var sdl string

// SDL returns the schema text.
func SDL() string { return sdl }

// GitLab's query limits (app/graphql/gitlab_schema.rb: DEFAULT_MAX_COMPLEXITY,
// AUTHENTICATED_MAX_COMPLEXITY, ADMIN_MAX_COMPLEXITY, DEFAULT_MAX_DEPTH,
// AUTHENTICATED_MAX_DEPTH, default_max_page_size).
const (
	MaxComplexityAnonymous     = 200
	MaxComplexityAuthenticated = 250
	MaxComplexityAdmin         = 300
	MaxDepthAnonymous          = 15
	MaxDepthAuthenticated      = 20
	MaxPageSize                = 100
	// MaxFullPaths is the most paths Query.projects(fullPaths:) accepts
	// (Resolvers::ProjectsResolver#validate_args!).
	MaxFullPaths = 50
)

// ComplexityError and DepthError format GitLab's (graphql-ruby's) messages
// for a refused query; the HTTP status stays 200.
func ComplexityError(got, limit int) string {
	return fmt.Sprintf("Query has complexity of %d, which exceeds max complexity of %d", got, limit)
}

// DepthError is graphql-ruby's message for a query nested too deep.
func DepthError(got, limit int) string {
	return fmt.Sprintf("Query has depth of %d, which exceeds max depth of %d", got, limit)
}

var (
	loadOnce sync.Once
	loaded   *ast.Schema
	loadErr  error
)

// Load parses the embedded schema. The result is shared and must not be
// modified.
func Load() (*ast.Schema, error) {
	loadOnce.Do(func() {
		loaded, loadErr = gqlparser.LoadSchema(&ast.Source{Name: "gitlab.graphql", Input: sdl})
		if loadErr != nil {
			loadErr = fmt.Errorf("load embedded GitLab schema: %w", loadErr)
		}
	})
	return loaded, loadErr
}

// Validate parses and validates a query document against the schema, as
// GitLab's GraphQL endpoint does before running anything. name is used in
// errors (a file name).
func Validate(name, query string) (*ast.QueryDocument, error) {
	s, err := Load()
	if err != nil {
		return nil, err
	}
	// nil rules: the full default rule set of the GraphQL spec.
	doc, errs := gqlparser.LoadQueryWithRules(s, query, nil)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", name, joinGQL(errs))
	}
	return doc, nil
}

func joinGQL(errs gqlerror.List) error {
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		msg := e.Message
		if len(e.Locations) > 0 {
			msg = fmt.Sprintf("line %d: %s", e.Locations[0].Line, msg)
		}
		msgs = append(msgs, msg)
	}
	return errors.New(strings.Join(msgs, "; "))
}
