package apply

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/planfile"
)

// live is a GitLab that keeps state: writes change it. cancel, when set,
// is called after the write numbered cancelAfter (1-based).
type live struct {
	states      map[string]State
	writes      []string
	cancel      func()
	cancelAfter int
	disableErr  error
	policyErr   error
	removeErr   error
}

func newLive() *live {
	return &live{states: map[string]State{"libs/jslib": {Entries: map[Key][]string{
		key(plan.ProjectEntry, "apps/keep"): nil, key(plan.ProjectEntry, "old/x"): {"read_jobs", "read_packages"},
	}}}}
}

func (l *live) ReadStates(_ context.Context, refs []gitlab.Ref) (map[string]State, error) {
	out := map[string]State{}
	for _, r := range refs {
		st := l.states[r.Path]
		st.Entries = maps.Clone(st.Entries)
		out[strings.ToLower(r.Path)] = st
	}
	return out, nil
}

func (l *live) change(ctx context.Context, what, project string, f func(*State)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st := l.states[project]
	st.Entries = maps.Clone(st.Entries)
	if st.Entries == nil {
		st.Entries = map[Key][]string{}
	}
	f(&st)
	l.states[project] = st
	l.writes = append(l.writes, what)
	if l.cancel != nil && len(l.writes) == l.cancelAfter {
		l.cancel()
	}
	return nil
}

func (l *live) AddAllowlistEntry(ctx context.Context, p, t gitlab.Ref, _ bool) error {
	return l.change(ctx, "add "+t.Path, p.Path, func(s *State) { s.Entries[key(plan.ProjectEntry, t.Path)] = nil })
}
func (l *live) RemoveAllowlistEntry(ctx context.Context, p, t gitlab.Ref, _ bool) error {
	if l.removeErr != nil {
		return l.removeErr
	}
	return l.change(ctx, "remove "+t.Path, p.Path, func(s *State) { delete(s.Entries, key(plan.ProjectEntry, t.Path)) })
}
func (l *live) UpdateAllowlistPolicies(ctx context.Context, p, t gitlab.Ref, pol []string) error {
	if l.policyErr != nil {
		return l.policyErr
	}
	return l.change(ctx, "policies "+t.Path+" "+strings.Join(pol, "+"), p.Path, func(s *State) { s.Entries[key(plan.ProjectEntry, t.Path)] = pol })
}
func (l *live) EnforceAllowlist(ctx context.Context, p gitlab.Ref) error {
	return l.change(ctx, "enforce "+p.Path, p.Path, func(s *State) { s.Enforced = true })
}
func (l *live) DisableAllowlist(ctx context.Context, p gitlab.Ref) error {
	if l.disableErr != nil {
		return l.disableErr
	}
	return l.change(ctx, "disable "+p.Path, p.Path, func(s *State) { s.Enforced = false })
}

// rbPlan is testPlan whose removed entry old/x has policies, which a
// rollback must give back.
func rbPlan() *planfile.Document {
	doc := testPlan(true)
	doc.Projects[0].Remove[0].CurrentPolicies = planfile.Policies([]string{"read_jobs", "read_packages"})
	return doc
}

func sameState(t *testing.T, got, want State) {
	t.Helper()
	if got.Enforced != want.Enforced || !maps.EqualFunc(got.Entries, want.Entries, func(a, b []string) bool { return slices.Equal(a, b) }) {
		t.Errorf("state %+v; want %+v", got, want)
	}
}

func applied(t *testing.T, gl *live) string {
	t.Helper()
	journal := filepath.Join(t.TempDir(), "plan.journal.jsonl")
	if _, err := Run(context.Background(), rbPlan(), gl, Options{Write: true, Journal: journal, PlanDigest: "sha256:plan"}); err != nil {
		t.Fatal(err)
	}
	return journal
}

