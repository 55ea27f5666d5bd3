package apply

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/planfile"
)

// State is the part of one project's job token settings that a plan
// changes: whether the inbound allowlist is enforced ("Limit access to this
// project", or the instance setting) and its entries with their policies.
type State struct {
	Enforced bool
	// Entries maps each allowlist entry to its fine-grained policies; nil
	// is default permissions.
	Entries map[Key][]string
}

// Key names an allowlist entry; Path is lower case, as GitLab compares
// full paths.
type Key struct {
	Type plan.EntryType
	Path string
}

func key(t plan.EntryType, path string) Key { return Key{Type: t, Path: strings.ToLower(path)} }

// entryState is what the plan says one entry may be: absent (present
// false) or present with one of the policy lists.
type entryState struct {
	absent   bool       // absent is acceptable
	policies [][]string // acceptable policy lists when present
}

// expected is what a plan allows one project's live state to be: the state
// the plan was computed from, the state after all its calls, or anything
// between (a partly applied plan, whose calls are then "already" made).
// Anything else means someone else changed the allowlist.
type expected struct {
	enforced []bool
	entries  map[Key]*entryState
}

// expectedState reads what the plan says of p's allowlist today and after
// it. Every entry on the allowlist when the plan was computed is in
// exactly one of keep (those with current_policies: not covered by a
// group), update, remove and unapproved (internal/plan/compute.go), so the
// plan's project section holds the project's whole state.
func expectedState(p planfile.Project) expected {
	ex := expected{enforced: []bool{p.Enforced}, entries: map[Key]*entryState{}}
	if p.Enforce {
		ex.enforced = append(ex.enforced, true)
	}
	on := func(k Key, pol []string) *entryState {
		e := ex.entries[k]
		if e == nil {
			e = &entryState{}
			ex.entries[k] = e
		}
		e.policies = append(e.policies, pol)
		return e
	}
	for _, e := range p.Keep {
		if e.CurrentPolicies.Set {
			on(key(e.Type, e.Path), e.CurrentPolicies.List)
		}
	}
	for _, e := range p.Unapproved {
		on(key(e.Type, e.Path), e.CurrentPolicies.List)
	}
	for _, e := range p.Update {
		s := on(key(e.Type, e.Path), e.CurrentPolicies.List)
		s.policies = append(s.policies, e.Policies)
	}
	for _, e := range p.Remove {
		on(key(e.Type, e.Path), e.CurrentPolicies.List).absent = true
	}
	for _, e := range p.Add {
		// An add makes the entry with default permissions; its policies
		// follow in a second call.
		s := on(key(e.Type, e.Path), nil)
		s.policies = append(s.policies, e.Policies)
		s.absent = true
	}
	return ex
}

// moved says how live differs from every state the plan allows, or "".
func (ex expected) moved(live State) string {
	var diffs []string
	if !slices.Contains(ex.enforced, live.Enforced) {
		diffs = append(diffs, fmt.Sprintf("enforcement is %v", live.Enforced))
	}
	keys := make([]Key, 0, len(ex.entries)+len(live.Entries))
	for k := range ex.entries {
		keys = append(keys, k)
	}
	for k := range live.Entries {
		if ex.entries[k] == nil {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b Key) int { return strings.Compare(string(a.Type)+" "+a.Path, string(b.Type)+" "+b.Path) })
	for _, k := range keys {
		want, pol := ex.entries[k], live.Entries[k]
		_, present := live.Entries[k]
		switch {
		case want == nil:
			diffs = append(diffs, fmt.Sprintf("%s %s was added", k.Type, k.Path))
		case !present && !want.absent:
			diffs = append(diffs, fmt.Sprintf("%s %s was removed", k.Type, k.Path))
		case present && !slices.ContainsFunc(want.policies, func(p []string) bool { return samePolicies(p, pol) }):
			diffs = append(diffs, fmt.Sprintf("the policies of %s %s changed", k.Type, k.Path))
		}
	}
	return strings.Join(diffs, ", ")
}

// samePolicies compares policy lists as sets. An empty list and nil
// (default permissions) are the same here: the readers cannot tell an
// entry with no policies from one with default permissions either
// (defaultPermissions false and no policies reads as nil).
func samePolicies(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	for i := range a {
		a[i] = strings.ToLower(a[i])
	}
	for i := range b {
		b[i] = strings.ToLower(b[i])
	}
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
