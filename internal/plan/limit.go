package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/use"
)

// maxPairSearch bounds the exact search for two group entries; beyond it
// the plan picks greedily.
const maxPairSearch = 3000

// limit keeps the callee within GitLab's allowlist limits. Past the
// project-link limit it proposes the fewest group entries that bring the
// project entries back under it, and among those the ones that let in the
// fewest extra projects, each with the exact list of what it lets in. The
// widening is explicit: a proposed group entry, never a silent one. It
// returns the decisions with the replaced entries' verdicts changed and
// the proposed entries added.
func (cf *calleeFacts) limit(ds []Decision) ([]Decision, []string) {
	ds = slices.Clone(ds)
	var warnings []string
	lim := cf.c.opts.ProjectLimit
	staying := stayingProjects(ds)
	if len(staying) > lim {
		ds, warnings = cf.compact(ds, staying, len(staying)-lim)
	}
	groups := 0
	for _, d := range ds {
		if d.Type == GroupEntry && stays(d.Verdict) && d.Entry.CoveredBy == "" {
			groups++
		}
	}
	if groups > cf.c.opts.GroupLimit {
		warnings = append(warnings, fmt.Sprintf("%s: the plan holds %d group entries; GitLab allows %d: merge grants into parent groups in trust.yaml", cf.path, groups, cf.c.opts.GroupLimit))
	}
	return ds, warnings
}

// stays reports whether an entry with verdict v is on the allowlist after
// the plan.
func stays(v Verdict) bool {
	return v == VerdictAdd || v == VerdictKeep || v == VerdictUpdate || v == VerdictUnapproved
}

