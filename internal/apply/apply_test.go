package apply

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/planfile"
)

// fake is a GitLab with one state per project; fail maps "kind target"
// to the error a write returns.
type fake struct {
	states map[string]State
	fail   map[string]error
	writes []string
	// unreadable projects fail ReadStates, as a token below Maintainer does.
	unreadable map[string]bool
}

func (f *fake) ReadStates(_ context.Context, refs []gitlab.Ref) (map[string]State, error) {
	out := map[string]State{}
	for _, r := range refs {
		if f.unreadable[r.Path] {
			return nil, errors.New(r.Path + ": cannot read the job token settings")
		}
		out[strings.ToLower(r.Path)] = f.states[r.Path]
	}
	return out, nil
}

func (f *fake) write(what string) error {
	f.writes = append(f.writes, what)
	return f.fail[what]
}

func (f *fake) AddAllowlistEntry(_ context.Context, p, t gitlab.Ref, _ bool) error {
	return f.write("add " + t.Path)
}
func (f *fake) RemoveAllowlistEntry(_ context.Context, p, t gitlab.Ref, _ bool) error {
	return f.write("remove " + t.Path)
}
func (f *fake) UpdateAllowlistPolicies(_ context.Context, p, t gitlab.Ref, _ []string) error {
	return f.write("policies " + t.Path)
}
func (f *fake) EnforceAllowlist(_ context.Context, p gitlab.Ref) error {
	return f.write("enforce " + p.Path)
}
func (f *fake) DisableAllowlist(_ context.Context, p gitlab.Ref) error {
	return f.write("disable " + p.Path)
}

func target(path string) *planfile.Target {
	return &planfile.Target{Type: plan.ProjectEntry, Path: path, ID: 1}
}

// testPlan: libs/jslib adds apps/web (with policies) and apps/api,
// removes old/x (on the allowlist today), keeps apps/keep, enforces.
func testPlan(pruned bool) *planfile.Document {
	pol := planfile.Policies([]string{"read_jobs"})
	return &planfile.Document{Version: planfile.Version, Pruned: pruned, StateDigest: "sha256:ab",
		Projects: []planfile.Project{{Project: "libs/jslib", ID: 201, Enforce: true,
			Add:    []planfile.Entry{{Type: plan.ProjectEntry, Path: "apps/web", Policies: []string{"read_jobs"}}, {Type: plan.ProjectEntry, Path: "apps/api"}},
			Keep:   []planfile.Entry{{Type: plan.ProjectEntry, Path: "apps/keep", CurrentPolicies: planfile.Policies(nil)}},
			Remove: []planfile.Removal{{Type: plan.ProjectEntry, Path: "old/x", CurrentPolicies: planfile.Policies(nil)}},
			Calls: []planfile.Call{
				{Kind: plan.CallAddProject, Method: "POST", Target: target("apps/web"), Done: []string{"already in the job token allowlist"}},
				{Kind: plan.CallUpdatePolicies, Method: "POST", Target: target("apps/web"), Policies: pol},
				{Kind: plan.CallAddProject, Method: "POST", Target: target("apps/api"), Done: []string{"already in the job token allowlist"}},
				{Kind: plan.CallRemoveProject, Method: "DELETE", Target: target("old/x"), Done: []string{"is not in the job token scope"}},
				{Kind: plan.CallEnforce, Method: "PATCH", Done: []string{}},
			}}}}
}

func today() *fake {
	return &fake{states: map[string]State{"libs/jslib": {Entries: map[Key][]string{
		key(plan.ProjectEntry, "apps/keep"): nil, key(plan.ProjectEntry, "old/x"): nil,
	}}}, fail: map[string]error{}}
}

func TestDryRunWritesNothing(t *testing.T) {
	f := today()
	res, err := Run(context.Background(), testPlan(true), f, Options{})
	if err != nil || len(f.writes) != 0 || res.Count(Planned) != 5 {
		t.Fatalf("err %v, writes %v, planned %d", err, f.writes, res.Count(Planned))
	}
}

