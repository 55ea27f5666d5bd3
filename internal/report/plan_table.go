package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/use"
)

// planTable is the default output: (a) the edge table, (b) per callee the
// UI and API steps, (c) the rollout checklist, then warnings.
func planTable(w io.Writer, p *plan.Plan, h PlanHints) error {
	ew := &errWriter{w: w}
	banner := func() {
		if !p.Trusted {
			fmt.Fprintf(ew, "!!! %s\n\n", untrustedBanner(h))
		}
	}
	banner()
	fmt.Fprintf(ew, "tokenscope plan: %s\n", summary(p))
	if p.Unreviewed > 0 {
		fmt.Fprintf(ew, "!!! %s\n", unreviewedLine(p))
	}
	fmt.Fprintf(ew, "computed from: %s\n\n", computedFrom(p, h))

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
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", caller, r.Callee, kinds(r.Access), policiesCell(r.Policies), statusCell(r), rowEvidence(r))
		}
		tw.Flush()
	}

	if p.Capabilities.Allowlist {
		fmt.Fprintf(ew, "\nSTEPS PER PROJECT\n")
	} else {
		// Nothing below can be done on this version (the checklist says
		// what to upgrade to); it is what the allowlists should hold after.
		fmt.Fprintf(ew, "\nTARGET PER PROJECT (after the upgrade: GitLab %s has no inbound allowlist to set)\n", p.Capabilities.Version)
	}
	for _, pr := range p.Projects {
		tableProject(ew, p, pr)
	}

	fmt.Fprintf(ew, "\nROLLOUT CHECKLIST\n")
	for i, c := range checklist(p, h) {
		fmt.Fprintf(ew, "%2d. %s\n", i+1, strings.ReplaceAll(c, "`", ""))
	}
	if len(p.Unresolved) > 0 {
		fmt.Fprintf(ew, "\nUNRESOLVED REFERENCES (not planned; look at each, and approve an edge in trust.yaml if it is a job-token use)\n")
		for _, u := range p.Unresolved {
			fmt.Fprintf(ew, "  %s %s: %s (%s)\n", use.Owner(u.Project, u.Caller), place(u.File, u.Line), u.Reference, u.Reason)
		}
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintf(ew, "\nWARNINGS\n")
		for _, wn := range p.Warnings {
			fmt.Fprintf(ew, "  - %s\n", wn.Text)
		}
	}
	if !p.Trusted {
		fmt.Fprintln(ew)
		banner()
	}
	return ew.err
}

// statusCell shows stale rows with the action they still get, and a
// caller a planned group entry admits as "add via group" (the group
// entry's row is the add).
func statusCell(r plan.Row) string {
	via := r.Entry != nil && r.Entry.CoverPlanned
	switch {
	case r.Status == plan.StatusViaGroup:
		return "add via group"
	case r.Status == plan.StatusStale && via:
		return "stale (add via group)"
	case r.Status == plan.StatusStale && r.Action != "":
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
	fmt.Fprintf(w, "\n== %s\n", head)
	fmt.Fprintf(w, "   allowlist: %s\n", pr.EnforceNote)
	if pr.Unknown() {
		fmt.Fprintf(w, "   %s; no removal or update is planned, the adds may already exist\n", unknownState)
	}
	show := func(verb string, es []plan.Entry) {
		for _, e := range es {
			fmt.Fprintf(w, "   %s %s %s: %s\n", verb, e.Type, e.Path, entryReason(e))
			if e.Role != "" && verb != "remove" {
				fmt.Fprintf(w, "      the users who trigger its jobs need at least %s on %s\n", e.Role, pr.Path)
			}
			if wd := e.Widening; wd != nil && len(wd.Extra) > 0 && verb != "remove" {
				fmt.Fprintf(w, "      lets in %d project(s) with no discovered use: %s\n", len(wd.Extra), strings.Join(wd.Extra, ", "))
			}
		}
	}
	show("add", pr.Add)
	show("add via group", pr.ViaGroup)
	show("update", pr.Update)
	show("remove", pr.Remove)
	for _, r := range pr.NeedsReview {
		fmt.Fprintf(w, "   review %s (%s): %s\n", r.Caller, accessText(r.Access), r.Reason)
		for _, u := range r.Uses {
			fmt.Fprintf(w, "      %s\n", useSummary(u))
		}
	}
	for _, r := range pr.Denied {
		fmt.Fprintf(w, "   denied %s (%s): %s\n", r.Caller, accessText(r.Access), r.Reason)
	}
	for _, e := range pr.Unapproved {
		fmt.Fprintf(w, "   unapproved %s %s: %s\n", e.Type, e.Path, e.Reason)
	}
	for _, a := range pr.Advice {
		fmt.Fprintf(w, "   advice for %s (%s): %s\n", a.Caller, accessText(a.Access), a.Text)
	}
	if ui := uiSteps(pr, p.Capabilities); len(ui) > 0 {
		fmt.Fprintf(w, "   UI (GitLab %s):\n", versionName(p))
		for _, s := range ui {
			fmt.Fprintf(w, "     %s\n", strings.ReplaceAll(strings.ReplaceAll(s, "**", "\""), "`", ""))
		}
	}
	// Before the allowlist (15.9) no call can work: the checklist says what to upgrade.
	if calls := pr.Calls(p.Capabilities); len(calls) > 0 && p.Capabilities.Allowlist {
		fmt.Fprintf(w, "   API (token from $GITLAB_TOKEN, server from $GITLAB_URL%s):\n", serverHint(p))
		for _, c := range calls {
			fmt.Fprintf(w, "     # %s\n", callComment(c, p.Capabilities))
			for _, l := range strings.Split(curl(c), "\n") {
				fmt.Fprintf(w, "     %s\n", l)
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
