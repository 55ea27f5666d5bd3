package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/quote"
	"github.com/tokenscope/tokenscope/internal/use"
)

// planMarkdown renders the three parts of the plan for a merge request or
// wiki page, with a Mermaid graph that GitLab renders.
func planMarkdown(w io.Writer, p *plan.Plan, h PlanHints) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "# CI_JOB_TOKEN allowlist plan\n\n")
	if !p.Trusted {
		fmt.Fprintf(ew, "> **Warning:** %s\n\n", md(untrustedBanner(h)))
	}
	if p.Unreviewed > 0 {
		fmt.Fprintf(ew, "> **Warning:** %s\n\n", md(unreviewedLine(p)))
	}
	fmt.Fprintf(ew, "%s.\n\nComputed from: %s.\n\n", upperFirst(summary(p)), md(computedFrom(p, h)))
	rows := p.Rows()
	if len(rows) > 0 {
		fmt.Fprintf(ew, "```mermaid\n")
		planMermaid(ew, rows)
		fmt.Fprintf(ew, "```\n\n")
		fmt.Fprintf(ew, "Solid arrows: on the allowlist after the plan; dotted: needs review; crossed: removed, denied or impossible for a job token.\n\n")
	}
	fmt.Fprintf(ew, "## Edges\n\n")
	if len(rows) == 0 {
		fmt.Fprintf(ew, "None: discovery found no cross-project job-token use and the trust file approves none.\n")
	} else {
		fmt.Fprintf(ew, "| caller | callee | access | policies | status | evidence |\n|---|---|---|---|---|---|\n")
		for _, r := range rows {
			caller := quote.MarkdownCode(r.Caller)
			if r.CallerType == plan.GroupEntry {
				caller = "group " + caller
			}
			var ev []string
			switch {
			case r.Entry != nil && (r.Entry.Widening != nil || r.Entry.CoveredBy != ""):
				ev = append(ev, md(rowEvidence(r)))
			case len(r.Uses) == 0:
				ev = append(ev, md(shortReason(r.Reason)))
			}
			for _, u := range r.Uses {
				ev = append(ev, quote.MarkdownCode(useSummary(u)))
			}
			fmt.Fprintf(ew, "| %s | %s | %s | %s | %s | %s |\n", caller, quote.MarkdownCode(r.Callee), kinds(r.Access), md(policiesCell(r.Policies)), statusCell(r), strings.Join(ev, "<br>"))
		}
	}
	fmt.Fprintf(ew, "\n## Steps per project\n")
	for _, pr := range p.Projects {
		markdownProject(ew, p, pr)
	}
	fmt.Fprintf(ew, "\n## Rollout checklist\n\n")
	for _, c := range checklist(p, h) {
		fmt.Fprintf(ew, "- [ ] %s\n", quote.OneLine(c))
	}
	if len(p.Unresolved) > 0 {
		fmt.Fprintf(ew, "\n## Unresolved references\n\nNot planned. Look at each one, and approve an edge in trust.yaml if it is a job-token use.\n\n| project | where | reference | reason |\n|---|---|---|---|\n")
		for _, u := range p.Unresolved {
			fmt.Fprintf(ew, "| %s | %s | %s | %s |\n", quote.MarkdownCode(use.Owner(u.Project, u.Caller)), md(place(u.File, u.Line)), quote.MarkdownCode(u.Reference), md(u.Reason))
		}
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintf(ew, "\n## Warnings\n\n")
		for _, wn := range p.Warnings {
			fmt.Fprintf(ew, "- %s\n", md(wn.Text))
		}
	}
	return ew.err
}

