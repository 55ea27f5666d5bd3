package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/gitlab/schema"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
)

// maintainerHint is the advice for every permission gap: GitLab shows job
// token settings, allowlists and the authentication log to Maintainers only
// (admin_project).
const maintainerHint = "the token's user needs the Maintainer role on this project to read it"

// authLogFirst is the first page of the authentication log read with the
// settings; most logs are shorter, and a larger page would cost complexity
// on every project (the resolver charges 1% per item).
const authLogFirst = 20

type jtNode struct {
	FullPath     string `json:"fullPath"`
	CiCdSettings *struct {
		InboundJobTokenScopeEnabled *bool `json:"inboundJobTokenScopeEnabled"`
	} `json:"ciCdSettings"`
	Allowlist *struct {
		Projects *entryConn `json:"projectsAllowlist"`
		Groups   *entryConn `json:"groupsAllowlist"`
	} `json:"ciJobTokenScopeAllowlist"`
	AuthLogs *authLogConn `json:"ciJobTokenAuthLogs"`
}

type entryConn struct {
	Count int `json:"count"`
	Nodes []struct {
		Target *struct {
			ID       string `json:"id"`
			FullPath string `json:"fullPath"`
		} `json:"target"`
		Direction          string   `json:"direction"`
		DefaultPermissions *bool    `json:"defaultPermissions"`
		JobTokenPolicies   []string `json:"jobTokenPolicies"`
		Autopopulated      bool     `json:"autopopulated"`
	} `json:"nodes"`
}

type authLogConn struct {
	Nodes []struct {
		LastAuthorizedAt time.Time `json:"lastAuthorizedAt"`
		OriginProject    struct {
			FullPath string `json:"fullPath"`
		} `json:"originProject"`
	} `json:"nodes"`
	PageInfo pageInfo `json:"pageInfo"`
}

type pageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

// jobTokens is what was read about the projects' job token settings.
type jobTokens struct {
	mu     sync.Mutex
	scopes map[string]*inventory.JobTokenScope
	logs   map[string][]inventory.AuthLogEntry
	diags  diag.List
}

func newJobTokens() *jobTokens {
	return &jobTokens{scopes: map[string]*inventory.JobTokenScope{}, logs: map[string][]inventory.AuthLogEntry{}}
}

func (j *jobTokens) store(project string, scope *inventory.JobTokenScope) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.scopes[project] = scope
}

func (j *jobTokens) gap(project, what, msg string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	d := diag.Diagnostic{Severity: diag.Warning, Pos: loc.Pos{Project: project}, Summary: "cannot read the " + what, Detail: maintainerHint}
	if msg != "" {
		d.Detail += "; GitLab said: " + msg
	}
	j.diags = append(j.diags, d)
}

// jobTokensGraphQL reads, many projects per request, the settings and
// allowlists with policies (withScope: the JobTokenSettings documents) and
// the authentication log of every project.
func (c *Client) jobTokensGraphQL(ctx context.Context, projects []*inventory.Project, name string, withScope bool, progress func(int)) (*jobTokens, error) {
	q, err := getQuery(name)
	if err != nil {
		return nil, err
	}
	out := newJobTokens()
	paths := make([]string, len(projects))
	for i, p := range projects {
		paths[i] = p.Path
	}
	vars := func(batch []string) map[string]any {
		return map[string]any{"fullPaths": anyStrings(batch), "first": len(batch), "authLogFirst": authLogFirst}
	}
	size := fitBatch(q, schema.MaxFullPaths, func(n int) map[string]any { return vars(make([]string, n)) })
	if size == 0 {
		return nil, errors.New("job token settings query does not fit GitLab's complexity limit for one project")
	}
	err = batches(ctx, c, paths, size, func(ctx context.Context, batch []string) error {
		var data struct {
			Projects struct {
				Nodes []jtNode `json:"nodes"`
			} `json:"projects"`
		}
		errs, err := c.graphql(ctx, q, vars(batch), &data)
		if err != nil {
			return err
		}
		nodes := data.Projects.Nodes
		errsBy := map[string][]string{}
		for _, e := range errs {
			if i, ok := e.nodeIndex(); ok && i < len(nodes) {
				if m := c.redact(e.Message); !slices.Contains(errsBy[nodes[i].FullPath], m) {
					errsBy[nodes[i].FullPath] = append(errsBy[nodes[i].FullPath], m)
				}
			}
		}
		seen := map[string]bool{}
		for _, n := range nodes {
			if n.FullPath == "" {
				continue // a node nulled by an error; reported below as not returned
			}
			seen[strings.ToLower(n.FullPath)] = true
			if err := c.storeJobTokenNode(ctx, out, n, withScope, strings.Join(errsBy[n.FullPath], "; ")); err != nil {
				return err
			}
		}
		for _, p := range batch {
			if !seen[strings.ToLower(p)] {
				out.gap(p, "job token settings", "the project was not returned (deleted or no longer visible)")
			}
		}
		if progress != nil {
			progress(len(batch))
		}
		return nil
	})
	return out, err
}

