package apply

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/planfile"
)

// CallDisable is the undo of an enforce call: "Limit access to this
// project" turned off again. Plans never contain it.
const CallDisable plan.CallKind = "disable-enforcement"

// RollbackOptions control a rollback.
type RollbackOptions struct {
	// Write makes the calls; without it the rollback is a dry run.
	Write bool
	// Force undoes entries that changed since the journal too.
	Force bool
	// Journal receives a line per undo when writing ("" for none).
	Journal string
	// Step, when set, is told of each undo as it is decided.
	Step func(Undo)
	Now  func() time.Time
}

// Undo is the undoing of one journal line.
type Undo struct {
	// Line is the journal line undone.
	Line Line
	// Kind is what the undo does: the inverse of Line.Kind.
	Kind    plan.CallKind
	Outcome Outcome
	Reason  string
	// Changed says how the live state differs from what the journal left
	// ("" when it does not): someone changed the entry since.
	Changed string
}

// Describe is the undo in words ("remove-project apps/web from libs/jslib").
func (u Undo) Describe() string {
	if u.Line.Target == nil {
		return fmt.Sprintf("%s of %s", u.Kind, u.Line.Project)
	}
	dir := "from"
	if u.Kind == plan.CallAddProject || u.Kind == plan.CallAddGroup {
		dir = "to"
	}
	if u.Kind == plan.CallUpdatePolicies {
		return fmt.Sprintf("%s %s on %s to %s", u.Kind, u.Line.Target.Path, u.Line.Project, policyText(u.Line.Before.Policies))
	}
	return fmt.Sprintf("%s %s %s %s", u.Kind, u.Line.Target.Path, dir, u.Line.Project)
}

func policyText(p planfile.OptionalPolicies) string {
	if p.List == nil {
		return "default permissions"
	}
	return "[" + strings.Join(p.List, " ") + "]"
}

// RollbackResult is every undo, in the order made.
type RollbackResult struct {
	Undos []Undo
}

// Count returns the undos with outcome o.
func (r *RollbackResult) Count(o Outcome) int {
	return count(r.Undos, o, func(u Undo) Outcome { return u.Outcome })
}

// ChangedError refuses a rollback some of whose entries were changed
// since the journal was written: undoing them would overwrite someone
// else's change.
type ChangedError struct {
	Undos []Undo
}

func (e *ChangedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d undo(s) of entries changed since the journal was written; nothing was undone:", len(e.Undos))
	for _, u := range e.Undos {
		fmt.Fprintf(&b, "\n  %s: %s (%s)", u.Line.Project, u.Describe(), u.Changed)
	}
	return b.String()
}

// RollbackFailedError says some undos failed.
type RollbackFailedError struct {
	Undos []Undo
	// Partial: some undos were made.
	Partial bool
}

func (e *RollbackFailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rollback incomplete: %d undo(s) failed:", len(e.Undos))
	for _, u := range e.Undos {
		fmt.Fprintf(&b, "\n  %s: %s (%s)", u.Line.Project, u.Describe(), u.Reason)
	}
	return b.String()
}

// errInstanceEnforced is GitLab's refusal to turn a project's allowlist
// off while the instance enforces it (18.0 and later: "Enforce job token
// allowlist", https://docs.gitlab.com/administration/settings/continuous_integration/).
const instanceEnforcedText = "enforced for the instance"

