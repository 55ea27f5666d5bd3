package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/gitlab/sim"
)

const progressPlan = `{"version": 1, "warnings": [], "trusted": false, "pruned": false, "state_digest": "", "waves": [], "unresolved": [],
 "projects": [
  {"project": "libs/jslib", "id": 201, "enforce": true, "enforced": false,
   "add": [{"type": "project", "path": "apps/web", "access": [], "policies": null, "reason": "test"}],
   "update": [], "remove": [], "keep": [], "needs_review": [], "stale": [], "denied": [], "unapproved": [], "never": [], "advice": [],
   "calls": [{"kind": "add-project", "method": "POST", "path": "api/v4/projects/201/job_token_scope/allowlist", "params": {"target_project_id": 301},
              "target": {"type": "project", "path": "apps/web", "id": 301}, "done": ["already in the job token allowlist"]},
             {"kind": "enforce", "method": "PATCH", "path": "api/v4/projects/201/job_token_scope", "params": {"enabled": true}, "done": []}]}
 ]}`

// Progress is drawn on stderr only when it is a terminal, and cleared
// before each step line and at the end; a rollback draws it too.
func TestApplyProgressOnlyOnATerminal(t *testing.T) {
	for _, tty := range []bool{false, true} {
		off := false
		s, err := sim.Load(filepath.Join("..", "..", "examples", "acme"), sim.Options{InstanceEnforcesAllowlist: &off})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s)
		dir := t.TempDir()
		planFile := filepath.Join(dir, "plan.json")
		if err := os.WriteFile(planFile, []byte(progressPlan), 0o600); err != nil {
			t.Fatal(err)
		}
		ios := testIO(map[string]string{"GITLAB_URL": srv.URL, "GITLAB_TOKEN": "tok-progress-0123456789"})
		ios.ErrTTY = tty
		opts := &applyOptions{io: ios, ctx: context.Background(), Plan: planFile, Yes: true}
		opts.live.Concurrency, opts.live.Timeout = 1, time.Minute
		if err := applyRun(opts); err != nil {
			t.Fatal(err)
		}
		rb := &applyOptions{io: ios, ctx: context.Background(), Rollback: filepath.Join(dir, "plan.journal.jsonl"), Yes: true}
		rb.live = opts.live
		if err := applyRun(rb); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		errText := ios.Err.(*bytes.Buffer).String()
		if !tty {
			if errText != "" {
				t.Errorf("not a terminal: stderr %q", errText)
			}
			continue
		}
		for _, want := range []string{"\r\033[Kapplying [===============               ] 1/2", "\r\033[Kapplying [==============================] 2/2", "\r\033[Krolling back [", "] 2/2"} {
			if !strings.Contains(errText, want) {
				t.Errorf("stderr %q lacks %q", errText, want)
			}
		}
		if !strings.HasSuffix(errText, "\r\033[K") {
			t.Errorf("progress not cleared at the end: %q", errText)
		}
	}
}
