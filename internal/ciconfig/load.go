package ciconfig

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/limits"
	"github.com/tokenscope/tokenscope/internal/loc"
)

// Cache shares files of other projects (include:project, components,
// shared templates) between the loads of many projects: each is read,
// parsed and interpolated once per set of inputs. Cached trees are
// immutable, so concurrent loads use them without copying. Safe for
// concurrent use.
type Cache struct {
	mu     sync.Mutex
	parsed map[parseKey]*parseEntry
	interp map[interpKey]*interpEntry
}

// maxCacheEntries bounds the cache; beyond it files are parsed per load.
const maxCacheEntries = 20_000

type parseKey struct {
	project, file      string
	maxNodes, maxDepth int
	maxBytes           int64
}

type parseEntry struct {
	once sync.Once
	f    *readFile
}

type interpKey struct {
	project, file, inputs, comp string
	maxNodes, maxDepth          int
	maxBytes                    int64
}

type interpEntry struct {
	once    sync.Once
	content *node
	errs    []string
	// vars: the result used expand_vars, so it depends on the project's
	// variables and must not be shared.
	vars bool
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{parsed: map[parseKey]*parseEntry{}, interp: map[interpKey]*interpEntry{}}
}

func (c *Cache) parseEntry(k parseKey) *parseEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.parsed == nil {
		c.parsed = map[parseKey]*parseEntry{}
	}
	e := c.parsed[k]
	if e == nil {
		e = &parseEntry{}
		if len(c.parsed) < maxCacheEntries {
			c.parsed[k] = e
		}
	}
	return e
}

func (c *Cache) interpEntry(k interpKey) *interpEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.interp == nil {
		c.interp = map[interpKey]*interpEntry{}
	}
	e := c.interp[k]
	if e == nil {
		e = &interpEntry{}
		if len(c.interp) < maxCacheEntries {
			c.interp[k] = e
		}
	}
	return e
}

// recoverPanics turns an unexpected panic into a diagnostic. The fuzz test
// switches it off so that the fuzzer sees the panic.
var recoverPanics = true

// Load reads the CI configuration of project, starting at file (its
// .gitlab-ci.yml or configured CI path), and returns its effective jobs.
// It never panics on bad input: problems are diagnostics in the result.
func Load(project, file string, opts Options) (cfg *Config) {
	cfg = &Config{Project: project, File: file}
	l := newLoader(project, file, opts)
	defer func() {
		if recoverPanics {
			if r := recover(); r != nil {
				cfg.Jobs = nil
				l.errorAt(loc.Pos{Project: project, File: file}, "please report it with this file; the rest of the scan is not affected",
					"internal error while reading the CI configuration: %v", r)
			}
		}
		cfg.Missing = l.rootMissing
		cfg.Notes = sortNotes(l.notes)
		cfg.Diags = l.diags.Sort()
	}()
	cfg.Jobs = l.run()
	slices.SortFunc(cfg.Jobs, func(a, b Job) int { return cmp.Compare(a.Name, b.Name) })
	return cfg
}

// loader holds the state of one Load.
type loader struct {
	project string
	root    string
	opts    Options
	lim     Limits
	diags   diag.List
	notes   []Note
	// include accounting (GitLab counts every included file, duplicates too)
	includes     int
	bytes        int64
	stopIncludes bool
	// out counts values produced for jobs (script items, variables), a
	// budget against configurations that expand through !reference.
	out     int64
	outDone bool
	// rootMissing: the root configuration file does not exist.
	rootMissing bool
	// longVars marks variables already reported by checkVariableSizes.
	longVars map[loc.Pos]bool
	// unfetched lists the included files not read (not in the snapshot,
	// remote, templates), with where they are included: a name extends or
	// !reference cannot find is likely defined in one of them.
	unfetched []string
	// unseen names the includes whose jobs are not seen (remote and
	// template), for jobs that only override one of theirs.
	unseen []string
	// Child pipelines (child.go): the nesting level of this configuration
	// (0: the project's pipeline), the configurations above it, the child
	// pipelines expanded by the whole Load, and the trigger jobs with
	// trigger:include seen in this configuration.
	depth         int
	childChain    []string
	children      *childBudget
	childTriggers []childTrigger
}

