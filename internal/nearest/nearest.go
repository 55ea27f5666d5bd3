package nearest

import (
	"cmp"
	"slices"
	"strings"
)

// Names returns the known names nearest to name, for a "did you mean"
// after an unknown name: the ones whose last segment is name's (a short
// path given for a full one), else the ones within a few edits, nearest
// first, at most three.
func Names(name string, known []string) []string {
	lname := strings.ToLower(name)
	last := lname[strings.LastIndexByte(lname, '/')+1:]
	var same []string
	for _, k := range known {
		lk := strings.ToLower(k)
		if lk[strings.LastIndexByte(lk, '/')+1:] == last && lk != lname {
			same = append(same, k)
		}
	}
	if len(same) > 0 {
		slices.Sort(same)
		return same[:min(len(same), 3)]
	}
	type near struct {
		name string
		d    int
	}
	limit := max(2, len(lname)/4)
	var ns []near
	for _, k := range known {
		if d := editDistance(lname, strings.ToLower(k)); d <= limit {
			ns = append(ns, near{k, d})
		}
	}
	slices.SortFunc(ns, func(a, b near) int { return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.name, b.name)) })
	var out []string
	for _, n := range ns[:min(len(ns), 3)] {
		out = append(out, n.name)
	}
	return out
}

// DidYouMean words Names' answer as the end of an error message: "" when
// nothing is near.
func DidYouMean(name string, known []string) string {
	s := Names(name, known)
	if len(s) == 0 {
		return ""
	}
	return "; did you mean " + strings.Join(s, ", ") + "?"
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
