package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/quote"
	"github.com/tokenscope/tokenscope/internal/use"
)

// planTable is the default output, read top to bottom in the order a
// reviewer needs it: (a) the summary, (b) the edge table, (c) the steps
// per callee in wave order (the order they are applied), one line per
// action, (d) the rollout checklist, then unresolved references and
// warnings. Prose wraps at 100 columns (h.Width); the UI clicks and API calls
// of every step are printed with h.FullSteps (the script has them too).
func planTable(w io.Writer, p *plan.Plan, h PlanHints) error {
	ew := &errWriter{w: w}
	st := newStyle(h)
	para := func(text, first, rest string) {
		for _, l := range wrap(text, first, rest, st.width) {
			fmt.Fprintln(ew, l)
		}
	}
	// headed is para with its first words painted as a header, wrapped as
	// plain text so escape codes never count as width.
	headed := func(head, text, rest string) {
		ls := wrap(head+" "+text, "", rest, st.width)
		ls[0] = st.head(head) + strings.TrimPrefix(ls[0], head)
		for _, l := range ls {
			fmt.Fprintln(ew, l)
		}
	}
	banner := func() {
		if !p.Trusted {
			for _, l := range wrap(untrustedBanner(h), "!!! ", "    ", st.width) {
				fmt.Fprintln(ew, st.alarm(l))
			}
			fmt.Fprintln(ew)
		}
	}
	banner()
	headed("tokenscope plan:", summary(p), "  ")
	if p.Unreviewed > 0 {
		para(unreviewedLine(p), "!!! ", "    ")
	}
	para(computedFrom(p, h), "computed from: ", "  ")
	fmt.Fprintln(ew)

	fmt.Fprintf(ew, "%s\n", st.head("EDGES (caller → callee)"))
	rows := p.Rows()
	if len(rows) == 0 {
		fmt.Fprintf(ew, "  none: discovery found no cross-project job-token use and the trust file approves none\n")
	} else {
		edgeTable(ew, rows, st)
	}

	// Nothing below can be done before the allowlist exists (the checklist
	// says what to upgrade to); it is what the allowlists should hold after.
	head := "STEPS BY WAVE, in the order to apply them"
	if !p.Capabilities.Allowlist {
		head = fmt.Sprintf("TARGET BY WAVE (after the upgrade: GitLab %s has no inbound allowlist to set)", p.Capabilities.Version)
	}
	fmt.Fprintf(ew, "\n%s\n", st.head(head))
	if !h.FullSteps && p.Capabilities.Allowlist {
		para(fmt.Sprintf("One line per action; the UI clicks and API calls of each: %s full (or %s script).", h.Steps, h.Format), "", "")
	}
	for _, wv := range projectsByWave(p) {
		name := fmt.Sprintf("WAVE %q", wv.name)
		if wv.name == "" {
			name = "NO WAVE"
		}
		fmt.Fprintln(ew)
		headed(name+":", strings.Join(wv.paths, ", "), "    ")
		for _, pr := range wv.projects {
			tableProject(ew, p, pr, h, st)
		}
	}

	fmt.Fprintf(ew, "\n%s\n", st.head("ROLLOUT CHECKLIST"))
	for i, c := range checklist(p, h) {
		if !h.FullSteps {
			// The table's steps are one line each: the calls are in --steps full.
			c = strings.ReplaceAll(c, "the API steps above", "the API steps of `"+h.Steps+" full`")
			c = strings.ReplaceAll(c, "the steps above", "the steps of `"+h.Steps+" full`")
		}
		// Wrapped with its backticks, so that no command is broken, then
		// printed without them (a terminal has no code spans).
		for _, l := range wrap(c, fmt.Sprintf("%2d. ", i+1), "    ", st.width) {
			fmt.Fprintln(ew, strings.ReplaceAll(l, "`", ""))
		}
	}
	if len(p.Unresolved) > 0 {
		fmt.Fprintln(ew)
		para("UNRESOLVED REFERENCES (not planned; look at each, and approve an edge in trust.yaml if it is a job-token use)", "", "")
		for _, u := range p.Unresolved {
			para(fmt.Sprintf("%s %s: %s (%s)", use.Owner(u.Project, u.Caller), place(u.File, u.Line), u.Reference, u.Reason), "  ", "      ")
		}
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintf(ew, "\n%s\n", st.head("WARNINGS"))
		for _, wn := range p.Warnings {
			para(wn.Text, "  - ", "    ")
		}
	}
	if !p.Trusted {
		fmt.Fprintln(ew)
		banner()
	}
	return ew.err
}

// edgeTable prints one row per edge: caller, callee, status and access on
// the first line, its policies and evidence on the next (indented), so the
// table fits 100 columns with the org's longest names instead of running
// to 200.
func edgeTable(w io.Writer, rows []plan.Row, st style) {
	cells := [][]string{{"CALLER", "CALLEE", "STATUS", "ACCESS"}}
	for _, r := range rows {
		caller := r.Caller
		if r.CallerType == plan.GroupEntry {
			caller = "group " + caller
		}
		cells = append(cells, []string{caller, r.Callee, statusCell(r), kinds(r.Access)})
	}
	lines := columns(cells, 2, st.status)
	fmt.Fprintln(w, st.head(lines[0]))
	for i, r := range rows {
		for _, l := range accessLines(lines[i+1], cells[i+1][3], st.width) {
			fmt.Fprintln(w, l)
		}
		pol := policiesCell(r.Policies)
		if r.Policies == nil {
			pol = "default permissions"
		}
		for _, l := range wrap("policies "+pol+"; evidence "+rowEvidence(r), "    ", "      ", st.width) {
			fmt.Fprintln(w, l)
		}
	}
}

