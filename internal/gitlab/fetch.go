package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/tokenscope/tokenscope/internal/gitlab/schema"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/limits"
)

// FileStore is where a FileFetcher puts what it reads. The caller owns it
// (and decides from it what to fetch next); calls may be concurrent.
type FileStore interface {
	// SetTree records a project's listing of blob paths; nil: no
	// repository (empty, or not readable).
	SetTree(project string, paths []string)
	// SetPartial marks a project's listing as cut short.
	SetPartial(project string)
	// Put stores a fetched file; nil content marks it absent.
	Put(project, name string, content []byte)
	// Want asks for a file again in the next round.
	Want(project, name string)
	// Listed reports whether the listing holds the file.
	Listed(project, name string) bool
	// Known reports whether the file was stored (fetched or absent).
	Known(project, name string) bool
}

// FileFetcher lists repository trees and fetches files into a FileStore,
// noting per-project problems.
type FileFetcher struct {
	c        *Client
	m        FileStore
	rest     bool // one project and one file per request (GitLab < 16.6, or the baseline)
	byPath   map[string]*inventory.Project
	problems problems
	// maxFile is the largest file stored (--limit file-size); larger
	// ones are noted and not read.
	maxFile int64
}

// NewFileFetcher returns a fetcher of the projects' files into store. It
// reads over GraphQL where the version has projects(fullPaths:) and over
// REST before, or always when forceREST is set. Files over maxFile bytes
// (0: the default of limits.FileSize) are noted and not stored.
func (c *Client) NewFileFetcher(store FileStore, v Version, forceREST bool, projects []*inventory.Project, maxFile int64) *FileFetcher {
	byPath := map[string]*inventory.Project{}
	for _, p := range projects {
		byPath[p.Path] = p
	}
	rest := forceREST || !v.AtLeast(versionFullPaths.Major, versionFullPaths.Minor)
	return &FileFetcher{c: c, m: store, rest: rest, byPath: byPath, maxFile: limits.Or(maxFile, limits.FileSize)}
}

// Problems returns what could not be read so far.
func (f *FileFetcher) Problems() []Problem { return f.problems.all() }

func (f *FileFetcher) tooLarge(project, file string, n int) {
	f.warnf(project, file, "%d bytes: over the limit %s %s; not read (%s)", n, limits.FileSize,
		limits.Format(limits.Bytes, f.maxFile), limits.Raise(limits.FileSize, int64(n)))
}

func (f *FileFetcher) warnf(project, file, format string, args ...any) {
	f.problems.add(Problem{Project: project, File: file, Summary: fmt.Sprintf(format, args...)})
}

type blobNode struct {
	Path             string  `json:"path"`
	RawTextBlob      *string `json:"rawTextBlob"`
	StoredExternally bool    `json:"storedExternally"`
}

type treeConn struct {
	Nodes []struct {
		Path string `json:"path"`
	} `json:"nodes"`
	PageInfo pageInfo `json:"pageInfo"`
}

type filesNode struct {
	FullPath   string `json:"fullPath"`
	Repository *struct {
		Tree *struct {
			Blobs treeConn `json:"blobs"`
		} `json:"tree"`
		Blobs *struct {
			Nodes []blobNode `json:"nodes"`
		} `json:"blobs"`
	} `json:"repository"`
}

// store keeps a blob if the project asked for it.
func (f *FileFetcher) store(project string, asked map[string]bool, b blobNode) {
	if !asked[b.Path] {
		return
	}
	switch {
	case b.RawTextBlob == nil:
		f.m.Put(project, b.Path, nil) // binary: nothing discovery can read
	case b.StoredExternally:
		f.m.Put(project, b.Path, nil)
		f.warnf(project, b.Path, "stored in Git LFS; not read")
	case int64(len(*b.RawTextBlob)) > f.maxFile:
		f.m.Put(project, b.Path, nil)
		f.tooLarge(project, b.Path, len(*b.RawTextBlob))
	default:
		f.m.Put(project, b.Path, []byte(*b.RawTextBlob))
	}
}

