package sim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/tokenscope/tokenscope/internal/gitlab/schema"
)

// A small GraphQL executor over the org state: it walks a validated
// operation, asks the resolvers (gql_resolve.go) for each field, completes
// values by their schema type and propagates nulls as the GraphQL spec
// says. graphql-ruby's messages are used for the errors it produces.

// gqlObject is a value of a GraphQL object type.
type gqlObject interface {
	typeName() string
	// field resolves one field; args has defaults and variables applied.
	// A nil value with a nil error is null.
	field(ec *execCtx, f *ast.Field, args map[string]any) (any, error)
}

type gqlLoc struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

type gqlErr struct {
	Message    string         `json:"message"`
	Locations  []gqlLoc       `json:"locations,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// fieldError is a resolver error; GitLab raises them as
// GraphQL::ExecutionError (top-level "errors", the field null).
type fieldError struct{ msg string }

func (e *fieldError) Error() string { return e.msg }

// msgNotAvailable is Gitlab::Graphql::Authorize::AuthorizeResource's
// RESOURCE_ACCESS_ERROR.
const msgNotAvailable = "The resource that you are attempting to access does not exist or you don't have permission to perform this action"

func errNotAvailable() error { return &fieldError{msg: msgNotAvailable} }

type execCtx struct {
	s      *Server
	st     *state
	schema *ast.Schema
	doc    *ast.QueryDocument
	vars   map[string]any
	u      *user
	base   string // URL the client used, for webUrl
	errors []gqlErr
}

// ordered is a JSON object that keeps the order of the query's fields.
type ordered struct {
	keys []string
	vals []any
}

func (o *ordered) set(k string, v any) {
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

func (o *ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (ec *execCtx) addError(msg string, f *ast.Field, path []any) {
	ec.errors = append(ec.errors, gqlErr{Message: msg, Locations: locations(f.Position), Path: clonePath(path)})
}

func clonePath(p []any) []any { return append([]any(nil), p...) }

// execute runs op against root; data is nil when a null reached the root.
func (ec *execCtx) execute(op *ast.OperationDefinition, root gqlObject) any {
	o, ok := ec.selection(root, op.SelectionSet, nil)
	if !ok {
		return nil
	}
	return o
}

// fieldGroup is the fields sharing one response key.
type fieldGroup struct {
	key    string
	fields []*ast.Field
}

// collect implements CollectFields: fragments whose type condition
// applies, @skip and @include, fields merged by response key.
func (ec *execCtx) collect(set ast.SelectionSet, typeName string, groups []fieldGroup, seen map[string]int) []fieldGroup {
	for _, sel := range set {
		switch n := sel.(type) {
		case *ast.Field:
			if !ec.included(n.Directives) {
				continue
			}
			key := n.Alias
			if key == "" {
				key = n.Name
			}
			if i, ok := seen[key]; ok {
				groups[i].fields = append(groups[i].fields, n)
				continue
			}
			seen[key] = len(groups)
			groups = append(groups, fieldGroup{key: key, fields: []*ast.Field{n}})
		case *ast.InlineFragment:
			if ec.included(n.Directives) && ec.applies(n.TypeCondition, typeName) {
				groups = ec.collect(n.SelectionSet, typeName, groups, seen)
			}
		case *ast.FragmentSpread:
			fr := n.Definition
			if fr == nil {
				fr = ec.doc.Fragments.ForName(n.Name)
			}
			if fr != nil && ec.included(n.Directives) && ec.applies(fr.TypeCondition, typeName) {
				groups = ec.collect(fr.SelectionSet, typeName, groups, seen)
			}
		}
	}
	return groups
}

func (ec *execCtx) included(dirs ast.DirectiveList) bool {
	for _, d := range dirs {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		v, _ := d.ArgumentMap(ec.vars)["if"].(bool)
		if d.Name == "skip" && v || d.Name == "include" && !v {
			return false
		}
	}
	return true
}

func (ec *execCtx) applies(cond, typeName string) bool {
	if cond == "" || cond == typeName {
		return true
	}
	def := ec.schema.Types[cond]
	if def == nil {
		return false
	}
	for _, t := range ec.schema.GetPossibleTypes(def) {
		if t.Name == typeName {
			return true
		}
	}
	return false
}

// selection executes a selection set on obj. ok is false when a
// non-null field came back null and the object must become null.
func (ec *execCtx) selection(obj gqlObject, set ast.SelectionSet, path []any) (*ordered, bool) {
	tn := obj.typeName()
	def := ec.schema.Types[tn]
	out := &ordered{}
	for _, fg := range ec.collect(set, tn, nil, map[string]int{}) {
		f := fg.fields[0]
		fpath := append(clonePath(path), fg.key)
		if f.Name == "__typename" {
			out.set(fg.key, tn)
			continue
		}
		if strings.HasPrefix(f.Name, "__") {
			ec.addError("gitlab-sim: introspection ("+f.Name+") is not simulated; the schema is internal/gitlab/schema/gitlab.graphql", f, fpath)
			out.set(fg.key, nil)
			continue
		}
		fd := def.Fields.ForName(f.Name)
		if fd == nil {
			ec.addError(fmt.Sprintf("Field '%s' doesn't exist on type '%s'", f.Name, tn), f, fpath)
			out.set(fg.key, nil)
			continue
		}
		val, err := obj.field(ec, f, f.ArgumentMap(ec.vars))
		if err != nil {
			ec.addError(err.Error(), f, fpath)
			val = nil
		} else if isNull(val) && fd.Type.NonNull {
			ec.addError(fmt.Sprintf("Cannot return null for non-nullable field %s.%s", tn, f.Name), f, fpath)
		}
		cv, ok := ec.complete(fd.Type, fg.fields, val, fpath)
		if !ok {
			if fd.Type.NonNull {
				return nil, false
			}
			cv = nil
		}
		out.set(fg.key, cv)
	}
	return out, true
}

func isNull(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// complete turns a resolved value into its response form.
func (ec *execCtx) complete(typ *ast.Type, fields []*ast.Field, val any, path []any) (any, bool) {
	if isNull(val) {
		return nil, !typ.NonNull
	}
	if typ.Elem != nil {
		rv := reflect.ValueOf(val)
		if rv.Kind() != reflect.Slice {
			return nil, !typ.NonNull
		}
		out := make([]any, 0, rv.Len())
		for i := range rv.Len() {
			item := rv.Index(i).Interface()
			ipath := append(clonePath(path), i)
			if isNull(item) && typ.Elem.NonNull {
				ec.addError(fmt.Sprintf("Cannot return null for non-nullable element of type '%s'", typ.Elem.String()), fields[0], ipath)
				return nil, !typ.NonNull
			}
			cv, ok := ec.complete(typ.Elem, fields, item, ipath)
			if !ok {
				return nil, !typ.NonNull
			}
			out = append(out, cv)
		}
		return out, true
	}
	def := ec.schema.Types[typ.NamedType]
	if def == nil || def.Kind == ast.Scalar || def.Kind == ast.Enum {
		return val, true
	}
	obj, ok := val.(gqlObject)
	if !ok {
		return nil, !typ.NonNull
	}
	var set ast.SelectionSet
	for _, f := range fields {
		set = append(set, f.SelectionSet...)
	}
	o, ok := ec.selection(obj, set, path)
	if !ok {
		return nil, !typ.NonNull
	}
	return o, true
}

// --- connections ---

// connection is a page of a relay connection. GitLab paginates arrays
// with graphql-ruby's offset cursors; first and last are capped at the
// field's max page size without an error.
type connection struct {
	name    string // e.g. "ProjectConnection"
	nodes   []any
	offsets []int
	total   int
	start   int
	end     int
}

func encodeCursor(i int) string { return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(i))) }

func decodeCursor(c string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(b))
	return n, err == nil && n >= 0
}

// msgBadCursor is Gitlab::Graphql::Pagination's refusal of a cursor it
// did not issue.
const msgBadCursor = "Please provide a valid cursor"

func newConnection(name string, all []any, args map[string]any, maxPage int) (*connection, error) {
	start, end := 0, len(all)
	if a, ok := args["after"].(string); ok {
		i, good := decodeCursor(a)
		if !good {
			return nil, &fieldError{msg: msgBadCursor}
		}
		start = min(i+1, len(all))
	}
	if b, ok := args["before"].(string); ok {
		i, good := decodeCursor(b)
		if !good {
			return nil, &fieldError{msg: msgBadCursor}
		}
		end = max(min(i, end), start)
	}
	first, hasFirst := schema.IntArg(args["first"])
	last, hasLast := schema.IntArg(args["last"])
	if !hasFirst && !hasLast {
		first, hasFirst = maxPage, true
	}
	if hasFirst {
		end = min(end, start+clamp(first, maxPage))
	}
	if hasLast {
		start = max(start, end-clamp(last, maxPage))
	}
	c := &connection{name: name, total: len(all), start: start, end: end, nodes: make([]any, 0, end-start)}
	for i := start; i < end; i++ {
		c.nodes = append(c.nodes, all[i])
		c.offsets = append(c.offsets, i)
	}
	return c, nil
}

func clamp(n, maxPage int) int { return min(max(n, 0), maxPage) }

func (c *connection) typeName() string { return c.name }

func (c *connection) field(ec *execCtx, f *ast.Field, _ map[string]any) (any, error) {
	switch f.Name {
	case "count":
		return c.total, nil
	case "nodes":
		return c.nodes, nil
	case "edges":
		edges := make([]any, len(c.nodes))
		for i, n := range c.nodes {
			edges[i] = &edge{name: c.name[:len(c.name)-len("Connection")] + "Edge", cursor: encodeCursor(c.offsets[i]), node: n}
		}
		return edges, nil
	case "pageInfo":
		return &pageInfo{c: c}, nil
	}
	return nil, unknownField(c, f)
}

type edge struct {
	name, cursor string
	node         any
}

func (e *edge) typeName() string { return e.name }

func (e *edge) field(_ *execCtx, f *ast.Field, _ map[string]any) (any, error) {
	switch f.Name {
	case "cursor":
		return e.cursor, nil
	case "node":
		return e.node, nil
	}
	return nil, unknownField(e, f)
}

type pageInfo struct{ c *connection }

func (p *pageInfo) typeName() string { return "PageInfo" }

func (p *pageInfo) field(_ *execCtx, f *ast.Field, _ map[string]any) (any, error) {
	c := p.c
	switch f.Name {
	case "hasNextPage":
		return c.end < c.total, nil
	case "hasPreviousPage":
		return c.start > 0, nil
	case "startCursor":
		if len(c.offsets) == 0 {
			return nil, nil
		}
		return encodeCursor(c.offsets[0]), nil
	case "endCursor":
		if len(c.offsets) == 0 {
			return nil, nil
		}
		return encodeCursor(c.offsets[len(c.offsets)-1]), nil
	}
	return nil, unknownField(p, f)
}

// unknownField reports a schema field the simulator does not serve: a gap
// in the simulator, not in the query.
func unknownField(o gqlObject, f *ast.Field) error {
	return &fieldError{msg: fmt.Sprintf("gitlab-sim: field %s.%s is in the schema but not simulated", o.typeName(), f.Name)}
}

// payload is a mutation payload: fields by name.
type payload struct {
	name   string
	fields map[string]any
}

func (p *payload) typeName() string { return p.name }

func (p *payload) field(_ *execCtx, f *ast.Field, _ map[string]any) (any, error) {
	v, ok := p.fields[f.Name]
	if !ok && f.Name != "clientMutationId" {
		return nil, unknownField(p, f)
	}
	return v, nil
}
