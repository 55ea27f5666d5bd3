package detect

// Small text helpers shared by the families.

import (
	"slices"
	"strings"
)

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// matchBrace returns the index of the brace closing the one at open.
func matchBrace(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func lineAt(s string, i int) int { return strings.Count(s[:i], "\n") + 1 }

// rawOf is a setting as written, for evidence.
func rawOf(s setting) string {
	if s.Var != nil {
		return s.Var.Value
	}
	for _, a := range s.Cmd.Args {
		if strings.HasPrefix(a.Raw, s.Name+"=") {
			return strings.TrimPrefix(a.Raw, s.Name+"=")
		}
	}
	if w, ok := s.Cmd.Assigns[s.Name]; ok {
		return w.Raw
	}
	return s.Value
}
