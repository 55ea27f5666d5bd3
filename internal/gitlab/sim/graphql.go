package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/tokenscope/tokenscope/internal/gitlab/schema"
)

// graphqlEndpoint serves POST (and GET) /api/graphql as GitlabSchema
// behind GraphqlController does: authentication, the 10,000-character
// query size limit, validation against the schema (the version's subset),
// GitLab's depth and complexity limits, then execution. Validation and
// limit errors are HTTP 200 with only "errors", as graphql-ruby answers.
//
// Sources (gitlabhq/gitlabhq):
//   - app/graphql/gitlab_schema.rb: DEFAULT_MAX_COMPLEXITY 200 (anonymous),
//     AUTHENTICATED_MAX_COMPLEXITY 250, ADMIN_MAX_COMPLEXITY 300,
//     DEFAULT_MAX_DEPTH 15 (anonymous), AUTHENTICATED_MAX_DEPTH 20,
//     default_max_page_size 100, validate_max_errors 5 (the constants are
//     in package schema); messages are graphql-ruby's MaxQueryComplexity
//     and MaxQueryDepth ones, as quoted in gitlab-org/gitlab#469590.
//   - app/controllers/graphql_controller.rb: MAX_QUERY_SIZE 10_000 ("Query
//     too large", 422), "Invalid token" (401), "Mutations are forbidden in
//     GET requests" (422), render_error's {"errors":[{"message"}]} shape.
type graphqlEndpoint struct {
	s      *Server
	schema *ast.Schema
	since  sinceTable
}

func newGraphQLEndpoint(s *Server) (*graphqlEndpoint, error) {
	sc, err := schema.Load()
	if err != nil {
		return nil, err
	}
	return &graphqlEndpoint{s: s, schema: sc, since: buildSinceTable(sc)}, nil
}

// gqlRequest is one query of a request (Apollo-style batches are arrays).
type gqlRequest struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

// gqlResult is one query's response.
type gqlResult struct {
	Data   any      `json:"data,omitempty"`
	Errors []gqlErr `json:"errors,omitempty"`
	// hasData keeps "data": null in the output when execution ran.
	hasData bool
}

func (r gqlResult) MarshalJSON() ([]byte, error) {
	o := &ordered{}
	if r.hasData {
		o.set("data", r.Data)
	}
	if len(r.Errors) > 0 {
		o.set("errors", r.Errors)
	}
	return o.MarshalJSON()
}

func errorsOnly(errs ...gqlErr) gqlResult { return gqlResult{Errors: errs} }

// renderError is GraphqlController#render_error.
func renderError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errors": []gqlErr{{Message: msg}}})
}

func (g *graphqlEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		renderError(w, http.StatusNotFound, "Not found!")
		return
	}
	u, ok := g.s.auth.authenticate(r)
	if !ok {
		renderError(w, http.StatusUnauthorized, "Invalid token")
		return
	}
	reqs, batch, bad := readGraphQL(r)
	if bad != "" {
		renderError(w, http.StatusBadRequest, bad)
		return
	}
	size := 0
	for _, q := range reqs {
		size += len(q.Query)
	}
	if g.s.opts.MaxQuerySize > 0 && size > g.s.opts.MaxQuerySize {
		renderError(w, http.StatusUnprocessableEntity, "Query too large")
		return
	}
	results := make([]gqlResult, len(reqs))
	prepared := make([]*prepared, len(reqs))
	total := 0
	for i, q := range reqs {
		p, res := g.prepare(u, q)
		if p == nil {
			results[i] = res
			continue
		}
		if r.Method == http.MethodGet && isMutation(p.op) {
			renderError(w, http.StatusUnprocessableEntity, "Mutations are forbidden in GET requests")
			return
		}
		prepared[i] = p
		total += p.complexity
	}
	// A multiplex is measured as a whole (graphql-ruby's multiplex
	// max_complexity).
	if limit := complexityLimit(u); batch && total > limit {
		for i := range results {
			if prepared[i] != nil {
				results[i] = errorsOnly(gqlErr{Message: schema.ComplexityError(total, limit)})
				prepared[i] = nil
			}
		}
	}
	for i, p := range prepared {
		if p != nil {
			results[i] = g.run(r, u, p)
		}
	}
	if batch {
		writeJSON(w, http.StatusOK, results)
		return
	}
	writeJSON(w, http.StatusOK, results[0])
}

