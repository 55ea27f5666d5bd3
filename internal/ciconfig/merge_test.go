package ciconfig

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestMergerIsFoldedDeepMerge checks that merging a sequence of files in
// one builder (merger) gives exactly what folding deepMerge pairwise gives:
// the same keys in the same order, the same values and places, on random
// sequences of maps, empty maps, non-maps and nested maps.
func TestMergerIsFoldedDeepMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	srcs := []*source{{"g/a", "a.yml"}, {"g/a", "b.yml"}, {"g/b", "c.yml"}}
	keys := []string{"stages", "variables", "job1", "job2", ".base", "default", "workflow", "k7", "k8", "k9", "k10", "k11", "k12", "k13", "k14"}
	var gen func(depth int) *node
	gen = func(depth int) *node {
		src := srcs[r.IntN(len(srcs))]
		line := 1 + r.IntN(50)
		switch x := r.IntN(10); {
		case depth > 2 || x < 3:
			return newScalar(src, line, tStr, fmt.Sprint("v", r.IntN(5)), sPlain)
		case x == 3:
			return newSeq(src, line, []*node{newScalar(src, line, tStr, "x", sPlain)})
		case x == 4:
			return newNull(src, line)
		default:
			mb := newMapBuilder(0)
			// Up to 15 keys: maps above indexThreshold keys get an index.
			for range r.IntN(len(keys) + 1) {
				k := keys[r.IntN(len(keys))]
				mb.set(pair{key: k, src: src, line: int32(line), val: gen(depth + 1)})
			}
			return mb.build(src, line)
		}
	}
	for i := range 3000 {
		var seq []*node
		for range 1 + r.IntN(8) {
			n := gen(0)
			if r.IntN(8) != 0 && !n.isMap() {
				n = gen(0)
			}
			seq = append(seq, n)
		}
		var want *node
		var m merger
		for _, n := range seq {
			want = deepMerge(want, n)
			m.add(n)
		}
		if got := m.result(); !sameNode(got, want) {
			t.Fatalf("case %d: merger differs from folded deepMerge:\n got %s\nwant %s", i, dumpNode(got), dumpNode(want))
		}
	}
}

func sameNode(a, b *node) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.kind != b.kind || a.str != b.str || a.src != b.src || a.line != b.line || a.count != b.count || a.depth != b.depth ||
		len(a.pairs) != len(b.pairs) || len(a.items) != len(b.items) {
		return false
	}
	for i := range a.pairs {
		p, q := a.pairs[i], b.pairs[i]
		if p.key != q.key || p.src != q.src || p.line != q.line || !sameNode(p.val, q.val) {
			return false
		}
		if a.lookupIndex(p.key) != b.lookupIndex(p.key) {
			return false
		}
	}
	for i := range a.items {
		if !sameNode(a.items[i], b.items[i]) {
			return false
		}
	}
	return true
}

// lookupIndex is where lookup finds key: the index, when there is one,
// must agree with the pairs.
func (n *node) lookupIndex(key string) int32 {
	p, ok := n.lookup(key)
	if !ok {
		return -1
	}
	return p.line
}

func dumpNode(n *node) string {
	if n == nil {
		return "nil"
	}
	switch n.kind {
	case kMap:
		s := fmt.Sprintf("{@%s:%d ", n.src.file, n.line)
		for _, p := range n.pairs {
			s += p.key + ": " + dumpNode(p.val) + ", "
		}
		return s + "}"
	case kSeq:
		return fmt.Sprintf("[%d items]", len(n.items))
	case kNull:
		return "null"
	}
	return n.str
}