// TreesAndConfig lists every project's tree and fetches its CI
// configuration file.
func (f *FileFetcher) TreesAndConfig(ctx context.Context, projects []*inventory.Project, progress func(int)) error {
	if f.rest {
		return batches(ctx, f.c, pathsOf(projects), 1, func(ctx context.Context, b []string) error {
			p := f.byPath[b[0]]
			if err := f.treeREST(ctx, p); err != nil {
				return err
			}
			if f.m.Listed(p.Path, configPath(p)) {
				if err := f.fileREST(ctx, p, configPath(p)); err != nil {
					return err
				}
			}
			progress(1)
			return nil
		})
	}
	q, err := getQuery(qTreesAndFiles)
	if err != nil {
		return err
	}
	byCfg := map[string][]string{}
	for _, p := range projects {
		byCfg[configPath(p)] = append(byCfg[configPath(p)], p.Path)
	}
	for _, cfg := range slices.Sorted(func(y func(string) bool) {
		for k := range byCfg {
			if !y(k) {
				return
			}
		}
	}) {
		paths := []string{cfg}
		vars := func(batch []string) map[string]any {
			return map[string]any{"fullPaths": anyStrings(batch), "first": len(batch), "paths": anyStrings(paths), "blobsFirst": len(paths)}
		}
		size := fitBatch(q, schema.MaxFullPaths, func(n int) map[string]any { return vars(make([]string, n)) })
		err := batches(ctx, f.c, byCfg[cfg], size, func(ctx context.Context, batch []string) error {
			var data struct {
				Projects struct {
					Nodes []filesNode `json:"nodes"`
				} `json:"projects"`
			}
			errs, err := f.c.graphql(ctx, q, vars(batch), &data)
			if err != nil {
				return err
			}
			f.nodeErrors(data.Projects.Nodes, errs)
			seen := map[string]bool{}
			for _, n := range data.Projects.Nodes {
				if n.FullPath == "" {
					continue
				}
				seen[strings.ToLower(n.FullPath)] = true
				if n.Repository == nil || n.Repository.Tree == nil {
					f.m.SetTree(n.FullPath, nil)
					continue
				}
				tree, err := f.restOfTree(ctx, n.FullPath, n.Repository.Tree.Blobs)
				if err != nil {
					return err
				}
				f.m.SetTree(n.FullPath, tree)
				if n.Repository.Blobs != nil {
					for _, b := range n.Repository.Blobs.Nodes {
						f.store(n.FullPath, map[string]bool{cfg: true}, b)
					}
				}
				if f.m.Listed(n.FullPath, cfg) {
					f.m.Want(n.FullPath, cfg) // listed but not returned: ask again
				}
			}
			for _, p := range batch {
				if !seen[strings.ToLower(p)] {
					f.m.SetTree(p, nil)
					f.warnf(p, "", "repository not returned by GitLab (deleted, or no access to its code); no files read")
				}
			}
			progress(len(batch))
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (f *FileFetcher) nodeErrors(nodes []filesNode, errs []gqlError) {
	for _, e := range errs {
		if i, ok := e.nodeIndex(); ok && i < len(nodes) {
			f.warnf(nodes[i].FullPath, "", "cannot read the repository: %s", f.c.redact(e.Message))
		}
	}
}

// maxTreePages bounds a repository listing (100 files a page): past it a
// monorepo's globs and candidates are incomplete, and the snapshot says so;
// files discovery names are still fetched.
const maxTreePages = 50

// restOfTree follows a tree listing past its first page.
func (f *FileFetcher) restOfTree(ctx context.Context, project string, first treeConn) ([]string, error) {
	var out []string
	conn := first
	for page := 1; ; page++ {
		for _, n := range conn.Nodes {
			out = append(out, n.Path)
		}
		if !conn.PageInfo.HasNextPage {
			return out, nil
		}
		if page >= maxTreePages {
			f.m.SetPartial(project)
			f.warnf(project, "", "more than %d files: only the first %d were listed; globs and Dockerfile/package-manager files beyond them are not read", len(out), len(out))
			return out, nil
		}
		q, err := getQuery(qTreePage)
		if err != nil {
			return nil, err
		}
		var data struct {
			Project *struct {
				Repository *struct {
					Tree *struct {
						Blobs treeConn `json:"blobs"`
					} `json:"tree"`
				} `json:"repository"`
			} `json:"project"`
		}
		if _, err := f.c.graphql(ctx, q, map[string]any{"fullPath": project, "after": conn.PageInfo.EndCursor}, &data); err != nil {
			return nil, err
		}
		if data.Project == nil || data.Project.Repository == nil || data.Project.Repository.Tree == nil {
			return nil, fmt.Errorf("list the files of %s: the next page came back empty", project)
		}
		conn = data.Project.Repository.Tree.Blobs
	}
}

// Files fetches the wanted files (project full path -> file paths), packing projects into requests so that
// each stays within GitLab's complexity limit: projects with the same
// wants are adjacent, and a request asks every project in it for the union
// of their wants (keeping only what each asked for).
func (f *FileFetcher) Files(ctx context.Context, want map[string][]string, progress func(int)) error {
	order := slices.Sorted(func(y func(string) bool) {
		for k := range want {
			if !y(k) {
				return
			}
		}
	})
	if f.rest {
		type job struct{ project, file string }
		var jobs []job
		for _, p := range order {
			for _, name := range want[p] {
				jobs = append(jobs, job{p, name})
			}
		}
		return batches(ctx, f.c, jobs, 1, func(ctx context.Context, b []job) error {
			j := b[0]
			if err := f.fileREST(ctx, f.byPath[j.project], j.file); err != nil {
				return err
			}
			progress(1)
			return nil
		})
	}
	q, err := getQuery(qFiles)
	if err != nil {
		return err
	}
	vars := func(projects, paths []string) map[string]any {
		return map[string]any{"fullPaths": anyStrings(projects), "first": len(projects), "paths": anyStrings(paths), "blobsFirst": len(paths)}
	}
	reqs := packFiles(q, want, vars)
	asked := func(p string) map[string]bool {
		m := map[string]bool{}
		for _, n := range want[p] {
			m[n] = true
		}
		return m
	}
	return batches(ctx, f.c, reqs, 1, func(ctx context.Context, b []fileRequest) error {
		r := b[0]
		var data struct {
			Projects struct {
				Nodes []filesNode `json:"nodes"`
			} `json:"projects"`
		}
		errs, err := f.c.graphql(ctx, q, vars(r.projects, r.paths), &data)
		if errors.Is(err, errTooComplex) {
			return f.filesOneByOne(ctx, q, r.projects, want, asked, vars)
		}
		if err != nil {
			return err
		}
		f.nodeErrors(data.Projects.Nodes, errs)
		for _, n := range data.Projects.Nodes {
			if n.Repository != nil && n.Repository.Blobs != nil {
				a := asked(n.FullPath)
				for _, bl := range n.Repository.Blobs.Nodes {
					f.store(n.FullPath, a, bl)
				}
			}
		}
		f.markUnanswered(r.projects, r.paths, asked)
		n := 0
		for _, p := range r.projects {
			for _, name := range want[p] {
				if slices.Contains(r.paths, name) {
					n++
				}
			}
		}
		progress(n)
		return nil
	})
}

// filesOneByOne is the fallback when GitLab found a packed request too
// complex: one project and its own wants per request.
func (f *FileFetcher) filesOneByOne(ctx context.Context, q *query, projects []string, want map[string][]string, asked func(string) map[string]bool, vars func(p, n []string) map[string]any) error {
	for _, p := range projects {
		var data struct {
			Projects struct {
				Nodes []filesNode `json:"nodes"`
			} `json:"projects"`
		}
		errs, err := f.c.graphql(ctx, q, vars([]string{p}, want[p]), &data)
		if err != nil {
			return err
		}
		f.nodeErrors(data.Projects.Nodes, errs)
		for _, n := range data.Projects.Nodes {
			if n.Repository != nil && n.Repository.Blobs != nil {
				for _, bl := range n.Repository.Blobs.Nodes {
					f.store(n.FullPath, asked(p), bl)
				}
			}
		}
		f.markUnanswered([]string{p}, want[p], asked)
	}
	return nil
}

// markUnanswered records as absent what a request asked for and GitLab did
// not return (deleted since the tree listing, or unreadable), so that the
// next round does not ask again.
func (f *FileFetcher) markUnanswered(projects, paths []string, asked func(string) map[string]bool) {
	for _, p := range projects {
		a := asked(p)
		for _, n := range paths {
			if a[n] && !f.m.Known(p, n) {
				f.m.Put(p, n, nil)
			}
		}
	}
}

// treeREST lists a project's files over REST (paged).
func (f *FileFetcher) treeREST(ctx context.Context, p *inventory.Project) error {
	nodes, err := listAll(ctx, f.c, "list the files of "+p.Path, func(page int64) ([]*gl.TreeNode, *gl.Response, error) {
		return f.c.gl.Repositories.ListTree(p.ID, &gl.ListTreeOptions{ListOptions: gl.ListOptions{PerPage: 100, Page: page}, Recursive: gl.Ptr(true)}, gl.WithContext(ctx))
	})
	var ae *APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusForbidden) {
		// An empty repository answers 404 "Tree Not Found".
		f.m.SetTree(p.Path, nil)
		if ae.Status == http.StatusForbidden {
			f.warnf(p.Path, "", "cannot read the repository: %s", ae.Msg)
		}
		return nil
	}
	if err != nil {
		return err
	}
	var paths []string
	for _, n := range nodes {
		if n.Type == "blob" {
			paths = append(paths, n.Path)
		}
	}
	f.m.SetTree(p.Path, paths)
	return nil
}

// fileREST fetches one file over REST.
func (f *FileFetcher) fileREST(ctx context.Context, p *inventory.Project, name string) error {
	if err := f.c.acquire(ctx); err != nil {
		return err
	}
	data, _, err := f.c.gl.RepositoryFiles.GetRawFile(p.ID, name, &gl.GetRawFileOptions{}, gl.WithContext(ctx))
	f.c.release()
	switch {
	case errors.Is(err, gl.ErrNotFound):
		f.m.Put(p.Path, name, nil)
		return nil
	case err != nil:
		return f.c.apiError("read "+p.Path+"/"+name, err)
	case int64(len(data)) > f.maxFile:
		f.m.Put(p.Path, name, nil)
		f.tooLarge(p.Path, name, len(data))
		return nil
	}
	if data == nil {
		data = []byte{}
	}
	f.m.Put(p.Path, name, data)
	return nil
}

func configPath(p *inventory.Project) string {
	if p.CIConfigPath != "" {
		return p.CIConfigPath
	}
	return ".gitlab-ci.yml"
}

func pathsOf(ps []*inventory.Project) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Path
	}
	return out
}

// fileRequest is one ProjectFiles request: projects asked for the union of
// their wanted paths.
type fileRequest struct {
	projects []string
	paths    []string
}

// packFiles packs the wanted files into as few requests as GitLab's
// complexity limit allows: projects with the same wants are adjacent, and a
// project wanting more than one request holds is split by paths.
func packFiles(q *query, want map[string][]string, vars func(projects, paths []string) map[string]any) []fileRequest {
	order := slices.Sorted(func(y func(string) bool) {
		for k := range want {
			if !y(k) {
				return
			}
		}
	})
	slices.SortStableFunc(order, func(a, b string) int {
		return strings.Compare(strings.Join(want[a], "\x00"), strings.Join(want[b], "\x00"))
	})
	fits := func(n, k int) bool {
		if n > schema.MaxFullPaths || k > schema.MaxPageSize {
			return false
		}
		c, err := schema.Complexity(q.doc, "", vars(make([]string, n), make([]string, k)))
		return err == nil && c <= schema.MaxComplexityAuthenticated
	}
	var reqs []fileRequest
	var cur fileRequest
	union := map[string]bool{}
	flush := func() {
		if len(cur.projects) > 0 {
			cur.paths = slices.Sorted(func(y func(string) bool) {
				for k := range union {
					if !y(k) {
						return
					}
				}
			})
			reqs = append(reqs, cur)
		}
		cur, union = fileRequest{}, map[string]bool{}
	}
	for _, p := range order {
		names := want[p]
		for len(names) > 0 {
			k := len(names)
			for k > 1 && !fits(1, k) {
				k /= 2
			}
			chunk := names[:k]
			names = names[k:]
			extra := 0
			for _, n := range chunk {
				if !union[n] {
					extra++
				}
			}
			if len(cur.projects) > 0 && (!fits(len(cur.projects)+1, len(union)+extra) || slices.Contains(cur.projects, p)) {
				flush()
			}
			cur.projects = append(cur.projects, p)
			for _, n := range chunk {
				union[n] = true
			}
		}
	}
	flush()
	return reqs
}
