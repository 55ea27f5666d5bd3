package ciconfig

import (
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/limits"
)

// extends, after GitLab's Config::Extendable::Entry (lib/gitlab/ci/config/extendable/entry.rb;
// https://docs.gitlab.com/ci/yaml/yaml_optimization/): parents are merged in order (later parents win), the entry's own
// keys last; hashes deep-merge, anything else replaces, so `key: null`
// removes an inherited value. The names are any top-level keys of the
// merged configuration.

type extStatus uint8

const (
	extNew extStatus = iota
	extVisiting
	extDone
)

type extEntry struct {
	status extStatus
	val    *node
	// height is the length of the longest extends chain below the entry
	// (0 when it does not extend anything).
	height int
	failed bool
}

// extended is the configuration after extends.
type extended struct {
	cfg    *node           // top-level map with every entry extended
	failed map[string]bool // entries whose extends could not be resolved
	// partial marks entries extended without a parent that is not in the
	// files read (likely in an include that is not in the snapshot): they
	// are analysed with what is known.
	partial map[string]bool
	orig    *node // the merged configuration before extends
	st      map[string]*extEntry
}

func (l *loader) applyExtends(cfg *node) *extended {
	x := &extended{orig: cfg, failed: map[string]bool{}, partial: map[string]bool{}, st: make(map[string]*extEntry, len(cfg.pairs))}
	mb := newMapBuilder(len(cfg.pairs))
	for _, p := range cfg.pairs {
		e := l.extend(x, p.key, nil)
		if !e.failed && e.height > l.lim.MaxExtendsDepth+1 {
			// GitLab checks depth on every entry that extends something:
			// more than MaxExtendsDepth ancestors is an error. Along the
			// longest chain that entry is at MaxExtendsDepth+1.
			deep := l.deepEntry(x, p.key, l.lim.MaxExtendsDepth+1)
			dp, _ := cfg.lookup(deep)
			l.errorAt(dp.pos(), "flatten the extends chain (GitLab allows 10 ancestors; "+limits.FixedNote(limits.ExtendsDepth)+")", "%s: nesting too deep in `extends`", deep)
			x.failed[p.key] = true
		}
		if e.failed {
			x.failed[p.key] = true
		}
		q := p
		q.val = e.val
		mb.set(q)
	}
	x.cfg = mb.build(cfg.src, int(cfg.line))
	return x
}

// deepEntry follows the longest extends chain from key for steps steps.
func (l *loader) deepEntry(x *extended, key string, steps int) string {
	for range steps {
		p, _ := x.orig.lookup(key)
		next := ""
		for _, parent := range extendsNames(p.val) {
			if e := x.st[parent]; e != nil && e.height == x.st[key].height-1 {
				next = parent
				break
			}
		}
		if next == "" {
			break
		}
		key = next
	}
	return key
}

// extendsNames returns the parent names of an entry, or nil.
func extendsNames(v *node) []string {
	ext := v.get("extends")
	switch {
	case ext == nil || ext.isNull():
		return nil
	case ext.kind == kScalar:
		return []string{ext.str}
	case ext.kind == kSeq:
		names := make([]string, 0, len(ext.items))
		for _, it := range ext.items {
			if it.kind == kScalar {
				names = append(names, it.str)
			}
		}
		return names
	}
	return nil
}

func (l *loader) extend(x *extended, key string, ancestors []string) *extEntry {
	e := x.st[key]
	if e == nil {
		e = &extEntry{}
		x.st[key] = e
	}
	switch e.status {
	case extDone:
		return e
	case extVisiting:
		p, _ := x.orig.lookup(key)
		chain := append(ancestors[indexOf(ancestors, key):], key)
		l.errorAt(p.pos(), "break the loop: an entry cannot extend itself, directly or through others",
			"%s: circular dependency detected in `extends` (%s)", key, strings.Join(chain, " → "))
		return &extEntry{failed: true, status: extDone}
	}
	p, _ := x.orig.lookup(key)
	v := p.val
	e.val = v
	ext, has := v.lookup("extends")
	if !v.isMap() || !has || ext.val.isNull() {
		e.status = extDone
		return e
	}
	e.status = extVisiting
	defer func() { e.status = extDone }()
	if ext.val.kind != kScalar && !(ext.val.kind == kSeq && allScalars(ext.val.items)) {
		l.errorAt(ext.pos(), "give extends: a name or a list of names", "%s: extends config should be a string or an array of strings", key)
		e.failed = true
		return e
	}
	names := extendsNames(v)
	var unknown, invalid []string
	for _, n := range names {
		pp, ok := x.orig.lookup(n)
		switch {
		case !ok:
			unknown = append(unknown, n)
		case !pp.val.isMap():
			invalid = append(invalid, n)
		}
	}
	if len(unknown) > 0 {
		likely := l.likelyIn()
		if likely == "" {
			// Every include was read: GitLab rejects the configuration.
			l.errorAt(ext.pos(), "define the hidden job or job it names, or fix the name (it may be in a file that is not included)",
				"%s: unknown keys in `extends` (%s)", key, strings.Join(unknown, ", "))
			e.failed = true
			return e
		}
		// The parent is most likely in an include the snapshot lacks: GitLab
		// has it, so the job runs. Analyse it, and the jobs that extend it,
		// with what is known rather than drop them.
		l.warnAt(ext.pos(), likely+"; the job is analysed without what it inherits from there (add that project to the snapshot to analyse it whole)",
			"%s: extends %s, which is not in the files read", key, strings.Join(unknown, ", "))
		x.partial[key] = true
		names = slices.DeleteFunc(names, func(n string) bool { return slices.Contains(unknown, n) })
	}
	if len(invalid) > 0 {
		l.errorAt(ext.pos(), "extends can only name mappings (jobs or hidden jobs)",
			"%s: invalid base hashes in `extends` (%s)", key, strings.Join(invalid, ", "))
		e.failed = true
		return e
	}
	ancestors = append(ancestors, key)
	var merged *node
	for _, n := range names {
		pe := l.extend(x, n, ancestors)
		if pe.failed {
			e.failed = true
			return e
		}
		if x.partial[n] {
			x.partial[key] = true
		}
		e.height = max(e.height, pe.height+1)
		merged = deepMerge(merged, pe.val)
	}
	e.val = deepMerge(merged, v)
	return e
}

func allScalars(ns []*node) bool {
	for _, n := range ns {
		if n.kind != kScalar {
			return false
		}
	}
	return true
}

func indexOf(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return 0
}
