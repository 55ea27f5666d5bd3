package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/tokenscope/tokenscope/internal/gitlab/schema"
)

// gqlError is one entry of a GraphQL response's errors.
type gqlError struct {
	Message string `json:"message"`
	Path    []any  `json:"path"`
}

// nodeIndex returns i when the error's path is [field, "nodes", i, ...]:
// the batch entry the error is about.
func (e gqlError) nodeIndex() (int, bool) {
	if len(e.Path) < 3 || e.Path[1] != "nodes" {
		return 0, false
	}
	switch v := e.Path[2].(type) {
	case float64:
		return int(v), true
	case json.Number:
		n, err := strconv.Atoi(string(v))
		return n, err == nil
	}
	return 0, false
}

// errTooComplex means GitLab refused the query for its complexity or depth;
// the caller splits the batch.
var errTooComplex = errors.New("query too complex for GitLab")

// graphql sends q with vars and decodes data into out. Errors that name a
// path are returned for the caller to attach to the batch entry they are
// about; errors without a path fail the whole query.
func (c *Client) graphql(ctx context.Context, q *query, vars map[string]any, out any) ([]gqlError, error) {
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if _, err := c.gl.GraphQL.Do(gl.GraphQLQuery{Query: q.text, Variables: vars}, &resp, gl.WithContext(ctx)); err != nil {
		return nil, c.apiError("GraphQL "+q.name, err)
	}
	var pathErrs []gqlError
	var fatal []string
	for _, e := range resp.Errors {
		if strings.Contains(e.Message, "which exceeds max complexity") || strings.Contains(e.Message, "which exceeds max depth") {
			return nil, fmt.Errorf("%s: %w: %s", q.name, errTooComplex, c.redact(e.Message))
		}
		if len(e.Path) == 0 {
			fatal = append(fatal, c.redact(e.Message))
			continue
		}
		pathErrs = append(pathErrs, e)
	}
	if len(fatal) > 0 {
		return nil, &APIError{What: "GraphQL " + q.name, Msg: strings.Join(fatal, "; ")}
	}
	if len(resp.Data) > 0 && string(resp.Data) != "null" {
		if err := json.Unmarshal(resp.Data, out); err != nil {
			return nil, fmt.Errorf("GraphQL %s: decode response: %w", q.name, err)
		}
	}
	return pathErrs, nil
}

// fitBatch returns the most entries (at most limit) whose query, built by
// vars(n), stays within GitLab's complexity limit for an authenticated
// user. It returns 0 when even one entry does not fit.
func fitBatch(q *query, limit int, vars func(n int) map[string]any) int {
	fits := func(n int) bool {
		c, err := schema.Complexity(q.doc, "", vars(n))
		return err == nil && c <= schema.MaxComplexityAuthenticated
	}
	lo, hi := 0, limit
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// gid parses a global ID such as gid://gitlab/Project/42.
func gid(s string) int {
	i := strings.LastIndexByte(s, '/')
	n, _ := strconv.Atoi(s[i+1:])
	return n
}

// strings turns a slice into the []any GraphQL variables use, so that the
// complexity estimate sees the same values GitLab does.
func anyStrings(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