func newLoader(project, file string, opts Options) *loader {
	lim := opts.Limits
	d := DefaultLimits
	lim.MaxIncludes = cmp.Or(lim.MaxIncludes, d.MaxIncludes)
	lim.MaxIncludeDepth = cmp.Or(lim.MaxIncludeDepth, d.MaxIncludeDepth)
	lim.MaxExtendsDepth = cmp.Or(lim.MaxExtendsDepth, d.MaxExtendsDepth)
	lim.MaxReferenceDepth = cmp.Or(lim.MaxReferenceDepth, d.MaxReferenceDepth)
	lim.MaxNodes = cmp.Or(lim.MaxNodes, d.MaxNodes)
	lim.MaxDepth = cmp.Or(lim.MaxDepth, d.MaxDepth)
	lim.MaxTotalBytes = cmp.Or(lim.MaxTotalBytes, d.MaxTotalBytes)
	lim.MaxInterpolatedBytes = cmp.Or(lim.MaxInterpolatedBytes, d.MaxInterpolatedBytes)
	lim.MaxChildPipelines = cmp.Or(lim.MaxChildPipelines, d.MaxChildPipelines)
	lim.MaxMatrixVariants = cmp.Or(lim.MaxMatrixVariants, d.MaxMatrixVariants)
	return &loader{project: project, root: file, opts: opts, lim: lim, childChain: rootChain(file), children: &childBudget{}}
}

// run is GitLab's Config#build_config: load and include, extends,
// !reference, then the jobs.
func (l *loader) run() []Job {
	if l.opts.Files == nil {
		l.errorAt(loc.Pos{Project: l.project, File: l.root}, "internal: Options.Files is nil",
			"no repository files to read the CI configuration from")
		return nil
	}
	root := &fileCtx{project: l.project, file: l.root, kind: incRoot, via: loc.Pos{Project: l.project, File: l.root}}
	cfg := l.loadTree(root, nil)
	if cfg == nil {
		return nil
	}
	ext := l.applyExtends(cfg)
	r := newRefResolver(l, ext.cfg)
	return l.withChildren(l.jobs(ext, r))
}

// note records a note about the loaded project, placed at pos. When pos is
// in another project's file (an included template), the detail says so.
func (l *loader) note(kind NoteKind, pos loc.Pos, job, format string, args ...any) {
	detail := fmt.Sprintf(format, args...)
	if pos.Project != "" && pos.Project != l.project {
		detail += fmt.Sprintf(" (in %s of project %s)", pos.File, pos.Project)
	}
	// The note is in the file's own project (an included template's),
	// as scan evidence is; discovery adds the caller.
	l.notes = append(l.notes, Note{Pos: loc.Pos{Project: cmp.Or(pos.Project, l.project), File: pos.File, Line: pos.Line}, Job: job, Kind: kind, Detail: detail})
	if kind == NotFetched && job == "" {
		what, _, _ := strings.Cut(detail, ";")
		l.unfetched = append(l.unfetched, what+" ("+loc.Pos{File: pos.File, Line: pos.Line}.Place()+")")
	}
}

// likelyIn says where a name that is not in the files read is likely
// defined: the included files that were not read. "" when every include
// was read (the name is then simply unknown).
func (l *loader) likelyIn() string {
	switch n := len(l.unfetched); {
	case n == 0:
		return ""
	case n == 1:
		return "it is likely defined in the included file that is not in the snapshot: " + l.unfetched[0]
	case n <= 3:
		return "it is likely defined in one of the included files that are not in the snapshot: " + strings.Join(l.unfetched, "; ")
	default:
		return fmt.Sprintf("it is likely defined in one of the %d included files that are not in the snapshot: %s; and %d more", n, strings.Join(l.unfetched[:3], "; "), n-3)
	}
}

// sortNotes orders notes by place, job, kind and detail and drops
// exact duplicates.
func sortNotes(ns []Note) []Note {
	slices.SortFunc(ns, func(a, b Note) int {
		return cmp.Or(loc.Compare(a.Pos, b.Pos), cmp.Compare(a.Job, b.Job), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Detail, b.Detail))
	})
	return slices.Compact(ns)
}

// errorAt and warnAt place a diagnostic in the file pos names.
func (l *loader) errorAt(pos loc.Pos, detail, format string, args ...any) {
	l.diags = append(l.diags, diag.Diagnostic{Severity: diag.Error, Pos: pos,
		Summary: fmt.Sprintf(format, args...), Detail: detail})
}

func (l *loader) warnAt(pos loc.Pos, detail, format string, args ...any) {
	l.diags = append(l.diags, diag.Diagnostic{Severity: diag.Warning, Pos: pos,
		Summary: fmt.Sprintf(format, args...), Detail: detail})
}

// produce charges n values to the output budget; false once it is spent.
func (l *loader) produce(n int, pos loc.Pos) bool {
	if l.outDone {
		return false
	}
	l.out += int64(n)
	if l.out > int64(l.lim.MaxNodes) {
		l.outDone = true
		l.errorAt(pos, "the configuration multiplies content through !reference or extends; simplify it, or "+limits.Raise(limits.YAMLNodes, int64(l.lim.MaxNodes)),
			"the configuration expands to more than %d script lines and variables; tokenscope stopped reading jobs here", l.lim.MaxNodes)
		return false
	}
	return true
}