// Rollback undoes what a journal did: its Undoable lines, last first (an
// entry's policies before the entry). Before any write it reads the live
// state of the journal's projects and checks every undo against what the
// journal left: an entry someone changed since refuses the whole rollback
// (*ChangedError, nothing written) unless o.Force. A dry run unless
// o.Write.
func Rollback(ctx context.Context, lines []Line, gl GitLab, o RollbackOptions) (*RollbackResult, error) {
	todo := Undoable(lines)
	res := &RollbackResult{}
	if len(todo) == 0 {
		return res, nil
	}
	var refs []gitlab.Ref
	seen := map[string]bool{}
	for _, l := range todo {
		if k := strings.ToLower(l.Project); !seen[k] {
			seen[k] = true
			refs = append(refs, gitlab.Ref{ID: l.ProjectID, Path: l.Project})
		}
	}
	live, err := gl.ReadStates(ctx, refs)
	if err != nil {
		return nil, fmt.Errorf("read the live allowlists: %w", err)
	}
	// A first pass on a copy of the live state, undoing as it goes, finds
	// every changed entry before anything is written.
	sim := map[string]*State{}
	for k, st := range live {
		st.Entries = maps.Clone(st.Entries)
		if st.Entries == nil {
			st.Entries = map[Key][]string{}
		}
		sim[k] = &st
	}
	// origin is each part's state before the journal's first call on it: a
	// part already there has been rolled back (a rollback run again).
	origin := map[string]*JournalState{}
	for _, l := range todo {
		origin[partOf(l)] = l.Before // todo is last first: the first call wins
	}
	undos := make([]Undo, len(todo))
	var changed []Undo
	for i, l := range todo {
		st := sim[strings.ToLower(l.Project)]
		if st == nil {
			return nil, fmt.Errorf("read the live allowlists: %s was not returned", l.Project)
		}
		u := Undo{Line: l, Kind: inverse(l)}
		cur := snapshotState(*st, lineCall(l))
		switch {
		case sameJournalState(cur, l.Before):
			// Already undone (a rollback run again, or resumed): nothing
			// to do, nothing changed.
		case sameJournalState(cur, origin[partOf(l)]):
			// Undone with the part's earlier calls already.
			undos[i] = u
			continue
		case readded(l, cur):
			// An earlier rollback added the entry back but could not set
			// its policies: not someone else's change.
		case !sameJournalState(cur, l.After):
			u.Changed = "now " + stateText(cur) + ", the journal left " + stateText(l.After)
			changed = append(changed, u)
		}
		undoEffect(st, l)
		undos[i] = u
	}
	if len(changed) > 0 && !o.Force {
		return nil, &ChangedError{Undos: changed}
	}
	var j *Journal
	if o.Write && o.Journal != "" {
		if j, err = OpenJournal(o.Journal); err != nil {
			return nil, err
		}
		defer j.Close()
	}
	cur := map[string]*State{}
	for k, st := range live {
		st.Entries = maps.Clone(st.Entries)
		if st.Entries == nil {
			st.Entries = map[Key][]string{}
		}
		cur[k] = &st
	}
	var failed []Undo
	for _, u := range undos {
		l := u.Line
		st := cur[strings.ToLower(l.Project)]
		before := snapshotState(*st, lineCall(l))
		var stop error
		switch {
		case sameJournalState(before, l.Before), sameJournalState(before, origin[partOf(l)]):
			u.Outcome, u.Reason = Already, "already as before the apply"
		case !o.Write:
			u.Outcome = Planned
		default:
			err := undo(ctx, gl, l, readded(l, before))
			switch {
			case err == nil:
				u.Outcome = Done
				undoEffect(st, l)
			case ctx.Err() != nil:
				u.Outcome, u.Reason = Failed, "interrupted: "+err.Error()
				stop = ctx.Err()
			case l.Kind == plan.CallEnforce && strings.Contains(strings.ToLower(err.Error()), instanceEnforcedText):
				u.Outcome = Failed
				u.Reason = "GitLab keeps the allowlist on: the instance enforces job token allowlists (admin setting \"Enforce job token allowlist\", default on from GitLab 18.0); an administrator must turn it off first: " + err.Error()
			default:
				u.Outcome, u.Reason = Failed, err.Error()
			}
		}
		if u.Outcome == Failed {
			failed = append(failed, u)
		}
		res.Undos = append(res.Undos, u)
		if o.Step != nil {
			o.Step(u)
		}
		if j != nil {
			jl := Line{Time: now(o.Now), StateDigest: l.StateDigest, PlanDigest: l.PlanDigest, Project: l.Project, ProjectID: l.ProjectID, Wave: l.Wave,
				Kind: u.Kind, Target: l.Target, Request: "undo: " + l.Request, Outcome: u.Outcome, Before: before, After: snapshotState(*st, lineCall(l))}
			if u.Outcome == Failed {
				jl.Error = u.Reason
			}
			if err := j.Write(jl); err != nil {
				return res, err
			}
		}
		if stop != nil {
			return res, stop
		}
	}
	if len(failed) > 0 {
		return res, &RollbackFailedError{Undos: failed, Partial: res.Count(Done) > 0}
	}
	return res, nil
}

// readded reports whether cur is the entry a removal took away, added
// back with default permissions but without its recorded policies yet.
func readded(l Line, cur *JournalState) bool {
	return (l.Kind == plan.CallRemoveProject || l.Kind == plan.CallRemoveGroup) &&
		cur != nil && cur.OnAllowlist != nil && *cur.OnAllowlist && cur.Policies.List == nil &&
		l.Before != nil && l.Before.OnAllowlist != nil && *l.Before.OnAllowlist
}

// partOf names the part of a project's state that l changes.
func partOf(l Line) string {
	if l.Kind == plan.CallEnforce || l.Target == nil {
		return strings.ToLower(l.Project) + "\x00enforced"
	}
	k := key(l.Target.Type, l.Target.Path)
	return strings.ToLower(l.Project) + "\x00" + string(k.Type) + "\x00" + k.Path
}

// Undoable are the lines a rollback undoes, last first: the calls GitLab
// made. That is every "done" line, and an "already" line whose before and
// after differ: GitLab answered with a done text although the state read
// before the call lacked the change, which is a write the client retried
// after GitLab made it and the answer was lost. An "already" found in the
// live state changed nothing (before is after); failed and skipped calls
// are not vouched for. A rollback's own lines (disable-enforcement) are
// not undone.
func Undoable(lines []Line) []Line {
	var out []Line
	for _, l := range slices.Backward(lines) {
		made := l.Outcome == Done || l.Outcome == Already && !sameJournalState(l.Before, l.After)
		if made && l.Kind != CallDisable {
			out = append(out, l)
		}
	}
	return out
}

