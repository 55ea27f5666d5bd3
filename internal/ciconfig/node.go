package ciconfig

import (
	"maps"
	"math"

	"github.com/tokenscope/tokenscope/internal/loc"
)

// The loader works on its own value tree instead of yaml.Node so that it can
// carry Psych's semantics (typed scalars with Ruby's to_s, merge keys already
// applied, last duplicate key wins) and positions through merges.
//
// Nodes are immutable once built. Merges build new maps that share the
// unchanged subtrees, so YAML aliases stay shared (a billion-laughs document
// never expands in memory) and a cached file's tree can be used by any number
// of concurrent loads without copying.

type kind uint8

const (
	kNull kind = iota
	kScalar
	kMap
	kSeq
	kRef // a !reference tag: items are the path (validated when resolved)
)

// scalarType is the Ruby class Psych gives a scalar.
type scalarType uint8

const (
	tStr scalarType = iota
	tInt
	tFloat
	tBool
)

// style records how a scalar was written, for script line mapping.
type style uint8

const (
	sPlain style = iota
	sQuoted
	sLiteral
	sFolded
)

// source is a file of a project; shared by all nodes of that file.
type source struct {
	project string
	file    string
}

type node struct {
	kind  kind
	typ   scalarType
	style style
	// multiline is set on plain or quoted scalars whose text spans lines of
	// the file in a way that does not map one to one (see Script.LineStep).
	multiline bool
	line      int32
	depth     int32
	src       *source
	str       string // scalar: the value as Ruby's to_s renders it
	pairs     []pair // kMap, in insertion order
	items     []*node
	index     map[string]int32 // kMap with many keys
	count     int64            // nodes in the expanded tree (aliases counted each time)
}

type pair struct {
	key  string
	src  *source
	line int32
	val  *node
}

func (p pair) pos() loc.Pos {
	return loc.Pos{Project: p.src.project, File: p.src.file, Line: int(p.line)}
}

func (n *node) pos() loc.Pos {
	if n == nil || n.src == nil {
		return loc.Pos{}
	}
	return loc.Pos{Project: n.src.project, File: n.src.file, Line: int(n.line)}
}

// indexThreshold is the map size above which lookups go through an index.
const indexThreshold = 12

// maxCount caps node counts so that sums cannot overflow.
const maxCount = math.MaxInt64 / 4

func addCount(a, b int64) int64 {
	if a+b > maxCount || a+b < 0 {
		return maxCount
	}
	return a + b
}

func newScalar(src *source, line int, typ scalarType, s string, st style) *node {
	return &node{kind: kScalar, typ: typ, style: st, src: src, line: int32(line), str: s, count: 1, depth: 1}
}

func newNull(src *source, line int) *node {
	return &node{kind: kNull, src: src, line: int32(line), count: 1, depth: 1}
}

func newSeq(src *source, line int, items []*node) *node {
	n := &node{kind: kSeq, src: src, line: int32(line), items: items}
	n.finish()
	return n
}

// finish computes count, depth and the key index of a freshly built node.
func (n *node) finish() {
	n.count, n.depth = 1, 1
	switch n.kind {
	case kMap:
		for _, p := range n.pairs {
			n.count = addCount(n.count, addCount(1, p.val.count))
			n.depth = max(n.depth, p.val.depth+1)
		}
		if len(n.pairs) > indexThreshold && n.index == nil {
			n.index = make(map[string]int32, len(n.pairs))
			for i, p := range n.pairs {
				n.index[p.key] = int32(i)
			}
		}
	case kSeq, kRef:
		for _, it := range n.items {
			n.count = addCount(n.count, it.count)
			n.depth = max(n.depth, it.depth+1)
		}
	}
}

// lookup returns the pair for key in a map node.
func (n *node) lookup(key string) (pair, bool) {
	if n == nil || n.kind != kMap {
		return pair{}, false
	}
	if n.index != nil {
		i, ok := n.index[key]
		if !ok {
			return pair{}, false
		}
		return n.pairs[i], true
	}
	for _, p := range n.pairs {
		if p.key == key {
			return p, true
		}
	}
	return pair{}, false
}

// get returns the value of key in a map node, nil when absent.
func (n *node) get(key string) *node {
	p, ok := n.lookup(key)
	if !ok {
		return nil
	}
	return p.val
}

func (n *node) isMap() bool  { return n != nil && n.kind == kMap }
func (n *node) isSeq() bool  { return n != nil && n.kind == kSeq }
func (n *node) isNull() bool { return n == nil || n.kind == kNull }

// isString reports whether n is a scalar Psych loads as a Ruby String.
func (n *node) isString() bool { return n != nil && n.kind == kScalar && n.typ == tStr }