func TestApplyInOrderAndJournal(t *testing.T) {
	f := today()
	journal := filepath.Join(t.TempDir(), "plan.journal.jsonl")
	now := func() time.Time { return time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC) }
	res, err := Run(context.Background(), testPlan(true), f, Options{Write: true, Journal: journal, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	want := "add apps/web,policies apps/web,add apps/api,remove old/x,enforce libs/jslib"
	if got := strings.Join(f.writes, ","); got != want {
		t.Errorf("writes %s; want %s", got, want)
	}
	if res.Count(Done) != 5 {
		t.Errorf("done %d", res.Count(Done))
	}
	fh, err := os.Open(journal)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	n := 0
	for sc.Scan() {
		n++
		l := sc.Text()
		for _, s := range []string{`"time":"2026-12-04T01:00:00Z"`, `"state_digest":"sha256:ab"`, `"project":"libs/jslib"`, `"before":`, `"after":`} {
			if !strings.Contains(l, s) {
				t.Errorf("journal line %d lacks %s: %s", n, s, l)
			}
		}
	}
	if n != 5 {
		t.Errorf("%d journal lines; want 5", n)
	}
}

func TestAlreadyResponses(t *testing.T) {
	f := today()
	f.fail["add apps/api"] = errors.New("400 Bad request - This project is already in the job token allowlist.")
	res, err := Run(context.Background(), testPlan(true), f, Options{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Count(Already) != 1 || res.Count(Done) != 4 {
		t.Errorf("already %d, done %d", res.Count(Already), res.Count(Done))
	}
	// The live state already has everything: no write at all.
	f = &fake{states: map[string]State{"libs/jslib": {Enforced: true, Entries: map[Key][]string{
		key(plan.ProjectEntry, "apps/keep"): nil, key(plan.ProjectEntry, "apps/web"): {"read_jobs"}, key(plan.ProjectEntry, "apps/api"): nil,
	}}}}
	res, err = Run(context.Background(), testPlan(true), f, Options{Write: true})
	if err != nil || len(f.writes) != 0 || res.Count(Already) != 5 {
		t.Errorf("err %v, writes %v, already %d", err, f.writes, res.Count(Already))
	}
}

func TestFailedEntrySkipsEnforcement(t *testing.T) {
	f := today()
	f.fail["add apps/web"] = errors.New("403 Forbidden")
	res, err := Run(context.Background(), testPlan(true), f, Options{Write: true})
	var pe *PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v; want a PartialError", err)
	}
	if got := strings.Join(f.writes, ","); got != "add apps/web,add apps/api,remove old/x" {
		t.Errorf("writes %s", got)
	}
	if len(pe.Remaining) != 3 || res.Count(Skipped) != 2 {
		t.Errorf("remaining %+v", pe.Remaining)
	}
	if !strings.Contains(err.Error(), "libs/jslib: enforce (skipped") {
		t.Errorf("err does not list the enforcement: %v", err)
	}
	// Nothing made at all: not partial.
	f = today()
	for _, w := range []string{"add apps/web", "add apps/api", "remove old/x"} {
		f.fail[w] = errors.New("500")
	}
	_, err = Run(context.Background(), testPlan(true), f, Options{Write: true})
	var fe *FailedError
	if !errors.As(err, &fe) {
		t.Errorf("err = %v; want a FailedError", err)
	}
}

func TestRemovalsOnlyWhenPruned(t *testing.T) {
	f := today()
	res, err := Run(context.Background(), testPlan(false), f, Options{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range f.writes {
		if strings.HasPrefix(w, "remove") {
			t.Errorf("removal made without pruning: %v", f.writes)
		}
	}
	if res.Count(Skipped) != 1 || len(res.Remaining()) != 0 {
		t.Errorf("skipped %d, remaining %v", res.Count(Skipped), res.Remaining())
	}
}

func TestStalePlanRefused(t *testing.T) {
	for name, st := range map[string]State{
		"entry added":     {Entries: map[Key][]string{key(plan.ProjectEntry, "apps/keep"): nil, key(plan.ProjectEntry, "old/x"): nil, key(plan.ProjectEntry, "evil/x"): nil}},
		"kept removed":    {Entries: map[Key][]string{key(plan.ProjectEntry, "old/x"): nil}},
		"policies change": {Entries: map[Key][]string{key(plan.ProjectEntry, "apps/keep"): {"read_jobs"}}},
	} {
		f := &fake{states: map[string]State{"libs/jslib": st}}
		_, err := Run(context.Background(), testPlan(true), f, Options{Write: true})
		var se *StaleError
		if !errors.As(err, &se) || len(f.writes) != 0 {
			t.Errorf("%s: err %v, writes %v", name, err, f.writes)
			continue
		}
		if !strings.HasPrefix(err.Error(), "Saved plan is stale: the allowlists of libs/jslib changed since the plan was computed; plan again") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSelectedWaves(t *testing.T) {
	doc := &planfile.Document{Waves: []planfile.Wave{{Name: "pilot"}, {Name: "rest"}}, Projects: []planfile.Project{
		{Project: "a", Wave: "rest", Calls: []planfile.Call{{Kind: plan.CallEnforce}}},
		{Project: "b", Wave: "pilot", Calls: []planfile.Call{{Kind: plan.CallEnforce}}},
		{Project: "c", Wave: "pilot"},
	}}
	ps, err := Selected(doc, "")
	if err != nil || len(ps) != 2 || ps[0].Project != "b" || ps[1].Project != "a" {
		t.Errorf("all: %v %v", ps, err)
	}
	if _, err := Selected(doc, "nope"); !errors.Is(err, ErrUnknownWave) {
		t.Errorf("unknown wave: %v", err)
	}
}

func TestJournalPath(t *testing.T) {
	if got := JournalPath("out/plan.json"); got != "out/plan.journal.jsonl" {
		t.Error(got)
	}
}

// cancelling fake: the context ends during the second write.
type cancelling struct {
	*fake
	cancel context.CancelFunc
}

func (c cancelling) UpdateAllowlistPolicies(ctx context.Context, p, t gitlab.Ref, pol []string) error {
	c.cancel()
	return ctx.Err()
}

func TestInterruptedCallIsJournaled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	res, err := Run(ctx, testPlan(true), cancelling{today(), cancel}, Options{Write: true, Journal: journal})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if len(res.Steps) != 2 || res.Steps[1].Outcome != Failed {
		t.Errorf("steps %+v", res.Steps)
	}
	b, _ := os.ReadFile(journal)
	if n := strings.Count(string(b), "\n"); n != 2 || !strings.Contains(string(b), `"outcome":"failed","error":"interrupted: context canceled"`) {
		t.Errorf("journal:\n%s", b)
	}
}

// A plan applied halfway (by an earlier run) is not stale: what is made is
// "already", the rest is made.
func TestHalfAppliedPlanContinues(t *testing.T) {
	f := today()
	f.states["libs/jslib"].Entries[key(plan.ProjectEntry, "apps/web")] = nil // added, policies not yet set
	delete(f.states["libs/jslib"].Entries, key(plan.ProjectEntry, "old/x"))  // already removed
	res, err := Run(context.Background(), testPlan(true), f, Options{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.writes, ","); got != "policies apps/web,add apps/api,enforce libs/jslib" {
		t.Errorf("writes %s", got)
	}
	if res.Count(Already) != 2 || res.Count(Done) != 3 {
		t.Errorf("already %d, done %d", res.Count(Already), res.Count(Done))
	}
}

// A project whose allowlist the plan could not read is never touched, and
// its live state (whatever it is) is not a stale plan.
func TestUnknownStateNotTouched(t *testing.T) {
	doc := testPlan(true)
	doc.Projects[0].State = plan.StateUnknown
	// The token still cannot read it: apply must not try.
	f := &fake{unreadable: map[string]bool{"libs/jslib": true}}
	res, err := Run(context.Background(), doc, f, Options{Write: true})
	var fe *FailedError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v; want a FailedError (nothing could be made)", err)
	}
	if len(f.writes) != 0 {
		t.Errorf("writes %v to a project of unknown state", f.writes)
	}
	if res.Count(Skipped) != len(doc.Projects[0].Calls) || !strings.Contains(err.Error(), "unknown") {
		t.Errorf("skipped %d of %d; err %v", res.Count(Skipped), len(doc.Projects[0].Calls), err)
	}
}

// A plan computed while trust.yaml still held drafted entries is refused
// for writing, before any read, unless the run says Unreviewed; a dry run
// may still show it.
func TestRunRefusesUnreviewedPlan(t *testing.T) {
	doc := &planfile.Document{Unreviewed: 2}
	_, err := Run(context.Background(), doc, nil, Options{Write: true})
	var ue *UnreviewedError
	if !errors.As(err, &ue) || ue.Count != 2 {
		t.Fatalf("Run = %v, want *UnreviewedError of 2", err)
	}
	if !strings.Contains(err.Error(), "2 trust file entries were still marked unreviewed") {
		t.Errorf("message: %v", err)
	}
	// With no projects selected nothing is read, so a nil GitLab is fine.
	if _, err := Run(context.Background(), doc, nil, Options{Write: true, Unreviewed: true}); err != nil {
		t.Errorf("with Unreviewed: %v", err)
	}
	if _, err := Run(context.Background(), doc, nil, Options{}); err != nil {
		t.Errorf("dry run: %v", err)
	}
}