// accessLines keeps an edge row within the width: access kinds that do
// not fit after the first three columns (read and write of one family
// together, say) continue on the next lines under ACCESS, broken after a
// comma. The access cell is the row's last, unpadded one.
func accessLines(line, access string, w int) []string {
	if w <= 0 || width(line) <= w || !strings.HasSuffix(line, access) {
		return []string{line}
	}
	prefix := strings.TrimSuffix(line, access)
	room := w - width(prefix)
	var out []string
	cur := ""
	for _, k := range strings.SplitAfter(access, ",") {
		if cur != "" && width(cur+k) > room {
			out = append(out, cur)
			cur = ""
		}
		cur += k
	}
	out = append(out, cur)
	out[0] = prefix + out[0]
	pad := strings.Repeat(" ", width(prefix))
	for i := 1; i < len(out); i++ {
		out[i] = pad + out[i]
	}
	return out
}

type waveProjects struct {
	name     string
	paths    []string
	projects []plan.Project
}

// projectsByWave groups the plan's callees by wave, in the waves' order
// (the order of the rollout), each wave's callees in path order; callees
// in no wave come last.
func projectsByWave(p *plan.Plan) []waveProjects {
	var out []waveProjects
	at := map[string]int{}
	for _, w := range p.Waves {
		if _, dup := at[w.Name]; !dup {
			at[w.Name] = len(out)
			out = append(out, waveProjects{name: w.Name})
		}
	}
	var none waveProjects
	for _, pr := range p.Projects {
		i, ok := at[pr.Wave]
		if !ok || pr.Wave == "" {
			none.paths = append(none.paths, pr.Path)
			none.projects = append(none.projects, pr)
			continue
		}
		out[i].paths = append(out[i].paths, pr.Path)
		out[i].projects = append(out[i].projects, pr)
	}
	out = slices.DeleteFunc(out, func(w waveProjects) bool { return len(w.projects) == 0 })
	if len(none.projects) > 0 {
		out = append(out, none)
	}
	return out
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

// tableProject prints one callee's steps, one line per action (prose
// wrapped with a hanging indent); with h.FullSteps, then its UI clicks and
// API calls.
func tableProject(w io.Writer, p *plan.Plan, pr plan.Project, h PlanHints, st style) {
	line := func(text, first, rest string) {
		for _, l := range wrap(text, first, rest, st.width) {
			fmt.Fprintln(w, l)
		}
	}
	// action is one action line: the verb painted, the rest wrapped.
	action := func(verb, text string) {
		ls := wrap(verb+" "+text, "   ", "       ", st.width)
		ls[0] = "   " + st.status(verb) + strings.TrimPrefix(ls[0], "   "+verb)
		for _, l := range ls {
			fmt.Fprintln(w, l)
		}
	}
	head := pr.Path
	if pr.ID != 0 {
		head += fmt.Sprintf(" (id %d)", pr.ID)
	}
	if pr.Wave != "" {
		head += ", wave " + pr.Wave
	}
	fmt.Fprintf(w, "== %s\n", st.head(quote.OneLine(head)))
	line(pr.EnforceNote, "   allowlist: ", "       ")
	if pr.Unknown() {
		line(unknownState+"; no removal or update is planned, the adds may already exist", "   ", "       ")
	}
	show := func(verb string, es []plan.Entry) {
		for _, e := range es {
			action(verb, fmt.Sprintf("%s %s: %s", e.Type, e.Path, entryReason(e)))
			if e.Role != "" && verb != "remove" {
				line(fmt.Sprintf("the users who trigger its jobs need at least %s on %s", e.Role, pr.Path), "       ", "         ")
			}
			if wd := e.Widening; wd != nil && len(wd.Extra) > 0 && verb != "remove" {
				line(fmt.Sprintf("lets in %d project(s) with no discovered use: %s", len(wd.Extra), strings.Join(wd.Extra, ", ")), "       ", "         ")
			}
		}
	}
	show("add", pr.Add)
	show("add via group", pr.ViaGroup)
	show("update", pr.Update)
	show("remove", pr.Remove)
	for _, r := range pr.NeedsReview {
		action("review", fmt.Sprintf("%s (%s): %s", r.Caller, accessText(r.Access), r.Reason))
		for _, u := range r.Uses {
			line(useSummary(u), "       ", "         ")
		}
	}
	for _, r := range pr.Denied {
		action("denied", fmt.Sprintf("%s (%s): %s", r.Caller, accessText(r.Access), r.Reason))
	}
	for _, e := range pr.Unapproved {
		action("unapproved", fmt.Sprintf("%s %s: %s", e.Type, e.Path, e.Reason))
	}
	for _, a := range pr.Advice {
		action("advice", fmt.Sprintf("for %s (%s): %s", a.Caller, accessText(a.Access), a.Text))
	}
	if !h.FullSteps {
		return
	}
	if ui := uiSteps(pr, p.Capabilities); len(ui) > 0 {
		fmt.Fprintf(w, "   UI (GitLab %s):\n", versionName(p))
		for _, s := range ui {
			line(strings.ReplaceAll(strings.ReplaceAll(s, "**", "\""), "`", ""), "     ", "        ")
		}
	}
	// Before the allowlist (15.9) no call can work: the checklist says what to upgrade.
	if calls := pr.Calls(p.Capabilities); len(calls) > 0 && p.Capabilities.Allowlist {
		fmt.Fprintf(w, "   API (token from $GITLAB_TOKEN, server from $GITLAB_URL%s):\n", serverHint(p))
		for _, c := range calls {
			fmt.Fprintf(w, "     # %s\n", quote.OneLine(callComment(c, p.Capabilities)))
			// A command is copied whole: never wrapped.
			for _, l := range strings.Split(curl(c), "\n") {
				fmt.Fprintf(w, "     %s\n", quote.OneLine(l))
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