// truthy mirrors Ruby: everything but nil and false.
func (n *node) truthy() bool {
	return n != nil && n.kind != kNull && !(n.kind == kScalar && n.typ == tBool && n.str == "false")
}

// mapBuilder builds a map node with Ruby Hash semantics: setting an existing
// key replaces its value in place, a new key is appended.
type mapBuilder struct {
	pairs []pair
	index map[string]int32
}

func newMapBuilder(size int) *mapBuilder {
	return &mapBuilder{pairs: make([]pair, 0, size)}
}

// from starts the builder as a copy of map node n (which is not changed).
func (b *mapBuilder) from(n *node) {
	b.pairs = append(b.pairs[:0], n.pairs...)
	b.index = nil
	if n.index != nil {
		b.index = maps.Clone(n.index)
	}
}

func (b *mapBuilder) find(key string) int {
	if b.index != nil {
		if i, ok := b.index[key]; ok {
			return int(i)
		}
		return -1
	}
	for i, p := range b.pairs {
		if p.key == key {
			return i
		}
	}
	return -1
}

// set stores p and returns its index.
func (b *mapBuilder) set(p pair) int {
	if i := b.find(p.key); i >= 0 {
		b.pairs[i] = p
		return i
	}
	b.pairs = append(b.pairs, p)
	if b.index != nil {
		b.index[p.key] = int32(len(b.pairs) - 1)
	} else if len(b.pairs) > indexThreshold {
		b.index = make(map[string]int32, len(b.pairs)*2)
		for i, q := range b.pairs {
			b.index[q.key] = int32(i)
		}
	}
	return len(b.pairs) - 1
}

func (b *mapBuilder) get(key string) (pair, bool) {
	if i := b.find(key); i >= 0 {
		return b.pairs[i], true
	}
	return pair{}, false
}

func (b *mapBuilder) build(src *source, line int) *node {
	n := &node{kind: kMap, src: src, line: int32(line), pairs: b.pairs, index: b.index}
	n.finish()
	return n
}

// deepMerge is ActiveSupport's Hash#deep_merge as GitLab uses it for
// includes and extends: hashes merge key by key at any depth, anything else
// in b (arrays, scalars, nil, !reference) replaces what a had. Neither input
// is modified.
func deepMerge(a, b *node) *node {
	if !a.isMap() || !b.isMap() {
		return b
	}
	if len(b.pairs) == 0 {
		return a
	}
	if len(a.pairs) == 0 {
		return b
	}
	mb := newMapBuilder(len(a.pairs) + len(b.pairs))
	mb.from(a)
	for _, p := range b.pairs {
		if old, ok := mb.get(p.key); ok && old.val.isMap() && p.val.isMap() {
			p.val = deepMerge(old.val, p.val)
		}
		mb.set(p)
	}
	return mb.build(b.src, int(b.line))
}

// merger is deepMerge folded over a sequence (deepMerge(deepMerge(a, b),
// c) ...) with one builder for the top level. Folding pairwise copied the
// growing top level, and its index, once per step: a root file with a
// hundred includes of five jobs each copied the job map a hundred times.
// The result is the same node deepMerge would build, key order included.
type merger struct {
	cur  *node       // the result so far, while mb is nil
	mb   *mapBuilder // the top level, once two non-empty maps met
	src  *source     // where the result says it is from: the last non-empty map
	line int
}

func (m *merger) add(b *node) {
	if m.mb == nil {
		a := m.cur
		switch {
		case !a.isMap() || !b.isMap():
			m.cur = b
		case len(b.pairs) == 0:
		case len(a.pairs) == 0:
			m.cur = b
		default:
			m.mb = newMapBuilder(len(a.pairs) + len(b.pairs))
			m.mb.from(a)
			m.fold(b)
		}
		return
	}
	switch {
	case !b.isMap():
		m.mb, m.cur = nil, b
	case len(b.pairs) > 0:
		m.fold(b)
	}
}

func (m *merger) fold(b *node) {
	for _, p := range b.pairs {
		if old, ok := m.mb.get(p.key); ok && old.val.isMap() && p.val.isMap() {
			p.val = deepMerge(old.val, p.val)
		}
		m.mb.set(p)
	}
	m.src, m.line = b.src, int(b.line)
}

// result is the merge of everything added; nil when nothing was.
func (m *merger) result() *node {
	if m.mb == nil {
		return m.cur
	}
	return m.mb.build(m.src, m.line)
}

// without returns map n minus key (shared children).
func (n *node) without(key string) *node {
	if _, ok := n.lookup(key); !ok {
		return n
	}
	mb := newMapBuilder(len(n.pairs))
	for _, p := range n.pairs {
		if p.key != key {
			mb.set(p)
		}
	}
	return mb.build(n.src, int(n.line))
}