// inverse is the kind of call that undoes l.
func inverse(l Line) plan.CallKind {
	switch l.Kind {
	case plan.CallAddProject:
		return plan.CallRemoveProject
	case plan.CallAddGroup:
		return plan.CallRemoveGroup
	case plan.CallRemoveProject:
		return plan.CallAddProject
	case plan.CallRemoveGroup:
		return plan.CallAddGroup
	case plan.CallEnforce:
		return CallDisable
	}
	return l.Kind
}

// lineCall is enough of a call for snapshotState.
func lineCall(l Line) planfile.Call {
	c := planfile.Call{Kind: l.Kind}
	if l.Target != nil {
		c.Target = &planfile.Target{Type: l.Target.Type, Path: l.Target.Path, ID: l.Target.ID}
	}
	return c
}

// GitLab's answers that say an undo's change is already made: a write the
// client retried after GitLab made it and the answer was lost. The same
// texts as the plan's "done" lists (internal/plan/calls.go), which a
// journal does not carry.
var (
	undoneAdd    = []string{"already in the job token allowlist", "already in the job token scope"}
	undoneRemove = []string{"is not in the job token scope"}
)

// undo makes the calls that bring l's part of the state back to l.Before:
// a removed entry is added back and then given its recorded policies
// (the add makes it with default permissions, as in the plan's calls).
func undo(ctx context.Context, gl GitLab, l Line, present bool) error {
	proj := gitlab.Ref{ID: l.ProjectID, Path: l.Project}
	if l.Kind == plan.CallEnforce {
		return gl.DisableAllowlist(ctx, proj)
	}
	if l.Target == nil {
		return fmt.Errorf("journal line of %s (%s) names no entry", l.Project, l.Kind)
	}
	target := gitlab.Ref{ID: l.Target.ID, Path: l.Target.Path}
	group := l.Target.Type == plan.GroupEntry
	switch l.Kind {
	case plan.CallAddProject, plan.CallAddGroup:
		if err := gl.RemoveAllowlistEntry(ctx, proj, target, group); err != nil && !doneText(err, undoneRemove) {
			return err
		}
		return nil
	case plan.CallRemoveProject, plan.CallRemoveGroup:
		if !present {
			if err := gl.AddAllowlistEntry(ctx, proj, target, group); err != nil && !doneText(err, undoneAdd) {
				return err
			}
		}
		if l.Before != nil && l.Before.Policies.List != nil {
			return gl.UpdateAllowlistPolicies(ctx, proj, target, l.Before.Policies.List)
		}
		return nil
	case plan.CallUpdatePolicies:
		var pol []string
		if l.Before != nil {
			pol = l.Before.Policies.List
		}
		return gl.UpdateAllowlistPolicies(ctx, proj, target, pol)
	}
	return fmt.Errorf("cannot undo a %q call", l.Kind)
}

// undoEffect sets l's part of st to l.Before.
func undoEffect(st *State, l Line) {
	b := l.Before
	if b == nil {
		return
	}
	if l.Kind == plan.CallEnforce || l.Target == nil {
		if b.Enforced != nil {
			st.Enforced = *b.Enforced
		}
		return
	}
	k := key(l.Target.Type, l.Target.Path)
	if b.OnAllowlist != nil && *b.OnAllowlist {
		st.Entries[k] = b.Policies.List
	} else {
		delete(st.Entries, k)
	}
}

// sameJournalState compares two states of the same part.
func sameJournalState(a, b *JournalState) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Enforced != nil || b.Enforced != nil {
		return a.Enforced != nil && b.Enforced != nil && *a.Enforced == *b.Enforced
	}
	on := func(s *JournalState) bool { return s.OnAllowlist != nil && *s.OnAllowlist }
	if on(a) != on(b) {
		return false
	}
	return !on(a) || samePolicies(a.Policies.List, b.Policies.List)
}

func stateText(s *JournalState) string {
	switch {
	case s == nil:
		return "unknown"
	case s.Enforced != nil && *s.Enforced:
		return "enforced"
	case s.Enforced != nil:
		return "not enforced"
	case s.OnAllowlist == nil || !*s.OnAllowlist:
		return "not on the allowlist"
	}
	return "on the allowlist with " + policyText(s.Policies)
}

// IsInstanceEnforced reports whether err is GitLab refusing to turn off a
// project's allowlist because the instance enforces it.
func IsInstanceEnforced(err error) bool {
	var f *RollbackFailedError
	if errors.As(err, &f) {
		for _, u := range f.Undos {
			if strings.Contains(u.Reason, instanceEnforcedText) {
				return true
			}
		}
	}
	return false
}