// An interrupted apply, resumed with its journal, makes only the calls the
// journal does not record as made, and ends where an uninterrupted apply
// ends.
func TestResumeAfterInterruption(t *testing.T) {
	gl := newLive()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gl.cancel, gl.cancelAfter = cancel, 2
	journal := filepath.Join(t.TempDir(), "plan.journal.jsonl")
	o := Options{Write: true, Journal: journal, PlanDigest: "sha256:plan"}
	_, err := Run(ctx, rbPlan(), gl, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v; want the cancellation", err)
	}
	lines, err := ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || lines[2].Outcome != Failed || !strings.HasPrefix(lines[2].Error, "interrupted") {
		t.Fatalf("journal %+v; want 2 done and the interrupted third", lines)
	}
	if _, err := Resumed(lines, "sha256:other"); !errors.Is(err, ErrJournalMismatch) {
		t.Errorf("another plan's journal: err %v", err)
	}
	o.Resume, err = Resumed(lines, "sha256:plan")
	if err != nil {
		t.Fatal(err)
	}
	gl.cancel, gl.writes = nil, nil
	res, err := Run(context.Background(), rbPlan(), gl, o)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"add apps/api", "remove old/x", "enforce libs/jslib"}; !slices.Equal(gl.writes, want) {
		t.Errorf("resumed writes %v; want %v", gl.writes, want)
	}
	if res.Count(Already) != 2 || res.Count(Done) != 3 {
		t.Errorf("already %d, done %d", res.Count(Already), res.Count(Done))
	}
	want := newLive()
	_, _ = Run(context.Background(), rbPlan(), want, Options{Write: true})
	sameState(t, gl.states["libs/jslib"], want.states["libs/jslib"])
}

// A rollback undoes the journal last call first and restores the state
// before the apply exactly: the removed entry comes back with its
// policies. Run again, it does nothing.
func TestRollbackRestores(t *testing.T) {
	gl := newLive()
	before := gl.states["libs/jslib"]
	journal := applied(t, gl)
	lines, err := ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	gl.writes = nil
	res, err := Rollback(context.Background(), lines, gl, RollbackOptions{})
	if err != nil || len(gl.writes) != 0 || res.Count(Planned) != 5 {
		t.Fatalf("dry run: err %v, writes %v, planned %d", err, gl.writes, res.Count(Planned))
	}
	rj := journal + ".rollback"
	res, err = Rollback(context.Background(), lines, gl, RollbackOptions{Write: true, Journal: rj})
	if err != nil || res.Count(Done) != 5 {
		t.Fatalf("err %v, done %d", err, res.Count(Done))
	}
	want := []string{"disable libs/jslib", "add old/x", "policies old/x read_jobs+read_packages", "remove apps/api", "policies apps/web ", "remove apps/web"}
	if !slices.Equal(gl.writes, want) {
		t.Errorf("writes %q; want %q", gl.writes, want)
	}
	sameState(t, gl.states["libs/jslib"], before)
	if rl, err := ReadJournal(rj); err != nil || len(rl) != 5 || rl[0].Kind != CallDisable {
		t.Errorf("rollback journal %+v, %v", rl, err)
	}
	gl.writes = nil
	res, err = Rollback(context.Background(), lines, gl, RollbackOptions{Write: true})
	if err != nil || len(gl.writes) != 0 || res.Count(Already) != 5 {
		t.Errorf("again: err %v, writes %v, already %d", err, gl.writes, res.Count(Already))
	}
}