func markdownProject(w io.Writer, p *plan.Plan, pr plan.Project) {
	head := quote.MarkdownCode(pr.Path)
	if pr.ID != 0 {
		head += fmt.Sprintf(" (id %d)", pr.ID)
	}
	if pr.Wave != "" {
		head += ", wave " + quote.MarkdownCode(pr.Wave)
	}
	fmt.Fprintf(w, "\n### %s\n\nAllowlist: %s.\n\n", head, md(pr.EnforceNote))
	if pr.Unknown() {
		fmt.Fprintf(w, "> **%s**; no removal or update is planned, the adds may already exist.\n\n", md(upperFirst(unknownState)))
	}
	item := func(verb string, e plan.Entry) {
		fmt.Fprintf(w, "- **%s** %s %s: %s", verb, e.Type, quote.MarkdownCode(e.Path), md(entryReason(e)))
		if e.Role != "" && verb != "remove" && verb != "unapproved" {
			fmt.Fprintf(w, ". Triggering users need at least %s on %s", e.Role, quote.MarkdownCode(pr.Path))
		}
		if wd := e.Widening; wd != nil && len(wd.Extra) > 0 && verb != "remove" {
			fmt.Fprintf(w, ". Lets in %d project(s) with no discovered use: %s", len(wd.Extra), md(strings.Join(wd.Extra, ", ")))
		}
		fmt.Fprintln(w)
	}
	for _, l := range []struct {
		verb string
		es   []plan.Entry
	}{{"add", pr.Add}, {"add via group", pr.ViaGroup}, {"update", pr.Update}, {"remove", pr.Remove}, {"unapproved", pr.Unapproved}} {
		for _, e := range l.es {
			item(l.verb, e)
		}
	}
	for _, l := range []struct {
		verb string
		rs   []plan.Review
	}{{"needs review", pr.NeedsReview}, {"denied", pr.Denied}} {
		for _, r := range l.rs {
			fmt.Fprintf(w, "- **%s** %s (%s): %s\n", l.verb, quote.MarkdownCode(r.Caller), accessText(r.Access), md(r.Reason))
		}
	}
	for _, a := range pr.Advice {
		fmt.Fprintf(w, "- **advice** for %s (%s): %s\n", quote.MarkdownCode(a.Caller), accessText(a.Access), md(a.Text))
	}
	if ui := uiSteps(pr, p.Capabilities); len(ui) > 0 {
		fmt.Fprintf(w, "\nIn the UI (GitLab %s):\n\n", versionName(p))
		for _, s := range ui {
			fmt.Fprintf(w, "%s\n", quote.OneLine(s))
		}
	}
	// Before the allowlist (15.9) no call can work: the checklist says what to upgrade.
	if calls := pr.Calls(p.Capabilities); len(calls) > 0 && p.Capabilities.Allowlist {
		fmt.Fprintf(w, "\nWith the API (token from `$GITLAB_TOKEN`):\n\n```sh\n")
		if p.ServerURL != "" {
			fmt.Fprintf(w, "GITLAB_URL=%s\n", shellQuote(quote.OneLine(p.ServerURL)))
		}
		for _, c := range calls {
			// Each line on its own line: nothing from a name can close the
			// fence or start a command (curl quotes and keeps it on one).
			fmt.Fprintf(w, "# %s\n%s\n", quote.OneLine(callComment(c, p.Capabilities)), curl(c))
		}
		fmt.Fprintf(w, "```\n")
	}
}

// planMermaid draws callers and callees, one arrow per row: solid for
// entries that stay, dotted for review, crossed for what goes or cannot be;
// a big plan per top-level group (mermaidFlowchart).
func planMermaid(w io.Writer, rows []plan.Row) {
	edges := make([]mermaidEdge, len(rows))
	for i, r := range rows {
		arrow, rank := "-->", 0
		switch r.Status {
		case plan.StatusReview:
			arrow, rank = "-.->", 1
		case plan.StatusRemove, plan.StatusDenied, plan.StatusNever:
			arrow, rank = "--x", 2
		}
		edges[i] = mermaidEdge{From: r.Caller, FromGroup: r.CallerType == plan.GroupEntry, To: r.Callee, Arrow: arrow, Rank: rank,
			Label: statusCell(r) + ": " + kinds(r.Access)}
	}
	mermaidFlowchart(w, edges)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
