package report

import (
	"fmt"
	"io"
	"time"

	"github.com/tokenscope/tokenscope/internal/rollout"
)

// rolloutTable is the rollout status for a terminal: per wave the verdict,
// per project its state and the callers enforcement refuses, with evidence.
func rolloutTable(out io.Writer, s *rollout.Status) error {
	w := &errWriter{w: out}
	fmt.Fprintf(w, "Rollout status: predicted for %s.\n", rolloutBasis(s))
	pol := "fine-grained policies checked"
	if !s.PoliciesHonoured {
		pol = "fine-grained policies not checked (entries act with default permissions)"
	}
	fmt.Fprintf(w, "GitLab %s: %s; instance enforcement %s.\n", versionText(s), pol, instanceText(s))
	if t := sinceText(s); t != "" {
		fmt.Fprintf(w, "Authentication log: rows last seen before %s are listed but not counted.\n", t)
	}
	for _, wv := range s.Waves {
		fmt.Fprintf(w, "\n%s: %s\n", printable(waveTitle(s, wv)), verdictText(wv))
		fmt.Fprintf(w, "  %d of %d project(s) enforced today\n", wv.Enforced, len(wv.Projects))
		for _, p := range wv.Projects {
			tableRolloutProject(w, s, wv, p)
		}
	}
	blocked := 0
	for _, wv := range s.Waves {
		if wv.Verdict == rollout.Blocked {
			blocked++
		}
	}
	fmt.Fprintf(w, "\n%d of %d wave(s) would refuse callers in use.\n", blocked, len(s.Waves))
	return w.err
}

func tableRolloutProject(w io.Writer, s *rollout.Status, wv rollout.Wave, p rollout.Project) {
	refused, allowed := 0, 0
	for _, c := range p.Callers {
		if c.Outcome == rollout.Refused {
			refused++
		} else {
			allowed++
		}
	}
	quiet := refused == 0 && len(p.AuthLog) == 0
	if quiet && len(wv.Projects) > 20 {
		// Big waves list the projects with something to say; the JSON
		// holds every one.
		return
	}
	fmt.Fprintf(w, "  %s (%s): %s; %s\n", printable(p.Path), printable(p.Visibility), enforcementText(p), entriesText(s, p))
	if p.Unknown {
		fmt.Fprintf(w, "    current allowlist unknown: the token cannot read it (needs Maintainer); the prediction assumes it empty\n")
	}
	for _, o := range p.AuthLog {
		note := ""
		if !o.InWindow {
			note = " (before the window: not counted)"
		}
		fmt.Fprintf(w, "    auth log: %s last seen %s%s\n", printable(o.Caller), o.LastSeen.UTC().Format(time.RFC3339), note)
	}
	for _, c := range p.Callers {
		if c.Outcome != rollout.Refused {
			continue
		}
		st := string(c.Status)
		if c.Line > 0 && s.TrustFile != "" {
			st += fmt.Sprintf(" (%s:%d)", s.TrustFile, c.Line)
		}
		fmt.Fprintf(w, "    refused %s: %s: %s\n", printable(c.Caller), st, rolloutAction(c.Status))
		for _, ch := range refusedChecks(c) {
			fmt.Fprintf(w, "      %s (%s)\n", checkText(ch), reasonText(ch.Decision))
		}
	}
	if allowed > 0 {
		fmt.Fprintf(w, "    %d caller(s) pass\n", allowed)
	}
}

func enforcementText(p rollout.Project) string {
	switch {
	case p.Enforced:
		return "enforced"
	case p.Enforce:
		return "not enforced; the wave enforces it"
	case p.Open != nil:
		return fmt.Sprintf("stays open (exception at line %d)", p.Open.Line)
	}
	return "not enforced; the plan does not enforce it"
}

func entriesText(s *rollout.Status, p rollout.Project) string {
	t := fmt.Sprintf("%d entr%s", p.Entries, plural(p.Entries, "y", "ies"))
	if s.Planned && p.PlannedEntries != p.Entries {
		t += fmt.Sprintf(" (%d after the plan)", p.PlannedEntries)
	}
	return t + fmt.Sprintf(", %d approved", p.Approved)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func versionText(s *rollout.Status) string {
	if !s.Capabilities.Known {
		return "version unknown (the newest known)"
	}
	return s.Capabilities.Version.String()
}
