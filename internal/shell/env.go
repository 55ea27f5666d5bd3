package shell

import (
	"slices"
)

// variable is a shell variable as the analyser knows it.
type variable struct {
	value    string
	unknown  []string // as in Word.Unknown; the value holds placeholders
	elems    []Word   // indexed array elements (nil for a scalar)
	isArray  bool
	state    varState
	exported bool
	// job: the value comes from the job's variables (the base Env), not
	// from an assignment of the script.
	job bool
	// alts are the other values the variable may hold after branches
	// assigned it differently (see alts.go); nil almost always.
	alts []altVal
}

type varState uint8

const (
	varSet    varState = iota
	varUnset           // unset X: known to be empty
	varAbsent          // never known: behaves as if missing from every layer
)

func (v *variable) word() Word {
	if v.isArray {
		if len(v.elems) == 0 {
			return Word{}
		}
		return v.elems[0]
	}
	return Word{Value: v.value, Unknown: v.unknown}
}

// maxLayers bounds the chain of overlay layers; a longer chain is
// flattened so that a lookup never walks more than this many layers.
const maxLayers = 12

// smallLayer is the number of variables a layer keeps in a slice before
// it switches to a map.
const smallLayer = 8

type entry struct {
	name string
	v    *variable
}

// layer is one immutable-once-frozen level of variables on top of a base
// Env. Commands keep a pointer to the layer current when they ran, so
// later assignments go to a new layer instead of copying the environment
// for every command.
type layer struct {
	parent *layer
	small  []entry              // the variables, while few
	big    map[string]*variable // the variables, once many (flattened layers)
	base   Env                  // set on the root only
	depth  int                  // layers above the nearest root or barrier
	frozen bool
	// barrier hides the variables of the layers below that are not
	// exported: the environment of a child process (bash x.sh).
	barrier bool
}

func newRoot(base Env) *layer {
	if base == nil {
		base = MapEnv(nil)
	}
	return &layer{base: base}
}

func (l *layer) own(name string) (*variable, bool) {
	if l.big != nil {
		v, ok := l.big[name]
		return v, ok
	}
	for i := len(l.small) - 1; i >= 0; i-- {
		if l.small[i].name == name {
			return l.small[i].v, true
		}
	}
	return nil, false
}

// lookup finds name through the layers; ok is false when neither a layer
// nor the base knows it (the result then only says whether the name is
// marked for export). The result is a copy.
func (l *layer) lookup(name string) (variable, bool) {
	hidden := false
	for c := l; c != nil; c = c.parent {
		if c.base != nil {
			s, ok := c.base.Get(name)
			if !ok {
				return variable{}, false
			}
			return variable{value: s, exported: true, job: true}, true
		}
		if v, ok := c.own(name); ok {
			if v.state == varAbsent {
				// Not known, but maybe marked for export (export X
				// before X is assigned).
				return variable{state: varAbsent, exported: v.exported}, false
			}
			if hidden && !v.exported {
				return variable{state: varUnset}, true
			}
			return *v, true
		}
		if c.barrier {
			hidden = true
		}
	}
	return variable{}, false
}

// Get implements Env: unset and unknown-to-us variables are not set;
// variables whose value is partly unknown return it with placeholders.
func (l *layer) Get(name string) (string, bool) {
	v, ok := l.lookup(name)
	if !ok || v.state != varSet {
		return "", false
	}
	return v.word().Value, true
}

// Exported reports whether name is set and exported to child processes
// (job variables always are; shell variables after export or declare -x).
func (l *layer) Exported(name string) bool {
	v, ok := l.lookup(name)
	return ok && v.state == varSet && v.exported
}

// Range calls f for every variable set at this point, in name order.
// Variables of the base Env are included when it implements RangeEnv.
func (l *layer) Range(f func(name, value string) bool) {
	seen := map[string]bool{}
	var names []string
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	for c := l; c != nil; c = c.parent {
		if c.base != nil {
			if r, ok := c.base.(RangeEnv); ok {
				r.Range(func(name, _ string) bool {
					add(name)
					return true
				})
			}
			break
		}
		for _, e := range c.small {
			add(e.name)
		}
		for name := range c.big {
			add(name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		if v, ok := l.Get(name); ok {
			if !f(name, v) {
				return
			}
		}
	}
}

// set stores v for name on the current layer, opening a new layer when
// the current one has been handed out, and flattening long chains. It
// returns the layer to use from now on.
func (l *layer) set(name string, v *variable) *layer {
	cur := l
	if cur.frozen || cur.base != nil {
		if l.depth+1 > maxLayers {
			cur = flatten(l)
		} else {
			cur = &layer{parent: l, depth: l.depth + 1}
		}
	}
	cur.put(name, v)
	return cur
}

func (l *layer) put(name string, v *variable) {
	if l.big != nil {
		l.big[name] = v
		return
	}
	for i := range l.small {
		if l.small[i].name == name {
			l.small[i].v = v
			return
		}
	}
	if len(l.small) < smallLayer {
		l.small = append(l.small, entry{name, v})
		return
	}
	l.big = make(map[string]*variable, 2*smallLayer)
	for _, e := range l.small {
		l.big[e.name] = e.v
	}
	l.small = nil
	l.big[name] = v
}

// flatten copies the overlay layers of l into one layer on top of the
// root (or of the nearest barrier, whose semantics must be kept).
func flatten(l *layer) *layer {
	var chain []*layer
	c := l
	for ; c.base == nil && !c.barrier; c = c.parent {
		chain = append(chain, c)
	}
	out := &layer{parent: c, depth: 1, big: map[string]*variable{}}
	for i := len(chain) - 1; i >= 0; i-- {
		for _, e := range chain[i].small {
			out.big[e.name] = e.v
		}
		for k, v := range chain[i].big {
			out.big[k] = v
		}
	}
	return out
}

// freeze marks l as shared: later writes go to a new layer.
func (l *layer) freeze() *layer {
	l.frozen = true
	return l
}

// child returns a layer for a child process: only exported variables
// are visible through it.
func (l *layer) child() *layer {
	l.frozen = true
	return &layer{parent: l, barrier: true, frozen: true}
}

// RangeEnv is an Env that can list its variables.
type RangeEnv interface {
	Env
	// Range calls f for each variable in name order until f returns false.
	Range(f func(name, value string) bool)
}

// Range implements RangeEnv.
func (m MapEnv) Range(f func(name, value string) bool) {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if !f(k, m[k]) {
			return
		}
	}
}

// ExportEnv is an Env that knows which variables are exported to child
// processes: the Env of a Command implements it (a tool such as pip
// only sees exported variables).
type ExportEnv interface {
	Env
	Exported(name string) bool
}