func (c *Client) storeJobTokenNode(ctx context.Context, out *jobTokens, n jtNode, withScope bool, msg string) error {
	// One warning per project, naming every part that could not be read.
	noScope, noLog := false, false
	switch {
	case !withScope:
	case n.CiCdSettings == nil || n.CiCdSettings.InboundJobTokenScopeEnabled == nil || n.Allowlist == nil:
		noScope = true
	default:
		out.store(n.FullPath, scopeFromGraphQL(out, n))
	}
	if n.AuthLogs == nil {
		noLog = true
	} else {
		log := authLogEntries(n.AuthLogs)
		for pi := n.AuthLogs.PageInfo; pi.HasNextPage; {
			more, next, err := c.authLogPage(ctx, n.FullPath, pi.EndCursor)
			if err != nil {
				return err
			}
			log = append(log, more...)
			pi = next
		}
		out.mu.Lock()
		out.logs[n.FullPath] = log
		out.mu.Unlock()
	}
	switch {
	case noScope && noLog:
		out.gap(n.FullPath, "job token settings, allowlist and authentication log", msg)
	case noScope:
		out.gap(n.FullPath, "job token settings and allowlist", msg)
	case noLog:
		out.gap(n.FullPath, "job token authentication log", msg)
	}
	return nil
}

func scopeFromGraphQL(out *jobTokens, n jtNode) *inventory.JobTokenScope {
	scope := &inventory.JobTokenScope{InboundEnabled: *n.CiCdSettings.InboundJobTokenScopeEnabled}
	for _, conn := range []struct {
		c    *entryConn
		dst  *[]inventory.Entry
		kind string
	}{{n.Allowlist.Projects, &scope.Allowlist.Projects, "project"}, {n.Allowlist.Groups, &scope.Allowlist.Groups, "group"}} {
		if conn.c == nil {
			continue
		}
		for _, e := range conn.c.Nodes {
			// Outbound entries belong to the legacy scope (removed in 18.0);
			// the inventory holds the inbound allowlist.
			if e.Target == nil || (e.Direction != "" && e.Direction != "inbound") {
				continue
			}
			*conn.dst = append(*conn.dst, entryFromGraphQL(e.Target.FullPath, gid(e.Target.ID), e.DefaultPermissions, e.JobTokenPolicies, e.Autopopulated))
		}
		if conn.c.Count > len(conn.c.Nodes) {
			out.mu.Lock()
			out.diags.Warnf(n.FullPath, "", 0, "the %s allowlist has %d entries but GitLab returned %d; the snapshot lists only those", conn.kind, conn.c.Count, len(conn.c.Nodes))
			out.mu.Unlock()
		}
	}
	return scope
}

func entryFromGraphQL(path string, id int, defaultPerms *bool, policies []string, auto bool) inventory.Entry {
	e := inventory.Entry{Path: path, ID: id, Autopopulated: auto}
	// defaultPermissions is true (or absent before 17.8) when the entry
	// grants the default permissions; policies apply only when it is false.
	if defaultPerms != nil && !*defaultPerms {
		for _, p := range policies {
			e.Policies = append(e.Policies, strings.ToLower(p))
		}
	}
	return e
}

func authLogEntries(c *authLogConn) []inventory.AuthLogEntry {
	out := make([]inventory.AuthLogEntry, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		out = append(out, inventory.AuthLogEntry{Origin: n.OriginProject.FullPath, LastAuthorizedAt: n.LastAuthorizedAt.UTC()})
	}
	return out
}

