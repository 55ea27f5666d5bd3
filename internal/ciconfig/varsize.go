package ciconfig

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/loc"
)

// maxExpandedVar is the longest value a variable may expand to before the
// analysis keeps it unexpanded: the bound shell.ExpandVars applies (its
// maxValueLen), repeated here because ciconfig does not import shell.
const maxExpandedVar = 1 << 16

// checkVariableSizes warns, once per variable, where a job's variables
// expand past maxExpandedVar. GitLab expands references inside variable
// values (https://docs.gitlab.com/ci/variables/#use-cicd-variables-in-other-variables),
// so a chain of variables each naming the previous one ten times is a
// "billion laughs": 30 links are 10^31 bytes. The expansion itself is
// bounded in shell.ExpandVars; this says where and why, with the file and
// line of the variable. Only lengths are computed, saturating at the
// bound, so the check is linear in the text of the variables.
func (l *loader) checkVariableSizes(vars []Variable) {
	if len(vars) < 2 || !slices.ContainsFunc(vars, func(v Variable) bool { return strings.Contains(v.Value, "$") }) {
		return // nothing expands
	}
	// vars are sorted by name (mergeVariables): looked up by binary search
	// rather than through a map built for every job.
	lookup := func(name string) *Variable {
		i, ok := slices.BinarySearchFunc(vars, name, func(v Variable, n string) int { return strings.Compare(v.Name, n) })
		if !ok {
			return nil
		}
		return &vars[i]
	}
	if !slices.IsSortedFunc(vars, func(a, b Variable) int { return strings.Compare(a.Name, b.Name) }) {
		byName := make(map[string]*Variable, len(vars))
		for i := range vars {
			byName[vars[i].Name] = &vars[i]
		}
		lookup = func(name string) *Variable { return byName[name] }
	}
	var size map[string]int
	resolving := map[string]bool{}
	var length func(v *Variable) int
	length = func(v *Variable) int {
		if v.Raw || resolving[v.Name] || !strings.Contains(v.Value, "$") {
			return len(v.Value)
		}
		if n, ok := size[v.Name]; ok {
			return n
		}
		resolving[v.Name] = true
		n := len(v.Value)
		for _, m := range reVarRef.FindAllStringSubmatchIndex(v.Value, -1) {
			name := ""
			for k := 2; k+1 < len(m); k += 2 {
				if m[k] >= 0 {
					name = v.Value[m[k]:m[k+1]]
				}
			}
			if ref := lookup(name); ref != nil {
				n += length(ref) - (m[1] - m[0])
			}
			if n > maxExpandedVar {
				n = maxExpandedVar + 1
				break
			}
		}
		resolving[v.Name] = false
		if size == nil {
			size = map[string]int{}
		}
		size[v.Name] = n
		return n
	}
	// One warning for a chain: the first variable over the bound, with the
	// count of the others (each link of a chain past it is over too).
	var first *Variable
	others := 0
	for i := range vars {
		v := &vars[i]
		if length(v) <= maxExpandedVar || l.longVars[v.Pos] {
			continue
		}
		if l.longVars == nil {
			l.longVars = map[loc.Pos]bool{}
		}
		l.longVars[v.Pos] = true
		switch {
		case first == nil:
			first = v
		case v.Pos.File == first.Pos.File && v.Pos.Line < first.Pos.Line:
			first, others = v, others+1
		default:
			others++
		}
	}
	if first == nil {
		return
	}
	more := ""
	if others > 0 {
		more = fmt.Sprintf(" (and %d other variables)", others)
	}
	l.warnAt(first.Pos, "their references are kept as written; shorten the chain of variables they name",
		"variable %s expands to more than %d bytes%s", first.Name, maxExpandedVar, more)
}
