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

// GitLab is what apply needs of GitLab: the live state of the plan's
// projects, and the four writes. *gitlab.Client has the writes; Live adds
// the read.
type GitLab interface {
	// ReadStates reads the job token settings of projects, keyed by lower
	// case full path; a project it cannot read is an error.
	ReadStates(ctx context.Context, projects []gitlab.Ref) (map[string]State, error)
	AddAllowlistEntry(ctx context.Context, project, target gitlab.Ref, group bool) error
	RemoveAllowlistEntry(ctx context.Context, project, target gitlab.Ref, group bool) error
	UpdateAllowlistPolicies(ctx context.Context, project, target gitlab.Ref, policies []string) error
	EnforceAllowlist(ctx context.Context, project gitlab.Ref) error
	// DisableAllowlist undoes EnforceAllowlist (rollback only).
	DisableAllowlist(ctx context.Context, project gitlab.Ref) error
}

// Outcome is what became of one call.
type Outcome string

// Outcomes.
const (
	// Planned: a dry run would make the call.
	Planned Outcome = "planned"
	// Done: GitLab made the change.
	Done Outcome = "done"
	// Already: the change was already made (the live state has it, or
	// GitLab answered with one of the call's done texts); no error.
	Already Outcome = "already"
	// Failed: GitLab refused the call.
	Failed Outcome = "failed"
	// Skipped: the call was not made; Step.Reason says why.
	Skipped Outcome = "skipped"
)

// Options control a run.
type Options struct {
	// Wave limits the run to the projects of one wave ("" for all).
	Wave string
	// Write makes the calls; without it the run is a dry run: it reads
	// the live state and checks the plan, and writes nothing.
	Write bool
	// Journal is the file that receives a line per call when writing
	// ("" for none). It is opened once the plan is checked, so that a
	// refused plan leaves no journal, and before the first call, so that
	// no call goes unjournaled.
	Journal string
	// PlanDigest is recorded on every journal line (see PlanDigest).
	PlanDigest string
	// Resume holds the calls an earlier run journaled as made (Resumed):
	// they are not made again, whatever the live state says.
	Resume map[string]bool
	// Step, when set, is told of each call as it is decided.
	Step func(Step)
	Now  func() time.Time
	// Unreviewed lets a run write a plan whose trust file still had
	// entries marked unreviewed (drafted, not reviewed); without it such a
	// run is refused with *UnreviewedError.
	Unreviewed bool
}

// UnreviewedError refuses to write a plan computed while the trust file
// still held drafted entries nobody reviewed: the plan does not approve
// them, but it was computed from a review that is not finished, so the
// allowlists it enforces would break the callers still waiting for one.
type UnreviewedError struct{ Count int }

func (e *UnreviewedError) Error() string {
	return fmt.Sprintf("the plan was computed while %d trust file entr%s still marked unreviewed: a draft is not a review; review them and plan again",
		e.Count, map[bool]string{true: "y was", false: "ies were"}[e.Count == 1])
}

// Step is one call of the plan and what became of it.
type Step struct {
	Project string
	Wave    string
	Call    planfile.Call
	Outcome Outcome
	// Reason says why a call was skipped, or GitLab's answer for a failed
	// or already-made call.
	Reason string
	// Remaining marks a call that still has to be made for the plan to be
	// applied (failed, or skipped because of a failure or the version).
	Remaining bool
}

// Result is every step of a run, in the order decided.
type Result struct {
	Steps []Step
}

// Count returns the steps with outcome o.
func (r *Result) Count(o Outcome) int {
	return count(r.Steps, o, func(s Step) Outcome { return s.Outcome })
}

// count is the number of xs whose outcome is o (for steps and undos).
func count[T any](xs []T, o Outcome, outcome func(T) Outcome) int {
	n := 0
	for _, x := range xs {
		if outcome(x) == o {
			n++
		}
	}
	return n
}

// Remaining are the steps still to be made.
func (r *Result) Remaining() []Step {
	var out []Step
	for _, s := range r.Steps {
		if s.Remaining {
			out = append(out, s)
		}
	}
	return out
}

// StaleError refuses a plan whose projects' allowlists changed since it
// was computed: its calls may no longer be what the allowlists need.
type StaleError struct {
	// Projects that changed, sorted, and how (Detail, same order).
	Projects []string
	Detail   []string
}

