package report

import (
	"fmt"
	"io"
	"time"

	"github.com/tokenscope/tokenscope/internal/rollout"
)

// rolloutMarkdown is the rollout status for a merge request or an issue:
// a summary table of the waves, then per wave the callers enforcement
// refuses, with evidence.
func rolloutMarkdown(out io.Writer, s *rollout.Status) error {
	w := &errWriter{w: out}
	fmt.Fprintf(w, "# Rollout status\n\nPredicted for %s; GitLab %s, fine-grained policies %s, instance enforcement %s.\n",
		md(rolloutBasis(s)), versionText(s), map[bool]string{true: "checked", false: "not checked"}[s.PoliciesHonoured], instanceText(s))
	if t := sinceText(s); t != "" {
		fmt.Fprintf(w, "\nAuthentication-log rows last seen before %s are listed but not counted.\n", t)
	}
	fmt.Fprintf(w, "\n| wave | projects | enforced | verdict |\n|---|---|---|---|\n")
	for _, wv := range s.Waves {
		fmt.Fprintf(w, "| `%s` | %d | %d | %s |\n", wv.Name, len(wv.Projects), wv.Enforced, md(verdictText(wv)))
	}
	for _, wv := range s.Waves {
		fmt.Fprintf(w, "\n## %s\n\n%s.\n", md(waveTitle(s, wv)), upperFirst(verdictText(wv)))
		if len(wv.Blocked) > 0 {
			fmt.Fprintf(w, "\n| callee | caller | status | what to do | evidence |\n|---|---|---|---|---|\n")
			for _, p := range wv.Projects {
				for _, c := range p.Callers {
					if c.Outcome != rollout.Refused {
						continue
					}
					for _, ch := range refusedChecks(c) {
						fmt.Fprintf(w, "| `%s` | `%s` | %s | %s | %s (%s) |\n", p.Path, c.Caller, c.Status, md(rolloutAction(c.Status)),
							md(checkText(ch)), md(reasonText(ch.Decision)))
					}
				}
			}
		}
		var rows []string
		for _, p := range wv.Projects {
			for _, o := range p.AuthLog {
				note := ""
				if !o.InWindow {
					note = " (before the window)"
				}
				rows = append(rows, fmt.Sprintf("| `%s` | `%s` | %s%s |", p.Path, o.Caller, o.LastSeen.UTC().Format(time.RFC3339), note))
			}
		}
		if len(rows) > 0 {
			fmt.Fprintf(w, "\nAuthentication log:\n\n| callee | origin | last seen |\n|---|---|---|\n")
			for _, r := range rows {
				fmt.Fprintln(w, r)
			}
		}
	}
	return w.err
}
