package loc

import (
	"cmp"
	"strconv"
)

// Pos is a place in a file of a project. Project matters because the file
// may belong to another project than the one being scanned (an included
// template, a component).
type Pos struct {
	Project string // full path of the project whose file it is; "" when not about a project
	File    string // path inside Project
	Line    int    // 1-based; 0 when the place is the whole file
}

// Place renders p as "project/file:line", leaving out the parts that are
// unset. It is not called String: Pos is embedded in larger values
// (notes, evidence, diagnostics), and a String method would be promoted
// to them and make fmt print only their place.
func (p Pos) Place() string {
	s := p.File
	if p.Project != "" {
		s = p.Project + "/" + p.File
	}
	if p.Line > 0 {
		s += ":" + strconv.Itoa(p.Line)
	}
	return s
}

// Compare orders places by project, file, then line.
func Compare(a, b Pos) int {
	return cmp.Or(cmp.Compare(a.Project, b.Project), cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
}