// An entry changed since the journal refuses the whole rollback (nothing
// written) unless Force.
func TestRollbackRefusesChangedEntries(t *testing.T) {
	gl := newLive()
	lines, err := ReadJournal(applied(t, gl))
	if err != nil {
		t.Fatal(err)
	}
	st := gl.states["libs/jslib"]
	st.Entries[key(plan.ProjectEntry, "apps/web")] = []string{"read_releases"}
	gl.writes = nil
	_, err = Rollback(context.Background(), lines, gl, RollbackOptions{Write: true})
	var ce *ChangedError
	if !errors.As(err, &ce) || len(ce.Undos) != 1 || len(gl.writes) != 0 {
		t.Fatalf("err %v, writes %v", err, gl.writes)
	}
	if !strings.Contains(err.Error(), "update-policies apps/web on libs/jslib to default permissions (now on the allowlist with [read_releases], the journal left on the allowlist with [read_jobs])") {
		t.Errorf("message: %v", err)
	}
	if _, err := Rollback(context.Background(), lines, gl, RollbackOptions{Write: true, Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, ok := gl.states["libs/jslib"].Entries[key(plan.ProjectEntry, "apps/web")]; ok {
		t.Errorf("forced: apps/web still there")
	}
}

// GitLab 18.0+ refuses to turn the allowlist off while the instance
// enforces it; the rollback says so and undoes the rest.
func TestRollbackInstanceEnforced(t *testing.T) {
	gl := newLive()
	lines, err := ReadJournal(applied(t, gl))
	if err != nil {
		t.Fatal(err)
	}
	gl.disableErr = errors.New("turn off limit access to libs/jslib: 400 {message: 400 Bad request - Job token scope cannot be disabled for this project because it is enforced for the instance.}")
	res, err := Rollback(context.Background(), lines, gl, RollbackOptions{Write: true})
	var fe *RollbackFailedError
	if !errors.As(err, &fe) || !fe.Partial || !IsInstanceEnforced(err) || res.Count(Done) != 4 {
		t.Fatalf("err %v, done %d", err, res.Count(Done))
	}
	if !strings.Contains(err.Error(), "the instance enforces job token allowlists") {
		t.Errorf("message: %v", err)
	}
}

// A last line cut short by a crash is dropped; a bad line before the end
// is an error.
func TestReadJournalTruncated(t *testing.T) {
	dir := t.TempDir()
	good := `{"project":"a","kind":"enforce","request":"PATCH x","outcome":"done"}`
	f := filepath.Join(dir, "j.jsonl")
	if err := os.WriteFile(f, []byte(good+"\n"+`{"project":"a","ki`), 0o600); err != nil {
		t.Fatal(err)
	}
	lines, err := ReadJournal(f)
	if err != nil || len(lines) != 1 {
		t.Errorf("lines %+v, err %v", lines, err)
	}
	if err := os.WriteFile(f, []byte(`{"project`+"\n"+good+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadJournal(f); err == nil {
		t.Errorf("a bad line in the middle is accepted")
	}
	if !reflect.DeepEqual(lines[0].Project, "a") {
		t.Errorf("line %+v", lines[0])
	}
}

// A removal whose entry came back but whose policies could not be set is
// finished by the next rollback, which only sets the policies.
func TestRollbackFinishesAReAdd(t *testing.T) {
	gl := newLive()
	before := gl.states["libs/jslib"]
	lines, err := ReadJournal(applied(t, gl))
	if err != nil {
		t.Fatal(err)
	}
	gl.policyErr = errors.New("503 Service Unavailable")
	if _, err := Rollback(context.Background(), lines, gl, RollbackOptions{Write: true}); err == nil {
		t.Fatal("no error")
	}
	gl.policyErr, gl.writes = nil, nil
	if _, err := Rollback(context.Background(), lines, gl, RollbackOptions{Write: true}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"policies old/x read_jobs+read_packages"}; !slices.Equal(gl.writes, want) {
		t.Errorf("writes %q; want %q", gl.writes, want)
	}
	sameState(t, gl.states["libs/jslib"], before)
}

// A removal GitLab answers with "not in the job token scope" (a retry
// after the answer was lost) is undone, not failed.
func TestRollbackAlreadyAnswers(t *testing.T) {
	gl := newLive()
	lines, err := ReadJournal(applied(t, gl))
	if err != nil {
		t.Fatal(err)
	}
	gl.removeErr = errors.New("404 Target project is not in the job token scope")
	res, err := Rollback(context.Background(), lines, gl, RollbackOptions{Write: true})
	if err != nil || res.Count(Done) != 5 {
		t.Errorf("err %v, done %d", err, res.Count(Done))
	}
}

// An add answered "already in the job token allowlist" although the state
// read before lacked the entry was made by this apply (a retry after a
// lost answer): the rollback removes it. One found in place is left.
func TestRollbackUndoesRetriedAlready(t *testing.T) {
	f, tr := false, true
	lines := []Line{
		{Project: "libs/jslib", Kind: plan.CallAddProject, Target: &Target{Type: plan.ProjectEntry, Path: "apps/web"}, Outcome: Already,
			Before: &JournalState{OnAllowlist: &f}, After: &JournalState{OnAllowlist: &tr, Policies: planfile.Policies(nil)}},
		{Project: "libs/jslib", Kind: plan.CallAddProject, Target: &Target{Type: plan.ProjectEntry, Path: "apps/keep"}, Outcome: Already,
			Before: &JournalState{OnAllowlist: &tr, Policies: planfile.Policies(nil)}, After: &JournalState{OnAllowlist: &tr, Policies: planfile.Policies(nil)}},
	}
	if got := Undoable(lines); len(got) != 1 || got[0].Target.Path != "apps/web" {
		t.Errorf("undoable %+v", got)
	}
}
