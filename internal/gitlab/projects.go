package gitlab

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

// Listing is what the group walk found.
type Listing struct {
	Groups   []inventory.Group
	Projects []*inventory.Project
	// Registry is CI_REGISTRY as the projects' image prefixes show it.
	Registry string
	// ServerURL is CI_SERVER_URL as the projects' web URLs show it: the
	// instance's external URL, which can differ from the URL we talk to.
	ServerURL string
	// Problems are the groups and projects skipped for names or IDs no
	// GitLab could hold (checkListing).
	Problems []Problem
}

// ListGroups reads the groups (with their subgroups) and their projects,
// archived ones only when asked. Groups are walked concurrently and may
// overlap; each group and project is listed once.
func (c *Client) ListGroups(ctx context.Context, groups []string, archived bool) (*Listing, error) {
	walks := make([]*Listing, len(groups))
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			walks[i], errs[i] = c.walkGroup(ctx, strings.Trim(g, "/"), archived)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := &Listing{}
	seenG := map[int]bool{}
	seenP := map[int]bool{}
	for _, w := range walks {
		for _, g := range w.Groups {
			if !seenG[g.ID] {
				seenG[g.ID] = true
				out.Groups = append(out.Groups, g)
			}
		}
		for _, p := range w.Projects {
			if !seenP[p.ID] {
				seenP[p.ID] = true
				out.Projects = append(out.Projects, p)
			}
		}
		out.Registry = cmp.Or(out.Registry, w.Registry)
		out.ServerURL = cmp.Or(out.ServerURL, w.ServerURL)
	}
	slices.SortFunc(out.Projects, func(a, b *inventory.Project) int { return cmp.Compare(a.Path, b.Path) })
	slices.SortFunc(out.Groups, func(a, b inventory.Group) int { return cmp.Compare(a.Path, b.Path) })
	checkListing(out)
	return out, nil
}

// walkGroup lists one group, its subgroups and all their projects.
func (c *Client) walkGroup(ctx context.Context, g string, archived bool) (*Listing, error) {
	out := &Listing{}
	root, err := c.getGroup(ctx, g)
	if err != nil {
		return nil, err
	}
	subs, err := listAll(ctx, c, "list subgroups of "+g, func(page int64) ([]*gl.Group, *gl.Response, error) {
		return c.gl.Groups.ListDescendantGroups(root.ID, &gl.ListDescendantGroupsOptions{ListOptions: gl.ListOptions{PerPage: 100, Page: page}}, gl.WithContext(ctx))
	})
	if err != nil {
		return nil, err
	}
	for _, sg := range append([]*gl.Group{root}, subs...) {
		out.Groups = append(out.Groups, inventory.Group{Path: sg.FullPath, ID: int(sg.ID)})
	}
	opt := &gl.ListGroupProjectsOptions{
		ListOptions:      gl.ListOptions{PerPage: 100, OrderBy: "id", Sort: "asc"},
		IncludeSubGroups: gl.Ptr(true),
	}
	if !archived {
		opt.Archived = gl.Ptr(false)
	}
	ps, err := listAll(ctx, c, "list projects of group "+g, func(page int64) ([]*gl.Project, *gl.Response, error) {
		o := *opt
		o.Page = page
		return c.gl.Groups.ListGroupProjects(root.ID, &o, gl.WithContext(ctx))
	})
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.Archived && !archived {
			continue
		}
		out.Projects = append(out.Projects, projectFromREST(p))
		if out.Registry == "" {
			out.Registry = registryHost(p.ContainerRegistryImagePrefix)
		}
		if out.ServerURL == "" && strings.HasSuffix(p.WebURL, "/"+p.PathWithNamespace) {
			out.ServerURL = strings.TrimSuffix(p.WebURL, "/"+p.PathWithNamespace)
		}
	}
	return out, nil
}

func (c *Client) getGroup(ctx context.Context, path string) (*gl.Group, error) {
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	// with_projects=false: GitLab v4 otherwise embeds up to 100 projects
	// we list separately anyway.
	//lint:ignore SA1019 deprecated for API v5; v4 still defaults it to true.
	opt := &gl.GetGroupOptions{WithProjects: gl.Ptr(false)}
	g, _, err := c.gl.Groups.GetGroup(path, opt, gl.WithContext(ctx))
	if errors.Is(err, gl.ErrNotFound) {
		return nil, fmt.Errorf("group %s: not found, or not visible to the token's user (check the path and that the token has read_api)", path)
	}
	if err != nil {
		return nil, c.apiError("read group "+path, err)
	}
	return g, nil
}

func projectFromREST(p *gl.Project) *inventory.Project {
	ip := &inventory.Project{
		Path:          p.PathWithNamespace,
		ID:            int(p.ID),
		Visibility:    string(p.Visibility),
		DefaultBranch: p.DefaultBranch,
		Archived:      p.Archived,
	}
	if p.CIConfigPath != "" && p.CIConfigPath != ".gitlab-ci.yml" {
		ip.CIConfigPath = p.CIConfigPath
	}
	return ip
}

// registryHost returns host[:port] of an image prefix like
// registry.example.com/group/project.
func registryHost(prefix string) string {
	if prefix == "" {
		return ""
	}
	h, _, _ := strings.Cut(prefix, "/")
	return h
}

// listAll reads every page of an offset-paginated REST list. It reads the
// first page, then the remaining ones concurrently when GitLab says how
// many there are (X-Total-Pages), else one after the other (X-Next-Page).
func listAll[T any](ctx context.Context, c *Client, what string, page func(page int64) ([]T, *gl.Response, error)) ([]T, error) {
	get := func(n int64) ([]T, *gl.Response, error) {
		if err := c.acquire(ctx); err != nil {
			return nil, nil, err
		}
		defer c.release()
		items, resp, err := page(n)
		if err != nil {
			return nil, nil, c.apiError(what, err)
		}
		return items, resp, nil
	}
	first, resp, err := get(1)
	if err != nil {
		return nil, err
	}
	if resp == nil || resp.NextPage == 0 {
		return first, nil
	}
	if resp.TotalPages > 1 {
		pages := make([][]T, resp.TotalPages)
		pages[0] = first
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		for n := int64(2); n <= resp.TotalPages; n++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				items, _, err := get(n)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				pages[n-1] = items
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return nil, firstErr
		}
		return slices.Concat(pages...), nil
	}
	all := first
	for next := resp.NextPage; next != 0; {
		items, r, err := get(next)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		next = r.NextPage
	}
	return all, nil
}

// pathFromWebURL turns a group's web_url (https://host/groups/a/b) into its
// full path, for REST answers that carry no full_path.
func (c *Client) pathFromWebURL(webURL string) string {
	u, err := url.Parse(webURL)
	if err != nil {
		return ""
	}
	p := strings.TrimPrefix(u.Path, strings.TrimRight(c.base.Path, "/"))
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimPrefix(p, "groups/")
	return strings.Trim(p, "/")
}
