package schema

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/vektah/gqlparser/v2/ast"
)

// cost is what GitLab charges for one field where it differs from the
// default of one plus the children. GitLab computes complexity in
// graphql-ruby's legacy mode with Types::BaseField#field_complexity:
//
//	complexity = children + resolver_complexity(args) (+1 if calls_gitaly)
//	complexity += complexity * min(first, last, max_page_size) * complexity_multiplier
//
// Resolvers::BaseResolver.resolver_complexity is 1 (+1 with sort, +5 with
// search) and its complexity_multiplier is 0.01 on connections (so a full
// page of 100 doubles the cost). Sources: app/graphql/types/base_field.rb,
// app/graphql/resolvers/base_resolver.rb, the resolvers named below.
type cost struct {
	gitaly     bool    // calls_gitaly: one more
	multiplier float64 // per-item multiplier of a resolver connection
	perItemArg string  // a list argument adding one per element (BlobsResolver: paths)
	searchArg  bool    // resolver counts +5 for search
	maxPage    int     // field max_page_size when not 100
}

var costs = map[string]cost{
	"Query.projects":                             {multiplier: 0.01, searchArg: true},                   // ProjectsResolver
	"Group.projects":                             {multiplier: 0.01, searchArg: true},                   // NamespaceProjectsResolver
	"Group.descendantGroups":                     {multiplier: 0.01, searchArg: true},                   // NestedGroupsResolver
	"Repository.rootRef":                         {gitaly: true},                                        // calls_gitaly
	"Repository.empty":                           {gitaly: true},                                        // calls_gitaly
	"Repository.exists":                          {gitaly: true},                                        // calls_gitaly
	"Repository.tree":                            {gitaly: true},                                        // TreeResolver, calls_gitaly
	"Repository.blobs":                           {gitaly: true, multiplier: 0.01, perItemArg: "paths"}, // BlobsResolver
	"Tree.blobs":                                 {gitaly: true},                                        // calls_gitaly
	"Project.ciJobTokenAuthLogs":                 {multiplier: 0.01},                                    // JobTokenAuthLogsResolver
	"CiJobTokenScopeAllowlist.projectsAllowlist": {maxPage: 200},                                        // PROJECT_LINK_DIRECTIONAL_LIMIT
	"CiJobTokenScopeAllowlist.groupsAllowlist":   {maxPage: 200},                                        // GROUP_LINK_LIMIT
}

// Complexity returns the complexity GitLab computes for the operation named
// op (or the only one) of doc with the given variables. Introspection
// fields (__typename) cost nothing, as in graphql-ruby.
func Complexity(doc *ast.QueryDocument, op string, vars map[string]any) (int, error) {
	o, err := operation(doc, op)
	if err != nil {
		return 0, err
	}
	s, err := Load()
	if err != nil {
		return 0, err
	}
	return selectionCost(s, o.SelectionSet, vars), nil
}

// Depth returns the nesting depth graphql-ruby's max_depth check sees: a
// top-level field is depth 1; fragments count as their fields.
func Depth(doc *ast.QueryDocument, op string) (int, error) {
	o, err := operation(doc, op)
	if err != nil {
		return 0, err
	}
	return selectionDepth(o.SelectionSet), nil
}

func operation(doc *ast.QueryDocument, name string) (*ast.OperationDefinition, error) {
	if name == "" {
		if len(doc.Operations) != 1 {
			return nil, fmt.Errorf("document has %d operations; name the one to measure", len(doc.Operations))
		}
		return doc.Operations[0], nil
	}
	o := doc.Operations.ForName(name)
	if o == nil {
		return nil, fmt.Errorf("no operation %q in the document", name)
	}
	return o, nil
}

// selectionCost charges, for each possible object type, the fields that
// apply to it, and takes the most expensive type (graphql-ruby scores
// abstract selections by their costliest possible type).
func selectionCost(s *ast.Schema, set ast.SelectionSet, vars map[string]any) int {
	perType := map[string]int{}
	var shared int
	var walk func(set ast.SelectionSet, on string)
	walk = func(set ast.SelectionSet, on string) {
		for _, sel := range set {
			switch n := sel.(type) {
			case *ast.Field:
				if n.Name == "__typename" || n.Definition == nil {
					continue
				}
				c := fieldCost(s, n, vars)
				if on == "" {
					shared += c
				} else {
					perType[on] += c
				}
			case *ast.InlineFragment:
				walk(n.SelectionSet, fragmentType(s, n.TypeCondition, on))
			case *ast.FragmentSpread:
				if n.Definition != nil {
					walk(n.Definition.SelectionSet, fragmentType(s, n.Definition.TypeCondition, on))
				}
			}
		}
	}
	walk(set, "")
	best := 0
	for _, c := range perType {
		best = max(best, c)
	}
	return shared + best
}

// fragmentType returns the concrete type a fragment narrows to, or "" when
// the fragment does not narrow (same type as the enclosing selection).
func fragmentType(s *ast.Schema, cond, outer string) string {
	if d := s.Types[cond]; d != nil && d.Kind == ast.Object {
		return cond
	}
	return outer
}

func fieldCost(s *ast.Schema, f *ast.Field, vars map[string]any) int {
	children := selectionCost(s, f.SelectionSet, vars)
	key := ""
	if f.ObjectDefinition != nil {
		key = f.ObjectDefinition.Name + "." + f.Name
	}
	c, ok := costs[key]
	if !ok {
		return 1 + children
	}
	args := f.ArgumentMap(vars)
	total := float64(children + 1)
	if c.searchArg && args["search"] != nil {
		total += 5
	}
	if c.perItemArg != "" {
		if l, ok := args[c.perItemArg].([]any); ok {
			total += float64(len(l))
		}
	}
	if c.gitaly {
		total++
	}
	if c.multiplier > 0 {
		limit := MaxPageSize
		if c.maxPage > 0 {
			limit = c.maxPage
		}
		for _, a := range []string{"first", "last"} {
			if n, ok := IntArg(args[a]); ok && n < limit {
				limit = n
			}
		}
		total += total * float64(limit) * c.multiplier
	}
	return int(math.Floor(total))
}

// IntArg reads an Int argument the way it arrives: int64 from a query
// literal (gqlparser), float64 or json.Number from decoded variables, int
// from Go callers. ok is false for anything else, null included.
func IntArg(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

func selectionDepth(set ast.SelectionSet) int {
	d := 0
	for _, sel := range set {
		switch n := sel.(type) {
		case *ast.Field:
			if n.Name == "__typename" {
				continue
			}
			d = max(d, 1+selectionDepth(n.SelectionSet))
		case *ast.InlineFragment:
			d = max(d, selectionDepth(n.SelectionSet))
		case *ast.FragmentSpread:
			if n.Definition != nil {
				d = max(d, selectionDepth(n.Definition.SelectionSet))
			}
		}
	}
	return d
}