// readGraphQL reads a JSON body (one query or a batch) or GET
// parameters; bad is the message for a request that does not parse.
func readGraphQL(r *http.Request) (reqs []gqlRequest, batch bool, bad string) {
	if r.Method == http.MethodGet {
		q := gqlRequest{Query: r.URL.Query().Get("query"), OperationName: r.URL.Query().Get("operationName")}
		if v := r.URL.Query().Get("variables"); v != "" {
			if err := json.Unmarshal([]byte(v), &q.Variables); err != nil {
				return nil, false, "Variables are invalid JSON"
			}
		}
		return []gqlRequest{q}, false, ""
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return nil, false, "The request body could not be read"
	}
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		if err := json.Unmarshal(data, &reqs); err != nil || len(reqs) == 0 {
			return nil, false, "The request body is not a valid GraphQL batch"
		}
		return reqs, true, ""
	}
	var q gqlRequest
	if err := json.Unmarshal(data, &q); err != nil {
		return nil, false, "The request body contains invalid JSON"
	}
	return []gqlRequest{q}, false, ""
}

// prepared is a query that passed every static check.
type prepared struct {
	doc        *ast.QueryDocument
	op         *ast.OperationDefinition
	vars       map[string]any
	complexity int
}

func complexityLimit(u *user) int {
	switch {
	case u == nil:
		return schema.MaxComplexityAnonymous
	case u.admin:
		return schema.MaxComplexityAdmin
	}
	return schema.MaxComplexityAuthenticated
}

func depthLimit(u *user) int {
	if u == nil {
		return schema.MaxDepthAnonymous
	}
	return schema.MaxDepthAuthenticated
}

// graphql-ruby stops static validation after this many errors
// (GitlabSchema validate_max_errors 5).
const maxValidationErrors = 5

func (g *graphqlEndpoint) prepare(u *user, q gqlRequest) (*prepared, gqlResult) {
	if strings.TrimSpace(q.Query) == "" {
		return nil, errorsOnly(gqlErr{Message: "No query string was present"})
	}
	doc, perr := parser.ParseQuery(&ast.Source{Name: "query", Input: q.Query})
	if perr != nil {
		return nil, errorsOnly(translate(g.schema, toGQLErrors(perr))...)
	}
	if errs := validator.ValidateWithRules(g.schema, doc, rules.NewDefaultRules()); len(errs) > 0 {
		return nil, errorsOnly(capErrors(translate(g.schema, errs))...)
	}
	op, msg := pickOperation(doc, q.OperationName)
	if op == nil {
		return nil, errorsOnly(gqlErr{Message: msg})
	}
	if errs := g.gateDocument(doc); len(errs) > 0 {
		return nil, errorsOnly(capErrors(errs)...)
	}
	vars, verr := validator.VariableValues(g.schema, op, q.Variables)
	if verr != nil {
		return nil, errorsOnly(variableError(op, verr))
	}
	if errs := g.gateVariables(op, vars); len(errs) > 0 {
		return nil, errorsOnly(errs...)
	}
	// graphql-ruby runs MaxQueryDepth, then MaxQueryComplexity, and
	// reports both.
	var limits []gqlErr
	depth, _ := schema.Depth(doc, op.Name)
	if limit := depthLimit(u); depth > limit {
		limits = append(limits, gqlErr{Message: schema.DepthError(depth, limit)})
	}
	complexity, _ := schema.Complexity(doc, op.Name, vars)
	if limit := complexityLimit(u); complexity > limit {
		limits = append(limits, gqlErr{Message: schema.ComplexityError(complexity, limit)})
	}
	if len(limits) > 0 {
		return nil, errorsOnly(limits...)
	}
	return &prepared{doc: doc, op: op, vars: vars, complexity: complexity}, gqlResult{}
}

// pickOperation selects the operation to run, or returns graphql-ruby's
// message.
func pickOperation(doc *ast.QueryDocument, name string) (*ast.OperationDefinition, string) {
	if name != "" {
		if op := doc.Operations.ForName(name); op != nil {
			return op, ""
		}
		return nil, fmt.Sprintf("No operation named %q", name)
	}
	if len(doc.Operations) != 1 {
		return nil, "An operation name is required"
	}
	return doc.Operations[0], ""
}

// run executes a prepared query under the state lock: shared for
// queries, exclusive for mutations.
func (g *graphqlEndpoint) run(r *http.Request, u *user, p *prepared) gqlResult {
	name := p.op.Name
	if name == "" {
		name = "(anonymous)"
	}
	g.s.stats.update(func(s *Stats) { s.GraphQLOperations[name]++ })
	st := g.s.st
	var root gqlObject = queryRoot{}
	if isMutation(p.op) {
		root = mutationRoot{}
		st.mu.Lock()
		defer st.mu.Unlock()
	} else {
		st.mu.RLock()
		defer st.mu.RUnlock()
	}
	ec := &execCtx{s: g.s, st: st, schema: g.schema, doc: p.doc, vars: p.vars, u: u, base: g.s.baseURL(r)}
	data := ec.execute(p.op, root)
	return gqlResult{Data: data, Errors: ec.errors, hasData: true}
}

