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
// widening is explicit: a proposed group entry, never a silent one.
func (s *calleeState) limit() {
	lim := s.c.opts.ProjectLimit
	staying := s.stayingProjects()
	if len(staying) > lim {
		s.compact(staying, len(staying)-lim)
	}
	groups := 0
	for _, l := range [][]Entry{s.p.Add, s.p.Keep, s.p.Update, s.p.Unapproved} {
		for _, e := range l {
			if e.Type == GroupEntry && e.CoveredBy == "" {
				groups++
			}
		}
	}
	if groups > s.c.opts.GroupLimit {
		s.c.warn("%s: the plan holds %d group entries; GitLab allows %d: merge grants into parent groups in trust.yaml", s.p.Path, groups, s.c.opts.GroupLimit)
	}
}

// stayingProjects are the project entries on the allowlist after the
// plan (covered keeps take no entry).
func (s *calleeState) stayingProjects() []string {
	var out []string
	for _, l := range [][]Entry{s.p.Add, s.p.Keep, s.p.Update, s.p.Unapproved} {
		for _, e := range l {
			if e.Type == ProjectEntry && e.CoveredBy == "" {
				out = append(out, e.Path)
			}
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

func (s *calleeState) compact(staying []string, need int) {
	cands := s.candidates(staying)
	chosen := choose(cands, need)
	saved := 0
	for _, c := range chosen {
		saved += c.net()
	}
	if len(chosen) == 0 || saved < need {
		s.c.warn("%s: %d project entries exceed GitLab's limit of %d, and no group entry allowed by deny rules brings them under it: split the callee's consumers or approve group grants", s.p.Path, len(staying), s.c.opts.ProjectLimit)
	}
	for _, c := range chosen {
		s.replace(c, len(staying))
	}
}

// candidates are the groups above staying entries that deny rules allow.
func (s *calleeState) candidates(staying []string) []candidate {
	byGroup := map[string]*candidate{}
	for _, p := range staying {
		for ns := inventory.Namespace(p); ns != ""; ns = inventory.Namespace(ns) {
			k := key(ns)
			c := byGroup[k]
			if c == nil {
				g, ok := s.c.ix.Group(ns)
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
		if _, denied := s.groupDenied(c.group.Path); denied {
			continue
		}
		covered := make(map[string]bool, len(c.covers))
		for _, p := range c.covers {
			covered[key(p)] = true
		}
		for _, m := range s.members(c.group.Path) {
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
// covers: planned adds are dropped, entries on the allowlist removed.
func (s *calleeState) replace(c candidate, total int) {
	g := Entry{Type: GroupEntry, Path: c.group.Path, ID: c.group.ID, Policies: []string{},
		Widening: &Widening{Members: len(c.covers) + len(c.extra), Extra: c.extra, Replaces: c.covers, Proposed: true}}
	var reasons []string
	covered := make(map[string]bool, len(c.covers))
	for _, p := range c.covers {
		covered[p] = true
	}
	take := func(l *[]Entry, removeCurrent bool) {
		*l = slices.DeleteFunc(*l, func(e Entry) bool {
			if e.Type != ProjectEntry || e.CoveredBy != "" || !covered[e.Path] {
				return false
			}
			g.Access = access.Sort(append(g.Access, e.Access...))
			g.Uses = append(g.Uses, e.Uses...)
			if e.Policies == nil {
				g.Policies = nil
				reasons = append(reasons, e.Path+": "+e.PolicyReason)
			} else if g.Policies != nil {
				g.Policies = append(g.Policies, e.Policies...)
			}
			if removeCurrent {
				e.Reason = fmt.Sprintf("replaced by the proposed group entry %s (allowlist limit)", c.group.Path)
				s.p.Remove = append(s.p.Remove, e)
			}
			return true
		})
	}
	take(&s.p.Add, false)
	take(&s.p.Keep, true)
	take(&s.p.Update, true)
	take(&s.p.Unapproved, true)
	if g.Policies != nil {
		slices.Sort(g.Policies)
		g.Policies = slices.Compact(g.Policies)
	} else {
		g.PolicyReason = "a replaced entry needs default permissions (" + listShort(reasons, 3) + ")"
	}
	slices.SortFunc(g.Uses, use.CompareUses)
	g.Role = minRole(g.Access)
	g.Reason = fmt.Sprintf("PROPOSED WIDENING: %d project entries exceed GitLab's limit of %d; this group entry replaces %d of them and lets in %d more project(s) with no approved edge (as far as the inventory knows). Approve it as a group grant in trust.yaml, or reduce the callers",
		total, s.c.opts.ProjectLimit, len(c.covers), len(c.extra))
	s.c.warn("%s: proposed group entry %s replaces %d project entries to stay within GitLab's limit of %d, and lets in %d more project(s): %s",
		s.p.Path, c.group.Path, len(c.covers), s.c.opts.ProjectLimit, len(c.extra), listShort(c.extra, 10))
	s.p.Add = append(s.p.Add, g)
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