func (e *StaleError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Saved plan is stale: the allowlists of %s changed since the plan was computed; plan again", strings.Join(e.Projects, ", "))
	for i, p := range e.Projects {
		fmt.Fprintf(&b, "\n  %s: %s", p, e.Detail[i])
	}
	return b.String()
}

// PartialError says the run made some changes but not all: Remaining
// lists the calls still to be made.
type PartialError struct {
	Remaining []Step
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("partially applied: %d call(s) remain:\n%s", len(e.Remaining), listSteps(e.Remaining))
}

// FailedError says no change was made and some calls failed.
type FailedError struct {
	Remaining []Step
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("nothing applied: %d call(s) remain:\n%s", len(e.Remaining), listSteps(e.Remaining))
}

func listSteps(steps []Step) string {
	var lines []string
	for _, s := range steps {
		lines = append(lines, fmt.Sprintf("  %s: %s (%s: %s)", s.Project, Describe(s.Call), s.Outcome, s.Reason))
	}
	return strings.Join(lines, "\n")
}

// ErrUnknownWave is a --wave the plan does not have.
var ErrUnknownWave = errors.New("unknown wave")

// Selected returns the projects of wave ("" for all) that have calls, in
// wave order (the plan's waves, then projects of no wave), each wave's
// projects by path.
func Selected(doc *planfile.Document, wave string) ([]planfile.Project, error) {
	order := []string{}
	for _, w := range doc.Waves {
		order = append(order, w.Name)
	}
	for _, p := range doc.Projects {
		if !slices.Contains(order, p.Wave) {
			order = append(order, p.Wave)
		}
	}
	if wave != "" && !slices.Contains(order, wave) {
		names := slices.DeleteFunc(slices.Clone(order), func(s string) bool { return s == "" })
		if len(names) == 0 {
			return nil, fmt.Errorf("%w %q: the plan has no waves (trust.yaml names them)", ErrUnknownWave, wave)
		}
		return nil, fmt.Errorf("%w %q: the plan has %s", ErrUnknownWave, wave, strings.Join(names, ", "))
	}
	var out []planfile.Project
	for _, w := range order {
		if wave != "" && w != wave {
			continue
		}
		for _, p := range doc.Projects {
			if p.Wave == w && len(p.Calls) > 0 {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// Run applies doc (a dry run unless o.Write). It reads the live state of
// the selected projects first and refuses the plan (*StaleError) when any
// of them moved. Then, per project, it makes the calls in plan order:
// an effect already in place is "already"; removals only when the plan
// was computed with --prune; enforcement not when an entry of the project
// could not be made (enforcing without it would break the caller). A
// failed call does not end the run. The error is a *PartialError or
// *FailedError when calls remain.
func Run(ctx context.Context, doc *planfile.Document, gl GitLab, o Options) (*Result, error) {
	// A dry run changes nothing, so it may show an unfinished review's
	// calls; only writing is refused.
	if o.Write && doc.Unreviewed > 0 && !o.Unreviewed {
		return nil, &UnreviewedError{Count: doc.Unreviewed}
	}
	projects, err := Selected(doc, o.Wave)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	if len(projects) == 0 {
		return res, nil
	}
	// A project whose allowlist the plan could not read is neither read
	// nor touched (runProject skips it): reading it would fail the whole
	// run for the same missing role.
	var refs []gitlab.Ref
	for _, p := range projects {
		if p.State != plan.StateUnknown {
			refs = append(refs, gitlab.Ref{ID: p.ID, Path: p.Project})
		}
	}
	states, err := gl.ReadStates(ctx, refs)
	if err != nil {
		return nil, fmt.Errorf("read the live allowlists: %w", err)
	}
	// The plan's state_digest covers the whole inventory the plan read
	// (every group of --group), which apply cannot re-read from the plan
	// alone; so the check is per project: the project's live state must be
	// one the plan allows (see expected).
	stale := &StaleError{}
	for _, p := range projects {
		if p.State == plan.StateUnknown {
			// Nothing to compare with: the plan never saw this allowlist,
			// and runProject touches none of it.
			continue
		}
		st, ok := states[strings.ToLower(p.Project)]
		if !ok {
			return nil, fmt.Errorf("read the live allowlists: %s was not returned", p.Project)
		}
		if d := expectedState(p).moved(st); d != "" {
			stale.Projects = append(stale.Projects, p.Project)
			stale.Detail = append(stale.Detail, d)
		}
	}
	if len(stale.Projects) > 0 {
		return nil, stale
	}
	var j *Journal
	if o.Write && o.Journal != "" {
		if j, err = OpenJournal(o.Journal); err != nil {
			return nil, err
		}
		defer j.Close()
	}
	for _, p := range projects {
		st := states[strings.ToLower(p.Project)]
		st.Entries = maps.Clone(st.Entries)
		if err := runProject(ctx, doc, p, &st, gl, j, o, res); err != nil {
			return res, err
		}
	}
	rem := res.Remaining()
	switch {
	case len(rem) == 0:
		return res, nil
	case res.Count(Done) > 0:
		return res, &PartialError{Remaining: rem}
	default:
		return res, &FailedError{Remaining: rem}
	}
}

// runProject makes one project's calls; the error is only for the journal
// or a cancelled context, which end the run. A failed call does not stop
// the project's other calls (each entry is its own change), except those
// of the same entry and the enforcement.
func runProject(ctx context.Context, doc *planfile.Document, p planfile.Project, st *State, gl GitLab, j *Journal, o Options, res *Result) error {
	entryFailed := false
	failedTargets := map[Key]bool{}
	var stop error
	for _, c := range p.Calls {
		step := Step{Project: p.Project, Wave: p.Wave, Call: c}
		before := snapshotState(*st, c)
		isEntry := c.Kind == plan.CallAddProject || c.Kind == plan.CallAddGroup || c.Kind == plan.CallUpdatePolicies
		switch {
		case p.State == plan.StateUnknown:
			// The plan was computed without seeing this allowlist (a token
			// below Maintainer): its calls could undo what is there.
			step.Outcome, step.Reason, step.Remaining = Skipped, "current allowlist unknown to the plan (its token could not read it): plan again with a Maintainer token", true
		case c.Target != nil && failedTargets[key(c.Target.Type, c.Target.Path)]:
			// The policies of an entry that could not be added.
			step.Outcome, step.Reason, step.Remaining = Skipped, "an earlier call for this entry failed", true
		case c.Kind == plan.CallEnforce && entryFailed:
			step.Outcome, step.Reason, step.Remaining = Skipped, "an entry of this project is not made; enforcing would break its callers", true
		case (c.Kind == plan.CallRemoveProject || c.Kind == plan.CallRemoveGroup) && !doc.Pruned:
			step.Outcome, step.Reason = Skipped, "the plan was computed without pruning"
		case c.Unsupported != "":
			step.Outcome, step.Reason, step.Remaining = Skipped, "unsupported: "+c.Unsupported, true
			entryFailed = entryFailed || isEntry
		case o.Resume[planCallID(p.Project, c)]:
			// Made by the run being resumed: trust its journal rather
			// than spend a call (the stale check above has read the
			// project since).
			step.Outcome, step.Reason = Already, "done before the interruption (journal)"
			effect(st, c)
		case inPlace(*st, c):
			step.Outcome, step.Reason = Already, "already so in GitLab"
		case !o.Write:
			step.Outcome = Planned
		default:
			err := do(ctx, gl, p, c)
			switch {
			case err == nil:
				step.Outcome = Done
				effect(st, c)
			case ctx.Err() != nil:
				// GitLab may or may not have made it: journal it as failed
				// (a later run finds it "already" if it was made), then stop.
				step.Outcome, step.Reason, step.Remaining = Failed, "interrupted: "+err.Error(), true
				stop = ctx.Err()
			case doneText(err, c.Done):
				step.Outcome, step.Reason = Already, err.Error()
				effect(st, c)
			default:
				step.Outcome, step.Reason, step.Remaining = Failed, err.Error(), true
				if c.Target != nil {
					failedTargets[key(c.Target.Type, c.Target.Path)] = true
				}
				// A removal that failed leaves more access, never less:
				// enforcement stays safe.
				entryFailed = entryFailed || isEntry
			}
		}
		res.Steps = append(res.Steps, step)
		if o.Step != nil {
			o.Step(step)
		}
		if j != nil {
			l := Line{Time: now(o.Now), StateDigest: doc.StateDigest, PlanDigest: o.PlanDigest, Project: p.Project, ProjectID: p.ID, Wave: p.Wave, Kind: c.Kind,
				Request: Request(c), Outcome: step.Outcome, Before: before, After: snapshotState(*st, c), Params: c.Params}
			if step.Outcome == Failed || step.Outcome == Skipped {
				l.Error = step.Reason
			}
			if c.Target != nil {
				l.Target = &Target{Type: c.Target.Type, Path: c.Target.Path, ID: c.Target.ID}
			}
			if err := j.Write(l); err != nil {
				return err
			}
		}
		if stop != nil {
			return stop
		}
	}
	return nil
}

// do makes call c of project p.
func do(ctx context.Context, gl GitLab, p planfile.Project, c planfile.Call) error {
	proj := gitlab.Ref{ID: p.ID, Path: p.Project}
	var target gitlab.Ref
	group := false
	if c.Target != nil {
		target = gitlab.Ref{ID: c.Target.ID, Path: c.Target.Path}
		group = c.Target.Type == plan.GroupEntry
	}
	if c.ByPath {
		// The plan chose the path-based GraphQL mutation: the inventory
		// lacked an ID.
		proj.ID, target.ID = 0, 0
	}
	switch c.Kind {
	case plan.CallAddProject, plan.CallAddGroup:
		return gl.AddAllowlistEntry(ctx, proj, target, group)
	case plan.CallRemoveProject, plan.CallRemoveGroup:
		return gl.RemoveAllowlistEntry(ctx, proj, target, group)
	case plan.CallUpdatePolicies:
		return gl.UpdateAllowlistPolicies(ctx, proj, target, c.Policies.List)
	case plan.CallEnforce:
		return gl.EnforceAllowlist(ctx, proj)
	}
	return fmt.Errorf("unknown call kind %q", c.Kind)
}

// inPlace reports whether c's effect is already in st.
func inPlace(st State, c planfile.Call) bool {
	if c.Kind == plan.CallEnforce {
		return st.Enforced
	}
	if c.Target == nil {
		return false
	}
	pol, ok := st.Entries[key(c.Target.Type, c.Target.Path)]
	switch c.Kind {
	case plan.CallAddProject, plan.CallAddGroup:
		return ok
	case plan.CallRemoveProject, plan.CallRemoveGroup:
		return !ok
	case plan.CallUpdatePolicies:
		return ok && samePolicies(pol, c.Policies.List)
	}
	return false
}

// effect records c's effect in st.
func effect(st *State, c planfile.Call) {
	if c.Kind == plan.CallEnforce {
		st.Enforced = true
		return
	}
	if st.Entries == nil {
		st.Entries = map[Key][]string{}
	}
	k := key(c.Target.Type, c.Target.Path)
	switch c.Kind {
	case plan.CallAddProject, plan.CallAddGroup:
		if _, ok := st.Entries[k]; !ok {
			st.Entries[k] = nil // default permissions
		}
	case plan.CallRemoveProject, plan.CallRemoveGroup:
		delete(st.Entries, k)
	case plan.CallUpdatePolicies:
		st.Entries[k] = c.Policies.List
	}
}

// doneText reports whether err is one of GitLab's "already done" answers.
func doneText(err error, done []string) bool {
	msg := strings.ToLower(err.Error())
	for _, d := range done {
		if d != "" && strings.Contains(msg, strings.ToLower(d)) {
			return true
		}
	}
	return false
}

// Request is the call as one line: method, path, the mutation for
// GraphQL, and the parameters sorted by name.
func Request(c planfile.Call) string {
	var b strings.Builder
	b.WriteString(c.Method + " " + c.Path)
	if c.Mutation != "" {
		b.WriteString(" " + c.Mutation)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Params)) {
		fmt.Fprintf(&b, " %s=%v", k, c.Params[k])
	}
	return b.String()
}

// Describe is the call's kind and target ("add-project apps/web").
func Describe(c planfile.Call) string {
	if c.Target == nil {
		return string(c.Kind)
	}
	return string(c.Kind) + " " + c.Target.Path
}
