package ciconfig

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/limits"
	"github.com/tokenscope/tokenscope/internal/loc"
)

// Variables (https://docs.gitlab.com/ci/variables/, lib/gitlab/ci/config/entry/variable.rb): a scalar becomes its Ruby to_s, a
// hash {value:, expand:, description:, options:} its value's to_s ("" when
// missing), expand: false makes it raw. Job variables override global ones;
// rules:variables, workflow:rules:variables and parallel:matrix are
// alternative sets carried as variants.

// Limits.MaxMatrixVariants caps the parallel:matrix combinations analysed
// per job.

func (l *loader) variables(v *node, where string) []Variable {
	if v == nil || v.isNull() {
		return nil
	}
	if !v.isMap() {
		l.errorAt(v.pos(), "write variables as NAME: value pairs", "%s config should be a hash of key value pairs", where)
		return nil
	}
	out := make([]Variable, 0, len(v.pairs))
	for _, p := range v.pairs {
		vr := Variable{Name: p.key, Pos: p.pos()}
		val := p.val
		switch {
		case val == nil || val.kind == kNull:
		case val.kind == kScalar:
			vr.Value = val.str
		case val.isMap():
			for _, q := range val.pairs {
				switch q.key {
				case "value", "expand", "description", "options":
				default:
					l.warnAt(q.pos(), "use only value, description, expand and options", "variable %s: unknown key %s", p.key, q.key)
				}
			}
			if x := val.get("value"); x != nil && x.kind == kScalar {
				vr.Value = x.str
			}
			if x := val.get("expand"); x != nil && x.kind == kScalar && x.typ == tBool && x.str == "false" {
				vr.Raw = true
			}
		default:
			l.errorAt(p.pos(), "give the variable a string value or {value: ...}", "variable %s: variable definition must be either a string or a hash", p.key)
			continue
		}
		out = append(out, vr)
	}
	sortVariables(out)
	return out
}

func sortVariables(vs []Variable) {
	slices.SortStableFunc(vs, func(a, b Variable) int { return cmp.Compare(a.Name, b.Name) })
}

func filterVariables(vs []Variable, keep func(string) bool) []Variable {
	if !slices.ContainsFunc(vs, func(v Variable) bool { return !keep(v.Name) }) {
		return vs // all kept; callers do not modify it
	}
	var out []Variable
	for _, v := range vs {
		if keep(v.Name) {
			out = append(out, v)
		}
	}
	return out
}

