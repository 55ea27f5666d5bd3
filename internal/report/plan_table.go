package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tokenscope/tokenscope/internal/plan"
)

// planTable is the default output: (a) the edge table, (b) per callee the
// UI and API steps, (c) the rollout checklist, then warnings.
func planTable(w io.Writer, p *plan.Plan, h PlanHints) error {
	ew := &errWriter{w: w}
	banner := func() {
		if !p.Trusted {
			fmt.Fprintf(ew, "!!! %s\n\n", oneLine(untrustedBanner(h)))
		}
	}
	banner()
	fmt.Fprintf(ew, "tokenscope plan: %s\n", oneLine(summary(p)))
	if p.Unreviewed > 0 {
		fmt.Fprintf(ew, "!!! %s\n", oneLine(unreviewedLine(p)))
	}
	fmt.Fprintf(ew, "computed from: %s\n\n", oneLine(computedFrom(p, h)))

	fmt.Fprintf(ew, "EDGES (caller → callee)\n")
	rows := p.Rows()
	if len(rows) == 0 {
		fmt.Fprintf(ew, "  none: discovery found no cross-project job-token use and the trust file approves none\n")
	} else {
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CALLER\tCALLEE\tACCESS\tPOLICIES\tSTATUS\tEVIDENCE")
		for _, r := range rows {
			caller := r.Caller
			if r.CallerType == plan.GroupEntry {
				caller = "group " + caller
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", oneLine(caller), oneLine(r.Callee), kinds(r.Access), oneLine(policiesCell(r.Policies)), statusCell(r), oneLine(rowEvidence(r)))
		}
		tw.Flush()
	}

	fmt.Fprintf(ew, "\nSTEPS PER PROJECT\n")
	for _, pr := range p.Projects {
		tableProject(ew, p, pr)
	}

	fmt.Fprintf(ew, "\nROLLOUT CHECKLIST\n")
	for i, c := range checklist(p, h) {
		fmt.Fprintf(ew, "%2d. %s\n", i+1, oneLine(strings.ReplaceAll(c, "`", "")))
	}
	if len(p.Unresolved) > 0 {
		fmt.Fprintf(ew, "\nUNRESOLVED REFERENCES (not planned; look at each, and approve an edge in trust.yaml if it is a job-token use)\n")
		for _, u := range p.Unresolved {
			fmt.Fprintf(ew, "  %s %s: %s (%s)\n", oneLine(u.Project), oneLine(place(u.File, u.Line)), oneLine(u.Reference), oneLine(u.Reason))
		}
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintf(ew, "\nWARNINGS\n")
		for _, wn := range p.Warnings {
			fmt.Fprintf(ew, "  - %s\n", oneLine(wn.Text))
		}
	}
	if !p.Trusted {
		fmt.Fprintln(ew)
		banner()
	}
	return ew.err
}

// statusCell shows stale rows with the action they still get.
func statusCell(r plan.Row) string {
	if r.Status == plan.StatusStale && r.Action != "" {
		return "stale (" + r.Action + ")"
	}
	return string(r.Status)
}

func tableProject(w io.Writer, p *plan.Plan, pr plan.Project) {
	head := pr.Path
	if pr.ID != 0 {
		head += fmt.Sprintf(" (id %d)", pr.ID)
	}
	if pr.Wave != "" {
		head += ", wave " + pr.Wave
	}
	fmt.Fprintf(w, "\n== %s\n", oneLine(head))
	fmt.Fprintf(w, "   allowlist: %s\n", oneLine(pr.EnforceNote))
	if pr.Unknown() {
		fmt.Fprintf(w, "   %s; no removal or update is planned, the adds may already exist\n", unknownState)
	}
	show := func(verb string, es []plan.Entry) {
		for _, e := range es {
			fmt.Fprintf(w, "   %s %s %s: %s\n", verb, e.Type, oneLine(e.Path), oneLine(entryReason(e)))
			if e.Role != "" && verb != "remove" {
				fmt.Fprintf(w, "      the users who trigger its jobs need at least %s on %s\n", e.Role, oneLine(pr.Path))
			}
			if wd := e.Widening; wd != nil && len(wd.Extra) > 0 && verb != "remove" {
				fmt.Fprintf(w, "      lets in %d project(s) with no discovered use: %s\n", len(wd.Extra), oneLine(strings.Join(wd.Extra, ", ")))
			}
		}
	}
	show("add", pr.Add)
	show("update", pr.Update)
	show("remove", pr.Remove)
	for _, r := range pr.NeedsReview {
		fmt.Fprintf(w, "   review %s (%s): %s\n", oneLine(r.Caller), accessText(r.Access), oneLine(r.Reason))
		for _, u := range r.Uses {
			fmt.Fprintf(w, "      %s\n", oneLine(useSummary(u)))
		}
	}
	for _, r := range pr.Denied {
		fmt.Fprintf(w, "   denied %s (%s): %s\n", oneLine(r.Caller), accessText(r.Access), oneLine(r.Reason))
	}
	for _, e := range pr.Unapproved {
		fmt.Fprintf(w, "   unapproved %s %s: %s\n", e.Type, oneLine(e.Path), oneLine(e.Reason))
	}
	for _, a := range pr.Advice {
		fmt.Fprintf(w, "   advice for %s (%s): %s\n", oneLine(a.Caller), accessText(a.Access), oneLine(a.Text))
	}
	if ui := uiSteps(pr, p.Capabilities); len(ui) > 0 {
		fmt.Fprintf(w, "   UI (GitLab %s):\n", versionName(p))
		for _, s := range ui {
			fmt.Fprintf(w, "     %s\n", oneLine(strings.ReplaceAll(strings.ReplaceAll(s, "**", "\""), "`", "")))
		}
	}
	if calls := pr.Calls(p.Capabilities); len(calls) > 0 {
		fmt.Fprintf(w, "   API (token from $GITLAB_TOKEN, server from $GITLAB_URL%s):\n", oneLine(serverHint(p)))
		for _, c := range calls {
			fmt.Fprintf(w, "     # %s\n", oneLine(callComment(c, p.Capabilities)))
			// curl breaks its command over lines itself; a line break
			// from a name (inside its quotes) is shown escaped, so what is
			// pasted stays one command.
			for _, l := range strings.Split(curl(c), "\n") {
				fmt.Fprintf(w, "     %s\n", oneLine(l))
			}
		}
	}
}

func versionName(p *plan.Plan) string {
	if p.Capabilities.Known {
		return p.Capabilities.Version.String()
	}
	return "newest"
}

func serverHint(p *plan.Plan) string {
	if p.ServerURL == "" {
		return ""
	}
	return ", e.g. " + p.ServerURL
}
