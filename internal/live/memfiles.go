package live

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/tokenscope/tokenscope/internal/detect"
	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/inventory"
)

// repo is what has been fetched of one project's repository.
type repo struct {
	path string          // full path as GitLab spells it
	tree map[string]bool // every blob path on the default branch; nil until listed
	// partial: the listing was cut short (huge repository); a path not in
	// it may still exist, so reads of it are fetched rather than refused.
	partial bool
	list    []string // tree, sorted
	dirs    []string // folders of the tree, sorted (fs.Glob matches them too)
	files   map[string][]byte
	absent  map[string]bool // asked for and not there (or binary, LFS, too large)
	wanted  map[string]bool // read by discovery, not fetched yet
}

// memFiles is an inventory.Files over fetched files that records every
// read of a file it does not have yet: running discovery over it tells
// Snapshot which files to fetch next. A read of a file that the tree
// listing shows is absent answers "not found" without a fetch. It is the
// gitlab.FileStore the client fetches into.
type memFiles struct {
	mu      sync.Mutex
	repos   map[string]*repo           // lower-case path
	outside map[string]map[string]bool // reads in projects outside the snapshot
}

var (
	_ gitlab.FileStore = (*memFiles)(nil)
	_ inventory.Files  = (*memFiles)(nil)
)

func newMemFiles(projects []*inventory.Project) *memFiles {
	m := &memFiles{repos: map[string]*repo{}, outside: map[string]map[string]bool{}}
	for _, p := range projects {
		m.repos[strings.ToLower(p.Path)] = &repo{path: p.Path, files: map[string][]byte{}, absent: map[string]bool{}, wanted: map[string]bool{}}
	}
	return m
}

func (m *memFiles) repo(project string) *repo { return m.repos[strings.ToLower(project)] }

// SetTree records a project's tree listing.
func (m *memFiles) SetTree(project string, paths []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.repo(project)
	r.tree = make(map[string]bool, len(paths))
	for _, p := range paths {
		r.tree[p] = true
	}
	r.list = slices.Sorted(func(yield func(string) bool) {
		for p := range r.tree {
			if !yield(p) {
				return
			}
		}
	})
	dirs := map[string]bool{}
	for _, p := range paths {
		for d := path.Dir(p); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	r.dirs = slices.Sorted(func(yield func(string) bool) {
		for d := range dirs {
			if !yield(d) {
				return
			}
		}
	})
}

// SetPartial marks a project's listing as cut short.
func (m *memFiles) SetPartial(project string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.repo(project).partial = true
}

// Put stores a fetched file; a nil content marks it absent.
func (m *memFiles) Put(project, name string, content []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.repo(project)
	delete(r.wanted, name)
	if content == nil {
		r.absent[name] = true
		return
	}
	r.files[name] = content
}

// Want marks a file to fetch unless it is known.
func (m *memFiles) Want(project, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.repo(project)
	if _, ok := r.files[name]; ok || r.absent[name] || (r.tree != nil && !r.partial && !r.tree[name]) {
		return
	}
	r.wanted[name] = true
}

// Listed reports whether the project's listing holds name.
func (m *memFiles) Listed(project, name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.repo(project).tree[name]
}

// Known reports whether name was fetched or is known absent.
func (m *memFiles) Known(project, name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.repo(project)
	_, ok := r.files[name]
	return ok || r.absent[name]
}

// takeWanted returns the files to fetch next, per project, sorted, and
// forgets them.
func (m *memFiles) takeWanted() map[string][]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]string{}
	for _, r := range m.repos {
		for name := range r.wanted {
			out[r.path] = append(out[r.path], name)
		}
		clear(r.wanted)
		slices.Sort(out[r.path])
	}
	for k, v := range out {
		if len(v) == 0 {
			delete(out, k)
		}
	}
	return out
}

// HasFiles implements inventory.Files.
func (m *memFiles) HasFiles(project string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.repo(project)
	return r != nil && r.tree != nil
}

// ReadFile implements inventory.Files.
func (m *memFiles) ReadFile(project, name string) ([]byte, error) {
	clean, err := cleanRel(name)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.repo(project)
	if r == nil {
		if m.outside[project] == nil {
			m.outside[project] = map[string]bool{}
		}
		m.outside[project][clean] = true
		return nil, fmt.Errorf("%s: %w", project, inventory.ErrNoProject)
	}
	if data, ok := r.files[clean]; ok {
		return data, nil
	}
	if !r.absent[clean] && (r.tree == nil || r.partial || r.tree[clean]) {
		r.wanted[clean] = true
	}
	return nil, fmt.Errorf("%s: %w", clean, fs.ErrNotExist)
}

// Glob implements inventory.Files over the tree listing, with the
// semantics of inventory.GlobFS.
func (m *memFiles) Glob(project, pattern string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.repo(project)
	if r == nil {
		return nil, fmt.Errorf("%s: %w", project, inventory.ErrNoProject)
	}
	pattern = strings.TrimPrefix(pattern, "/")
	double := strings.Contains(pattern, "**")
	if !double {
		if _, err := path.Match(pattern, ""); err != nil {
			return nil, fmt.Errorf("glob %q: %w", pattern, err)
		}
	}
	var out []string
	if !double {
		// fs.Glob, which a snapshot on disk uses, matches folders too.
		for _, d := range r.dirs {
			if ok, _ := path.Match(pattern, d); ok {
				out = append(out, d)
			}
		}
	}
	for _, p := range r.list {
		if double {
			if hiddenDir(p) {
				continue
			}
			if inventory.MatchDoubleStar(pattern, p) {
				out = append(out, p)
			}
		} else if ok, _ := path.Match(pattern, p); ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}

// hiddenDir mirrors GlobFS, which does not walk hidden folders but .gitlab.
func hiddenDir(p string) bool {
	dirs := strings.Split(p, "/")
	for _, d := range dirs[:len(dirs)-1] {
		if strings.HasPrefix(d, ".") && d != ".gitlab" {
			return true
		}
	}
	return false
}

// outsideReads lists projects outside the snapshot whose files were read.
func (m *memFiles) outsideReads() map[string][]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]string{}
	for p, names := range m.outside {
		for n := range names {
			out[p] = append(out[p], n)
		}
		slices.Sort(out[p])
	}
	return out
}

// files returns the fetched files per project.
func (m *memFiles) fetched() map[string]map[string][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]map[string][]byte{}
	for _, r := range m.repos {
		if len(r.files) > 0 {
			out[r.path] = r.files
		}
	}
	return out
}

var errEscapes = errors.New("path leaves the project folder")

// cleanRel normalises a repository-relative path like inventory.Snapshot.
func cleanRel(name string) (string, error) {
	name = strings.TrimPrefix(name, "./")
	name = strings.TrimLeft(name, "/")
	c := path.Clean(name)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%s: %w", name, errEscapes)
	}
	return c, nil
}

// candidate reports whether a repository file is one discovery reads on
// its own (outside any job's commands): the detectors declare which
// (detect.IsRepoFile), so the tree's candidates are fetched before the
// first round instead of one round each.
func candidate(p string) bool { return detect.IsRepoFile(p) }

// maxCandidates bounds the candidate files fetched per project; a monorepo
// with hundreds of Dockerfiles gets the first ones (sorted) and a warning.
const maxCandidates = 100