// mergeVariables returns base overridden by over, sorted by name.
func mergeVariables(base, over []Variable) []Variable {
	byName := func(a, b Variable) int { return cmp.Compare(a.Name, b.Name) }
	if slices.IsSortedFunc(base, byName) && slices.IsSortedFunc(over, byName) {
		// Both sorted (variables sorts them): one merge pass, not a
		// search of over per base variable and a sort, for each of a
		// config's hundreds of jobs over its global variables. A base
		// variable over redefines is left out, so no name is in both.
		out := make([]Variable, 0, len(base)+len(over))
		j := 0
		for _, b := range base {
			for j < len(over) && over[j].Name < b.Name {
				out = append(out, over[j])
				j++
			}
			if j < len(over) && over[j].Name == b.Name {
				continue
			}
			out = append(out, b)
		}
		out = append(out, over[j:]...)
		if len(out) == 0 {
			return nil
		}
		return out
	}
	out := make([]Variable, 0, len(base)+len(over))
	for _, b := range base {
		if !slices.ContainsFunc(over, func(o Variable) bool { return o.Name == b.Name }) {
			out = append(out, b)
		}
	}
	out = append(out, over...)
	sortVariables(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

func (l *loader) workflowVariants(wf *node) []Variant {
	rules := wf.get("rules")
	if !rules.isSeq() {
		return nil
	}
	var out []Variant
	for i, rule := range rules.items {
		vars := l.variables(rule.get("variables"), fmt.Sprintf("workflow:rules[%d]:variables", i))
		if len(vars) > 0 {
			out = append(out, Variant{Name: fmt.Sprintf("workflow:rules[%d]", i), Variables: vars})
		}
	}
	return out
}

// variants lists a job's alternative variable sets: each parallel:matrix
// combination, each rules: entry with variables, and each workflow:rules:
// entry with variables (global variables, so the job's own still win).
func (l *loader) variants(job string, v *node, own []Variable, inheritVars func(string) bool, g *globals) (out []Variant, matrix int) {
	out = l.matrix(job, v.get("parallel"))
	matrix = len(out)
	if rules := v.get("rules"); rules.isSeq() {
		for i, rule := range rules.items {
			vars := l.variables(rule.get("variables"), fmt.Sprintf("%s rules[%d]:variables", job, i))
			if len(vars) > 0 {
				out = append(out, Variant{Name: fmt.Sprintf("rules[%d]", i), Variables: vars})
			}
		}
	}
	for _, w := range g.workflow {
		// Most jobs inherit every variable of every workflow rule: they
		// share the rule's list (filterVariables) rather than each of 500
		// jobs copying 30 lists.
		vars := filterVariables(w.Variables, func(name string) bool {
			return inheritVars(name) && !slices.ContainsFunc(own, func(o Variable) bool { return o.Name == name })
		})
		if len(vars) > 0 {
			out = append(out, Variant{Name: w.Name, Variables: vars})
		}
	}
	return out, matrix
}

// matrix expands parallel:matrix into its combinations, named as GitLab
// names the jobs ("build: [amd64, linux]"). Each entry's values combine as
// Ruby's Array#product: the first variable varies slowest.
func (l *loader) matrix(job string, parallel *node) []Variant {
	mp, _ := parallel.lookup("matrix")
	m := mp.val
	if !m.isSeq() {
		return nil
	}
	type axis struct {
		name   string
		values []*node
		pos    loc.Pos
	}
	var out []Variant
	total := 0
	for _, entry := range m.items {
		if !entry.isMap() {
			continue
		}
		var axes []axis
		combos := 1
		for _, p := range entry.pairs {
			a := axis{name: p.key, pos: p.pos()}
			switch {
			case p.val.kind == kScalar:
				a.values = []*node{p.val}
			case p.val.isSeq():
				for _, it := range p.val.items {
					if it.kind == kScalar {
						a.values = append(a.values, it)
					}
				}
			}
			if len(a.values) == 0 {
				continue
			}
			axes = append(axes, a)
			combos = min(combos*len(a.values), 1<<20)
		}
		total += combos
		idx := make([]int, len(axes))
		for c := 0; c < combos && len(axes) > 0; c++ {
			if len(out) >= l.lim.MaxMatrixVariants {
				break
			}
			vars := make([]Variable, len(axes))
			vals := make([]string, len(axes))
			for i, a := range axes {
				val := a.values[idx[i]]
				vars[i] = Variable{Name: a.name, Value: val.str, Pos: a.pos}
				vals[i] = val.str
			}
			sortVariables(vars)
			out = append(out, Variant{Name: fmt.Sprintf("%s: [%s]", job, strings.Join(vals, ", ")), Variables: vars})
			for i := len(axes) - 1; i >= 0; i-- {
				idx[i]++
				if idx[i] < len(axes[i].values) {
					break
				}
				idx[i] = 0
			}
		}
	}
	if total > l.lim.MaxMatrixVariants {
		l.warnAt(mp.pos(), "the remaining combinations are not analysed; split the matrix if they differ in what they access, or "+limits.Raise(limits.MatrixVariants, int64(l.lim.MaxMatrixVariants)),
			"%s: parallel:matrix has %d combinations; tokenscope analyses the first %d", job, total, l.lim.MaxMatrixVariants)
	}
	return out
}
