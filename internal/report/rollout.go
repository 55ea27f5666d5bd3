package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tokenscope/tokenscope/internal/rollout"
)

// RolloutFormats lists the formats of `tokenscope rollout status`.
var RolloutFormats = []string{FormatTable, FormatJSON, FormatMarkdown}

// RolloutFormatVersion is the version of the rollout status JSON document
// (docs/design.md §8c).
const RolloutFormatVersion = 1

// Rollout renders a rollout status in format.
func Rollout(w io.Writer, s *rollout.Status, format string) error {
	switch format {
	case FormatTable, "":
		return rolloutTable(w, s)
	case FormatJSON:
		return writeJSON(w, rolloutDocument(s))
	case FormatMarkdown:
		return rolloutMarkdown(w, s)
	default:
		return fmt.Errorf("unknown format %q (valid: %s)", format, strings.Join(RolloutFormats, ", "))
	}
}

// rolloutAction says what to do about a refused caller of that status.
func rolloutAction(st rollout.CallerStatus) string {
	switch st {
	case rollout.Approved:
		return "apply the plan first"
	case rollout.Unapproved:
		return "review; do not widen the allowlist"
	case rollout.Denied:
		return "intended (deny rule): make the caller stop"
	case rollout.Never:
		return "a job token cannot do this: use another credential"
	case rollout.Archived:
		return "its jobs no longer run"
	}
	return ""
}

// verdictText is a wave's verdict in words.
func verdictText(w rollout.Wave) string {
	if w.Verdict == rollout.Safe {
		if w.Enforced == len(w.Projects) {
			return "enforced, nothing refused"
		}
		return "safe to enforce"
	}
	n := len(w.Blocked)
	word := "callers"
	if n == 1 {
		word = "caller"
	}
	if w.Enforced == len(w.Projects) {
		return fmt.Sprintf("enforced, refusing %d %s in use", n, word)
	}
	return fmt.Sprintf("blocked by %d %s", n, word)
}

// reasonText says why a check is refused or allowed.
func reasonText(d rollout.Decision) string {
	switch d.Reason {
	case rollout.NotEnforced:
		return "allowlist not enforced"
	case rollout.OpenVisibility:
		return "open to every project (public or internal)"
	case rollout.Allowlisted:
		return "admitted by the entry " + d.Entry
	case rollout.NotAllowlisted:
		return "not on the allowlist"
	case rollout.PolicyMissing:
		if d.Policy == "" {
			return "the entry " + d.Entry + " has fine-grained policies and the endpoint has none: needs default permissions"
		}
		return "the entry " + d.Entry + " lacks the policy " + d.Policy
	case rollout.NeverAllowed:
		return "a job token can never do this across projects"
	}
	return string(d.Reason)
}

// rolloutBasis says what the prediction is of.
func rolloutBasis(s *rollout.Status) string {
	b := "the current allowlists"
	if s.Planned {
		b = "the allowlists of the plan"
		if s.PlanFile != "" {
			b += " " + s.PlanFile
		}
		b += " once applied"
	}
	return b
}

func instanceText(s *rollout.Status) string {
	switch {
	case s.Instance == nil:
		return "unknown"
	case *s.Instance:
		return "on"
	}
	return "off"
}

func waveTitle(s *rollout.Status, w rollout.Wave) string {
	if w.OrgWide {
		return "wave " + w.Name + " (the instance setting \"Enable and enforce job token allowlist for all projects\", now " + instanceText(s) + ")"
	}
	t := "wave " + w.Name
	if w.Line > 0 && s.TrustFile != "" {
		t += fmt.Sprintf(" (%s:%d)", s.TrustFile, w.Line)
	}
	return t
}

// checkText is one use with its evidence, for people.
func checkText(c rollout.Check) string {
	u := c.Use
	kind := string(u.Access)
	if kind == "" {
		kind = "access unknown"
	}
	t := kind + " [" + string(u.Origin) + "]"
	if p := usePlace(u); p != "" {
		t += " " + p
	}
	if u.Evidence.Detail != "" {
		t += ": " + printable(u.Evidence.Detail)
	}
	return t
}

func sinceText(s *rollout.Status) string {
	if s.Since.IsZero() {
		return ""
	}
	return s.Since.UTC().Format(time.RFC3339)
}

func refusedChecks(c rollout.Caller) []rollout.Check {
	var out []rollout.Check
	for _, ch := range c.Checks {
		if ch.Decision.Outcome == rollout.Refused {
			out = append(out, ch)
		}
	}
	return out
}
