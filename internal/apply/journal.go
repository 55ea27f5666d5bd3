package apply

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/planfile"
)

// Journal is the append-only record of an apply: one JSON line per call,
// synced to disk before the next call is made, so that after a crash the
// journal says what GitLab was asked and what it answered. It holds no
// token: calls name projects and entries, and GitLab's answers are
// redacted by the client.
type Journal struct {
	f *os.File
}

// JournalPath is the default journal of the plan file: PLAN.json becomes
// PLAN.journal.jsonl next to it.
func JournalPath(planFile string) string {
	return strings.TrimSuffix(planFile, ".json") + ".journal.jsonl"
}

// OpenJournal opens file for appending, creating it (mode 0600: it names
// the org's projects) if needed.
func OpenJournal(file string) (*Journal, error) {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &Journal{f: f}, nil
}

// Close closes the journal file.
func (j *Journal) Close() error { return j.f.Close() }

// Line is one journal line.
type Line struct {
	Time        string `json:"time"` // RFC 3339
	StateDigest string `json:"state_digest"`
	// PlanDigest is PlanDigest of the plan file applied: --resume
	// continues a journal only with the very plan it was written for.
	PlanDigest string `json:"plan_digest,omitempty"`
	Project    string `json:"project"`
	// ProjectID is the project's numeric ID when the plan knew it, so that
	// a rollback can use the REST routes.
	ProjectID int            `json:"project_id,omitempty"`
	Wave      string         `json:"wave,omitempty"`
	Kind      plan.CallKind  `json:"kind"`
	Target    *Target        `json:"target,omitempty"`
	Request   string         `json:"request"` // method and path, and the mutation for GraphQL
	Outcome   Outcome        `json:"outcome"`
	Error     string         `json:"error,omitempty"`
	Before    *JournalState  `json:"before"`
	After     *JournalState  `json:"after"`
	Params    map[string]any `json:"params"`
}

// Target is the entry a journal line is about.
type Target struct {
	Type plan.EntryType `json:"type"`
	Path string         `json:"path"`
	ID   int            `json:"id,omitempty"`
}

// JournalState is the state a call changes, before or after it: an
// entry's presence and policies (null: default permissions), or whether
// the allowlist is enforced.
type JournalState struct {
	OnAllowlist *bool                     `json:"on_allowlist,omitempty"`
	Policies    planfile.OptionalPolicies `json:"policies,omitzero"`
	Enforced    *bool                     `json:"enforced,omitempty"`
}

// Write appends l and syncs the file.
func (j *Journal) Write(l Line) error {
	b, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// snapshotState is the JournalState of the part of s that c changes.
func snapshotState(s State, c planfile.Call) *JournalState {
	if c.Kind == plan.CallEnforce || c.Target == nil {
		e := s.Enforced
		return &JournalState{Enforced: &e}
	}
	pol, ok := s.Entries[key(c.Target.Type, c.Target.Path)]
	js := &JournalState{OnAllowlist: &ok}
	if ok {
		js.Policies = planfile.Policies(pol)
	}
	return js
}

func now(f func() time.Time) string {
	if f == nil {
		f = time.Now
	}
	return f().UTC().Format(time.RFC3339)
}

// PlanDigest is the digest a journal records of the plan file it applies:
// sha256 of the file's bytes.
func PlanDigest(planFile []byte) string {
	sum := sha256.Sum256(planFile)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ReadJournal reads every line of a journal. A last line cut short (the
// process died while writing it) is dropped: its call is then redone or
// found "already" by the next run; any other bad line is an error.
func ReadJournal(file string) ([]Line, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	var lines []Line
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var bad error
	n := 0
	for sc.Scan() {
		n++
		if bad != nil {
			return nil, bad
		}
		if len(sc.Bytes()) == 0 {
			continue
		}
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			bad = fmt.Errorf("journal %s: line %d: %w", file, n, err)
			continue
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return lines, nil
}

// ErrJournalMismatch refuses a journal written for another plan.
var ErrJournalMismatch = errors.New("the journal is not of this plan")

// Resumed returns the calls a journal records as made (done or already)
// for Options.Resume, after checking that every line was written for the
// plan of digest planDigest.
func Resumed(lines []Line, planDigest string) (map[string]bool, error) {
	out := map[string]bool{}
	for i, l := range lines {
		if l.PlanDigest != planDigest {
			got := l.PlanDigest
			if got == "" {
				got = "none"
			}
			return nil, fmt.Errorf("%w: line %d records plan %s, the plan file is %s", ErrJournalMismatch, i+1, got, planDigest)
		}
		if l.Outcome == Done || l.Outcome == Already {
			t := ""
			if l.Target != nil {
				t = string(l.Target.Type) + " " + l.Target.Path
			}
			out[callID(l.Project, l.Kind, t, l.Request)] = true
		}
	}
	return out, nil
}

// callID names one call of a plan: its project, kind, entry and request
// line, which together are unique within a plan.
func callID(project string, kind plan.CallKind, target, request string) string {
	return strings.ToLower(project) + "\x00" + string(kind) + "\x00" + strings.ToLower(target) + "\x00" + request
}

// planCallID is callID of call c of project.
func planCallID(project string, c planfile.Call) string {
	t := ""
	if c.Target != nil {
		t = string(c.Target.Type) + " " + c.Target.Path
	}
	return callID(project, c.Kind, t, Request(c))
}