// stayingProjects are the project entries on the allowlist after the
// plan (covered callers take no entry).
func stayingProjects(ds []Decision) []string {
	var out []string
	for _, d := range ds {
		if d.Type == ProjectEntry && stays(d.Verdict) && d.Entry.CoveredBy == "" {
			out = append(out, d.Entry.Path)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

type candidate struct {
	group  inventory.Group
	lower  string   // lower-case path, for nesting checks
	covers []string // staying project entries under the group
	extra  []string // other known members: the widening
}

func (c candidate) net() int { return len(c.covers) - 1 }

func (cf *calleeFacts) compact(ds []Decision, staying []string, need int) ([]Decision, []string) {
	var warnings []string
	cands := cf.candidates(staying)
	chosen := choose(cands, need)
	saved := 0
	for _, c := range chosen {
		saved += c.net()
	}
	if len(chosen) == 0 || saved < need {
		warnings = append(warnings, fmt.Sprintf("%s: %d project entries exceed GitLab's limit of %d, and no group entry allowed by deny rules brings them under it: split the callee's consumers or approve group grants", cf.path, len(staying), cf.c.opts.ProjectLimit))
	}
	for _, c := range chosen {
		var w string
		ds, w = cf.replace(ds, c, len(staying))
		warnings = append(warnings, w)
	}
	return ds, warnings
}

// candidates are the groups above staying entries that deny rules allow.
func (cf *calleeFacts) candidates(staying []string) []candidate {
	byGroup := map[string]*candidate{}
	for _, p := range staying {
		for ns := inventory.Namespace(p); ns != ""; ns = inventory.Namespace(ns) {
			k := key(ns)
			c := byGroup[k]
			if c == nil {
				g, ok := cf.c.ix.Group(ns)
				if !ok {
					g = inventory.Group{Path: ns}
				}
				c = &candidate{group: g, lower: strings.ToLower(g.Path)}
				byGroup[k] = c
			}
			c.covers = append(c.covers, p)
		}
	}
	var out []candidate
	for _, c := range byGroup {
		if len(c.covers) < 2 {
			continue
		}
		if cf.groupDenied(c.group.Path) != nil {
			continue
		}
		covered := make(map[string]bool, len(c.covers))
		for _, p := range c.covers {
			covered[key(p)] = true
		}
		for _, m := range cf.members(c.group.Path) {
			if !covered[key(m)] {
				c.extra = append(c.extra, m)
			}
		}
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b candidate) int { return cmp.Compare(a.group.Path, b.group.Path) })
	return out
}

// choose picks the fewest non-nested groups saving at least need entries,
// then the fewest extra projects. The fewest is found from the top-level
// candidates (a parent saves at least what its subgroups save); one or two
// groups are searched exactly, more greedily.
func choose(cands []candidate, need int) []candidate {
	if len(cands) == 0 {
		return nil
	}
	tops := slices.DeleteFunc(slices.Clone(cands), func(c candidate) bool {
		return slices.ContainsFunc(cands, func(o candidate) bool { return nested(c, o) })
	})
	slices.SortFunc(tops, func(a, b candidate) int { return cmp.Compare(b.net(), a.net()) })
	m, saved := 0, 0
	for _, t := range tops {
		if saved >= need {
			break
		}
		saved += t.net()
		m++
	}
	if saved < need {
		return tops // best effort; the caller warns
	}
	better := func(a, b []candidate) bool { // fewer extra, then fewer replaced, then by path
		ea, eb := extraOf(a), extraOf(b)
		if ea != eb {
			return ea < eb
		}
		if coversOf(a) != coversOf(b) {
			return coversOf(a) < coversOf(b)
		}
		return pathsOf(a) < pathsOf(b)
	}
	var best []candidate
	switch {
	case m == 1:
		for _, c := range cands {
			if c.net() >= need && (best == nil || better([]candidate{c}, best)) {
				best = []candidate{c}
			}
		}
	case m == 2 && len(cands) <= maxPairSearch:
		for i, a := range cands {
			for _, b := range cands[i+1:] {
				if nested(a, b) || nested(b, a) || a.net()+b.net() < need {
					continue
				}
				if pair := []candidate{a, b}; best == nil || better(pair, best) {
					best = pair
				}
			}
		}
	default:
		best = greedy(cands, need)
	}
	return best
}

// greedy takes, while entries must still go, the group with the fewest
// extra projects that finishes the job, else the one that saves most.
func greedy(cands []candidate, need int) []candidate {
	var chosen []candidate
	for need > 0 {
		var pick *candidate
		for i := range cands {
			c := &cands[i]
			if slices.ContainsFunc(chosen, func(o candidate) bool { return nested(*c, o) || nested(o, *c) || o.lower == c.lower }) {
				continue
			}
			switch {
			case pick == nil:
				pick = c
			case c.net() >= need && (pick.net() < need || len(c.extra) < len(pick.extra)):
				pick = c
			case pick.net() < need && c.net() > pick.net():
				pick = c
			}
		}
		if pick == nil || pick.net() <= 0 {
			break
		}
		chosen = append(chosen, *pick)
		need -= pick.net()
	}
	return chosen
}

// nested reports whether a's group is inside b's.
func nested(a, b candidate) bool {
	return len(a.lower) > len(b.lower) && a.lower[len(b.lower)] == '/' && strings.HasPrefix(a.lower, b.lower)
}

func extraOf(cs []candidate) int {
	n := 0
	for _, c := range cs {
		n += len(c.extra)
	}
	return n
}

func coversOf(cs []candidate) int {
	n := 0
	for _, c := range cs {
		n += len(c.covers)
	}
	return n
}

func pathsOf(cs []candidate) string {
	var ps []string
	for _, c := range cs {
		ps = append(ps, c.group.Path)
	}
	return strings.Join(ps, ",")
}

// replace puts a proposed group entry in place of the project entries it
// covers: planned adds are dropped, entries on the allowlist removed. The
// entries are taken in the order add, keep, update, unapproved.
func (cf *calleeFacts) replace(ds []Decision, c candidate, total int) ([]Decision, string) {
	g := Entry{Type: GroupEntry, Path: c.group.Path, ID: c.group.ID, Policies: []string{},
		Widening: &Widening{Members: len(c.covers) + len(c.extra), Extra: c.extra, Replaces: c.covers, Proposed: true}}
	var reasons []string
	covered := make(map[string]bool, len(c.covers))
	for _, p := range c.covers {
		covered[p] = true
	}
	for _, v := range []Verdict{VerdictAdd, VerdictKeep, VerdictUpdate, VerdictUnapproved} {
		for i := range ds {
			d := &ds[i]
			e := d.Entry
			if d.Verdict != v || d.Type != ProjectEntry || e.CoveredBy != "" || !covered[e.Path] {
				continue
			}
			g.Access = access.Sort(append(g.Access, e.Access...))
			g.Uses = append(g.Uses, e.Uses...)
			if e.Policies == nil {
				g.Policies = nil
				reasons = append(reasons, e.Path+": "+e.PolicyReason)
			} else if g.Policies != nil {
				g.Policies = append(g.Policies, e.Policies...)
			}
			if v == VerdictAdd {
				// Never made: the group entry admits the caller.
				d.Verdict, d.Entry = VerdictNone, Entry{}
				continue
			}
			d.Verdict = VerdictRemove
			d.Entry.Reason = fmt.Sprintf("replaced by the proposed group entry %s (allowlist limit)", c.group.Path)
		}
	}
	if g.Policies != nil {
		slices.Sort(g.Policies)
		g.Policies = slices.Compact(g.Policies)
	} else {
		g.PolicyReason = "a replaced entry needs default permissions (" + listShort(reasons, 3) + ")"
	}
	slices.SortFunc(g.Uses, use.CompareUses)
	g.Role = minRole(g.Access)
	g.Reason = fmt.Sprintf("PROPOSED WIDENING: %d project entries exceed GitLab's limit of %d; this group entry replaces %d of them and lets in %d more project(s) with no approved edge (as far as the inventory knows). Approve it as a group grant in trust.yaml, or reduce the callers",
		total, cf.c.opts.ProjectLimit, len(c.covers), len(c.extra))
	if cf.state == StateUnknown {
		g.Reason += "; current allowlist unknown: the entry may already exist"
	}
	w := fmt.Sprintf("%s: proposed group entry %s replaces %d project entries to stay within GitLab's limit of %d, and lets in %d more project(s): %s",
		cf.path, c.group.Path, len(c.covers), cf.c.opts.ProjectLimit, len(c.extra), listShort(c.extra, 10))
	return append(ds, Decision{Type: GroupEntry, Caller: g.Path, Rule: RuleLimit, Verdict: VerdictAdd, Entry: g}), w
}

func listShort(ps []string, n int) string {
	if len(ps) == 0 {
		return "none"
	}
	if len(ps) <= n {
		return strings.Join(ps, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ps[:n], ", "), len(ps)-n)
}