func (c *Client) authLogPage(ctx context.Context, project, after string) ([]inventory.AuthLogEntry, pageInfo, error) {
	q, err := getQuery(qAuthLogPage)
	if err != nil {
		return nil, pageInfo{}, err
	}
	var data struct {
		Project *struct {
			AuthLogs *authLogConn `json:"ciJobTokenAuthLogs"`
		} `json:"project"`
	}
	if _, err := c.graphql(ctx, q, map[string]any{"fullPath": project, "after": after}, &data); err != nil {
		return nil, pageInfo{}, err
	}
	if data.Project == nil || data.Project.AuthLogs == nil {
		return nil, pageInfo{}, fmt.Errorf("read the authentication log of %s: the next page came back empty", project)
	}
	return authLogEntries(data.Project.AuthLogs), data.Project.AuthLogs.PageInfo, nil
}

// jobTokensREST reads settings and allowlists one project at a time, for
// GitLab before 17.6 (no fine-grained policies, no authentication log).
func (c *Client) jobTokensREST(ctx context.Context, projects []*inventory.Project, progress func(int)) (*jobTokens, error) {
	out := newJobTokens()
	paths := make([]string, len(projects))
	byPath := map[string]*inventory.Project{}
	for i, p := range projects {
		paths[i] = p.Path
		byPath[p.Path] = p
	}
	err := batches(ctx, c, paths, 1, func(ctx context.Context, batch []string) error {
		p := byPath[batch[0]]
		scope, msg, err := c.jobTokenREST(ctx, p)
		if err != nil {
			return err
		}
		if scope == nil {
			out.gap(p.Path, "job token settings and allowlist", msg)
		} else {
			out.store(p.Path, scope)
		}
		if progress != nil {
			progress(1)
		}
		return nil
	})
	return out, err
}

// jobTokenREST returns nil and GitLab's message on a permission gap.
func (c *Client) jobTokenREST(ctx context.Context, p *inventory.Project) (*inventory.JobTokenScope, string, error) {
	gap := func(err error) (string, bool) {
		var ae *APIError
		if errors.As(err, &ae) && (ae.Status == http.StatusForbidden || ae.Status == http.StatusUnauthorized) {
			return ae.Msg, true
		}
		return "", false
	}
	var settings *gl.JobTokenAccessSettings
	err := func() error {
		if err := c.acquire(ctx); err != nil {
			return err
		}
		defer c.release()
		var err error
		settings, _, err = c.gl.JobTokenScope.GetProjectJobTokenAccessSettings(p.ID, gl.WithContext(ctx))
		if err != nil {
			return c.apiError("read the job token settings of "+p.Path, err)
		}
		return nil
	}()
	if msg, ok := gap(err); ok {
		return nil, msg, nil
	}
	if err != nil {
		return nil, "", err
	}
	scope := &inventory.JobTokenScope{InboundEnabled: settings.InboundEnabled}
	projects, err := listAll(ctx, c, "read the job token allowlist of "+p.Path, func(page int64) ([]*gl.Project, *gl.Response, error) {
		return c.gl.JobTokenScope.GetProjectJobTokenInboundAllowList(p.ID, &gl.GetJobTokenInboundAllowListOptions{ListOptions: gl.ListOptions{PerPage: 100, Page: page}}, gl.WithContext(ctx))
	})
	if msg, ok := gap(err); ok {
		return nil, msg, nil
	}
	if err != nil {
		return nil, "", err
	}
	for _, t := range projects {
		// The REST list always includes the project itself (target_projects
		// unions the source); it is not an entry anyone configured.
		if int(t.ID) == p.ID {
			continue
		}
		scope.Allowlist.Projects = append(scope.Allowlist.Projects, inventory.Entry{Path: t.PathWithNamespace, ID: int(t.ID)})
	}
	groups, err := listAll(ctx, c, "read the job token group allowlist of "+p.Path, func(page int64) ([]*gl.Group, *gl.Response, error) {
		return c.gl.JobTokenScope.GetJobTokenAllowlistGroups(p.ID, &gl.GetJobTokenAllowlistGroupsOptions{ListOptions: gl.ListOptions{PerPage: 100, Page: page}}, gl.WithContext(ctx))
	})
	if msg, ok := gap(err); ok {
		return nil, msg, nil
	}
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		// Before group allowlists existed (16.x) the route is unknown.
		groups, err = nil, nil
	}
	if err != nil {
		return nil, "", err
	}
	for _, g := range groups {
		scope.Allowlist.Groups = append(scope.Allowlist.Groups, inventory.Entry{Path: c.pathFromWebURL(g.WebURL), ID: int(g.ID)})
	}
	return scope, "", nil
}
