// Package graph turns uses into edges: it resolves each use's target
// reference to a project through the inventory, merges the uses of one
// caller→callee pair (static, auth-log, job-log) into an edge, turns
// own-project accesses into notes and keeps what cannot be resolved, with
// the reason. Output is sorted and deterministic.
package graph

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/loc"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Edge is every use of one caller→callee pair.
type Edge struct {
	Caller string
	Callee string
	Access []access.Kind // sorted, unique; auth-log uses add none
	Uses   []use.Use     // sorted
}

// Origins returns the sorted distinct origins of the edge's uses.
func (e Edge) Origins() []use.Origin {
	var out []use.Origin
	for _, u := range e.Uses {
		out = append(out, u.Origin)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Graph is the result of discovery: edges, references that could not be
// resolved, and notes.
type Graph struct {
	Edges      []Edge
	Unresolved []use.Unresolved
	Notes      []use.Note
}

// Edge returns the edge caller→callee, if any.
func (g *Graph) Edge(caller, callee string) (Edge, bool) {
	i, ok := slices.BinarySearchFunc(g.Edges, [2]string{caller, callee}, func(e Edge, k [2]string) int {
		return cmp.Or(cmp.Compare(e.Caller, k[0]), cmp.Compare(e.Callee, k[1]))
	})
	if !ok {
		return Edge{}, false
	}
	return g.Edges[i], true
}

// Build resolves uses against the index and groups them into edges.
// Notes are passed through (sorted); auth-log rows of the inventory become
// uses with origin auth-log.
func Build(ix *inventory.Index, uses []use.Use, notes []use.Note) *Graph {
	g := &Graph{Notes: slices.Clone(notes)}
	uses = append(slices.Clone(uses), AuthLogUses(ix.Inventory())...)
	byPair := map[[2]string][]use.Use{}
	for _, u := range uses {
		callee, reason := Resolve(ix, u.Caller, u.Target)
		if reason != "" {
			ref := u.Target.Reference
			if ref == "" {
				ref = u.Target.Value
			}
			// The row names the file's own project, as evidence does: a
			// reference in an included template is fixed there.
			fp := cmp.Or(u.Evidence.Project, u.Caller)
			g.Unresolved = append(g.Unresolved, use.Unresolved{
				Pos: loc.Pos{Project: fp, File: u.Evidence.File, Line: u.Evidence.Line}, Caller: use.CallerOf(fp, u.Caller), Job: u.Evidence.Job,
				Access: u.Access, Reference: ref, Reason: reason, Variants: u.Evidence.Variants,
			})
			continue
		}
		if canonical := ix.Project(u.Caller); canonical != nil {
			u.Caller = canonical.Path
		}
		u.Callee = callee
		if strings.EqualFold(callee, u.Caller) {
			fp := cmp.Or(u.Evidence.Project, u.Caller)
			g.Notes = append(g.Notes, use.Note{
				Pos: loc.Pos{Project: fp, File: u.Evidence.File, Line: u.Evidence.Line}, Caller: use.CallerOf(fp, u.Caller), Job: u.Evidence.Job,
				Kind: use.OwnProject, Detail: fmt.Sprintf("%s of the job's own project (no allowlist entry needed): %s", u.Access, u.Evidence.Detail),
				Variants: u.Evidence.Variants,
			})
			continue
		}
		k := [2]string{u.Caller, callee}
		byPair[k] = append(byPair[k], u)
	}
	for k, us := range byPair {
		slices.SortFunc(us, use.CompareUses)
		us = slices.CompactFunc(us, func(a, b use.Use) bool { return use.CompareUses(a, b) == 0 })
		e := Edge{Caller: k[0], Callee: k[1], Uses: us}
		for _, u := range us {
			if u.Access != "" {
				e.Access = append(e.Access, u.Access)
			}
		}
		e.Access = access.Sort(e.Access)
		g.Edges = append(g.Edges, e)
	}
	slices.SortFunc(g.Edges, func(a, b Edge) int {
		return cmp.Or(cmp.Compare(a.Caller, b.Caller), cmp.Compare(a.Callee, b.Callee))
	})
	g.Unresolved = use.SortUnresolved(g.Unresolved)
	g.Notes = use.SortNotes(g.Notes)
	return g
}

// Resolve maps a target reference to a project's full path. It returns a
// non-empty reason when it cannot.
func Resolve(ix *inventory.Index, caller string, t use.Target) (callee, reason string) {
	if callee, reason, ok := resolvePrefix(ix, t); ok {
		return callee, reason
	}
	if t.Reason != "" {
		return "", t.Reason
	}
	switch t.Kind {
	case use.Path:
		if strings.Contains(t.Value, "${") || strings.Contains(t.Value, "$(") {
			return "", "the path holds a value that is not known statically"
		}
		p := ix.Project(t.Value)
		if p == nil {
			return "", fmt.Sprintf("project %s is not in the inventory or snapshot (add it to the scan, or check the path)", strings.Trim(t.Value, "/"))
		}
		return p.Path, ""
	case use.ID:
		if t.Value == inventory.SelfID {
			return caller, ""
		}
		id, err := strconv.Atoi(t.Value)
		if err != nil {
			return "", fmt.Sprintf("%q is not a numeric project ID", t.Value)
		}
		p := ix.ProjectByID(id)
		if p == nil {
			return "", fmt.Sprintf("project ID %d is not in the inventory (snapshot the project's group, or add it to inventory.yaml)", id)
		}
		return p.Path, ""
	case use.Image:
		p := ix.LongestProjectPrefix(t.Value)
		if p == nil {
			return "", fmt.Sprintf("no project in the inventory owns registry path %s", t.Value)
		}
		return p.Path, ""
	case use.Group:
		name := t.Value
		if id, err := strconv.Atoi(t.Value); err == nil {
			if g, ok := ix.GroupByID(id); ok {
				name = g.Path
			} else {
				name = "ID " + t.Value
			}
		}
		n := len(ix.ProjectsUnder(name))
		return "", fmt.Sprintf("group-scoped: the endpoint of group %s serves packages of every project in it (%d in the inventory); the allowlist entry belongs on the project that publishes the package", name, n)
	case use.Instance:
		return "", "instance-level endpoint: GitLab picks the project by package name or scope (" + t.Value + "); name the publishing project to get an edge"
	default:
		return "", "the target cannot be known statically"
	}
}

// AuthLogUses turns the inventory's authentication log rows into uses. The
// log says only that the origin's jobs authenticated, not with which
// access, so these uses carry no access kind.
func AuthLogUses(inv *inventory.Inventory) []use.Use {
	var out []use.Use
	for _, p := range inv.Projects {
		for _, a := range p.AuthLog {
			out = append(out, use.Use{
				Origin: use.AuthLog,
				Caller: a.Origin,
				Target: use.Target{Kind: use.Path, Value: p.Path},
				Evidence: use.Evidence{
					Pos:    loc.Pos{Project: p.Path},
					Detail: "job token authentication log: last authorized " + a.LastAuthorizedAt.UTC().Format(time.RFC3339),
				},
			})
		}
	}
	return out
}
