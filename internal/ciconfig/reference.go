package ciconfig

import (
	"strconv"
	"strings"

	"github.com/tokenscope/tokenscope/internal/limits"
)

// !reference, after GitLab's Config::Yaml::Tags::{Resolver,Reference}
// (lib/gitlab/ci/config/yaml/tags/): resolved after extends, against the whole
// merged configuration; the path digs through mappings only; the target is
// resolved recursively; a reference met again while it is being resolved
// is a circular chain.

type refResult struct {
	n      *node
	height int // longest chain of !reference below (1 for a reference to plain data)
}

type refResolver struct {
	l      *loader
	cfg    *node
	memo   map[*node]refResult
	active map[*node]bool
}

func newRefResolver(l *loader, cfg *node) *refResolver {
	return &refResolver{l: l, cfg: cfg, memo: map[*node]refResult{}, active: map[*node]bool{}}
}

// resolve returns n with every !reference replaced by its value. Subtrees
// without references are returned as they are (shared).
func (r *refResolver) resolve(n *node) *node { return r.deep(n).n }

func (r *refResolver) deep(n *node) refResult {
	if n == nil || n.kind == kScalar || n.kind == kNull {
		return refResult{n: n}
	}
	if m, ok := r.memo[n]; ok {
		return m
	}
	var res refResult
	switch n.kind {
	case kRef:
		res = r.reference(n)
	case kSeq:
		res.n = n
		var items []*node
		for i, it := range n.items {
			c := r.deep(it)
			res.height = max(res.height, c.height)
			if c.n != it && items == nil {
				items = make([]*node, len(n.items))
				copy(items, n.items)
			}
			if items != nil {
				items[i] = c.n
			}
		}
		if items != nil {
			res.n = newSeq(n.src, int(n.line), items)
		}
	case kMap:
		res.n = n
		var mb *mapBuilder
		for i, p := range n.pairs {
			c := r.deep(p.val)
			res.height = max(res.height, c.height)
			if c.n != p.val && mb == nil {
				mb = newMapBuilder(len(n.pairs))
				for _, q := range n.pairs[:i] {
					mb.set(q)
				}
			}
			if mb != nil {
				q := p
				q.val = c.n
				mb.set(q)
			}
		}
		if mb != nil {
			res.n = mb.build(n.src, int(n.line))
		}
	}
	r.memo[n] = res
	return res
}

func (r *refResolver) reference(n *node) refResult {
	failed := refResult{n: newNull(n.src, int(n.line))}
	text := refText(n)
	if len(n.items) == 0 || !allStrings(n.items) {
		r.l.errorAt(n.pos(), "write !reference [name, key, ...] with one or more plain names", "%s is not valid", text)
		return failed
	}
	if r.active[n] {
		r.l.errorAt(n.pos(), "break the loop between the references", "%s is part of a circular chain", text)
		return failed
	}
	target := r.cfg
	for _, step := range n.items {
		if !target.isMap() {
			target = nil
			break
		}
		target = target.get(step.str)
	}
	if !target.truthy() {
		if likely := r.l.likelyIn(); likely != "" && !has(r.cfg, n.items[0].str) {
			// The hidden job is most likely in an include the snapshot
			// lacks: the job is analysed without that part.
			r.l.warnAt(n.pos(), likely+"; the job is analysed without it (add that project to the snapshot to analyse it whole)",
				"%s is not in the files read", text)
			return failed
		}
		r.l.errorAt(n.pos(), "check the names: the first is a top-level key (usually a hidden job), the rest are keys inside it",
			"%s could not be found", text)
		return failed
	}
	r.active[n] = true
	res := r.deep(target)
	delete(r.active, n)
	if res.n.isNull() && target.kind == kRef {
		return failed // the nested reference failed and was reported
	}
	res.height++
	if res.height > r.l.lim.MaxReferenceDepth {
		r.l.errorAt(n.pos(), "reference the data directly instead of through a chain of references; "+limits.FixedNote(limits.ReferenceDepth),
			"%s is nested more than %d levels deep", text, r.l.lim.MaxReferenceDepth)
		return failed
	}
	return res
}

func allStrings(ns []*node) bool {
	for _, n := range ns {
		if !n.isString() {
			return false
		}
	}
	return true
}

// refText renders the tag as GitLab's messages do: !reference ["a", "b"].
func refText(n *node) string {
	if n.items == nil {
		return "!reference " + strconv.Quote(n.str)
	}
	parts := make([]string, len(n.items))
	for i, it := range n.items {
		if it.kind == kScalar {
			parts[i] = strconv.Quote(it.str)
		} else {
			parts[i] = "…"
		}
	}
	return "!reference [" + strings.Join(parts, ", ") + "]"
}
