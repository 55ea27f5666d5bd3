package trust

import (
	"cmp"
	"slices"
	"strings"
)

// maxPilot bounds the pilot wave: a pilot is a handful of callees whose
// breakage, if any, is cheap to see and undo.
const maxPilot = 5

// SuggestWaves proposes a rollout from the callers each callee has (its
// fan-in): a pilot of the callees with the fewest callers, then one wave
// per top-level group (fewest callers first), then everything else,
// including projects that appear later. Output is deterministic.
func SuggestWaves(fanIn map[string]int) []Wave {
	callees := make([]string, 0, len(fanIn))
	for c := range fanIn {
		callees = append(callees, c)
	}
	slices.SortFunc(callees, func(a, b string) int {
		return cmp.Or(cmp.Compare(fanIn[a], fanIn[b]), cmp.Compare(a, b))
	})
	var waves []Wave
	n := min(max(len(callees)/5, 1), maxPilot)
	if len(callees) == 0 {
		n = 0
	}
	if n > 0 {
		pilot := slices.Clone(callees[:n])
		slices.Sort(pilot)
		waves = append(waves, Wave{Name: "pilot", Projects: pilot})
	}
	load := map[string]int{}
	for _, c := range callees[n:] {
		load[topGroup(c)] += fanIn[c]
	}
	groups := make([]string, 0, len(load))
	for g := range load {
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b string) int { return cmp.Or(cmp.Compare(load[a], load[b]), cmp.Compare(a, b)) })
	for _, g := range groups {
		name := g
		if name == "pilot" || name == "everything" {
			name = "group-" + g
		}
		waves = append(waves, Wave{Name: name, Groups: []string{g}})
	}
	return append(waves, Wave{Name: "everything", All: true})
}

func topGroup(p string) string {
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return p
}