func toGQLErrors(err error) gqlerror.List {
	var ge *gqlerror.Error
	if errors.As(err, &ge) {
		return gqlerror.List{ge}
	}
	return gqlerror.List{gqlerror.Wrap(err)}
}

func capErrors(errs []gqlErr) []gqlErr {
	if len(errs) > maxValidationErrors {
		return errs[:maxValidationErrors]
	}
	return errs
}

var (
	reUndefinedField = regexp.MustCompile(`^Cannot query field "([^"]+)" on type "([^"]+)"\.`)
	reUnknownArg     = regexp.MustCompile(`^Unknown argument "([^"]+)" on field "[^".]+\.([^"]+)"\.`)
	reMissingArg     = regexp.MustCompile(`^Field "([^"]+)" argument "([^"]+)" of type "[^"]+" is required`)
	reLeafSelection  = regexp.MustCompile(`^Field "([^"]+)" must not have a selection since type "([^"]+)" has no subfields\.`)
	reNeedSelection  = regexp.MustCompile(`^Field "([^"]+)" of type "([^"]+)" must have a selection of subfields\.`)
)

// translate rewrites gqlparser's messages for the checks GitLab users meet
// most into graphql-ruby's wording and extension codes; others keep
// gqlparser's wording (the same rule, other words).
func translate(s *ast.Schema, errs gqlerror.List) []gqlErr {
	out := make([]gqlErr, 0, len(errs))
	for _, e := range errs {
		ge := gqlErr{Message: e.Message}
		for _, l := range e.Locations {
			ge.Locations = append(ge.Locations, gqlLoc{Line: l.Line, Column: l.Column})
		}
		switch m := e.Message; {
		case reUndefinedField.MatchString(m):
			x := reUndefinedField.FindStringSubmatch(m)
			if d := s.Types[x[2]]; d != nil && d.IsLeafType() {
				// graphql-ruby reports only the selection on a scalar.
				continue
			}
			if d := s.Types[x[2]]; d != nil && d.Kind == ast.Union {
				ge.Message = fmt.Sprintf("Selections can't be made directly on unions (see selections on %s)", x[2])
				ge.Extensions = map[string]any{"code": "selectionMismatch", "nodeName": x[2]}
				break
			}
			ge.Message = fmt.Sprintf("Field '%s' doesn't exist on type '%s'", x[1], x[2])
			ge.Extensions = map[string]any{"code": "undefinedField", "typeName": x[2], "fieldName": x[1]}
		case reUnknownArg.MatchString(m):
			x := reUnknownArg.FindStringSubmatch(m)
			ge.Message = fmt.Sprintf("Field '%s' doesn't accept argument '%s'", x[2], x[1])
			ge.Extensions = map[string]any{"code": "argumentNotAccepted", "name": x[2], "typeName": "Field", "argumentName": x[1]}
		case reMissingArg.MatchString(m):
			x := reMissingArg.FindStringSubmatch(m)
			ge.Message = fmt.Sprintf("Field '%s' is missing required arguments: %s", x[1], x[2])
			ge.Extensions = map[string]any{"code": "missingRequiredArguments", "className": "Field", "name": x[1], "arguments": x[2]}
		case reLeafSelection.MatchString(m):
			x := reLeafSelection.FindStringSubmatch(m)
			ge.Message = fmt.Sprintf("Selections can't be made on scalars (field '%s' returns %s but has selections [...])", x[1], x[2])
			ge.Extensions = map[string]any{"code": "selectionMismatch", "nodeName": "field '" + x[1] + "'", "typeName": x[2]}
		case reNeedSelection.MatchString(m):
			x := reNeedSelection.FindStringSubmatch(m)
			ge.Message = fmt.Sprintf("Field must have selections (field '%s' returns %s but has no selections. Did you mean '%s { ... }'?)", x[1], strings.Trim(x[2], "!"), x[1])
			ge.Extensions = map[string]any{"code": "selectionMismatch", "nodeName": "field '" + x[1] + "'", "typeName": strings.Trim(x[2], "!")}
		}
		out = append(out, ge)
	}
	return out
}

// variableError is graphql-ruby's refusal of a variable value.
func variableError(op *ast.OperationDefinition, err error) gqlErr {
	var ge *gqlerror.Error
	name, explanation := "", err.Error()
	if errors.As(err, &ge) {
		explanation = ge.Message
		if len(ge.Path) >= 2 {
			name = fmt.Sprint(ge.Path[1])
		}
	}
	vd := op.VariableDefinitions.ForName(name)
	if vd == nil {
		return gqlErr{Message: "Variables are invalid: " + explanation}
	}
	return gqlErr{
		Message:    fmt.Sprintf("Variable $%s of type %s was provided invalid value", name, vd.Type.String()),
		Locations:  locations(vd.Position),
		Extensions: map[string]any{"value": nil, "problems": []map[string]any{{"path": ge.Path[2:], "explanation": explanation}}},
	}
}
