package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/graph"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/planfile"
	"github.com/tokenscope/tokenscope/internal/use"
)

// PlanFormatVersion is the version of the plan JSON document (docs/design.md
// §6b): planfile's, which reads what report writes.
const PlanFormatVersion = planfile.Version

// Plan formats beyond the scan ones.
const (
	FormatScript    = "script"
	FormatTerraform = "terraform"
)

// PlanFormats lists the formats of `tokenscope plan`, for flag help and
// validation.
var PlanFormats = []string{FormatTable, FormatJSON, FormatMarkdown, FormatScript, FormatTerraform}

// Plan renders a plan in format.
func Plan(w io.Writer, p *plan.Plan, format string, h PlanHints) error {
	p = worded(p, h)
	switch format {
	case FormatTable, "":
		return planTable(w, p, h)
	case FormatJSON:
		return writeJSON(w, planDocument(p))
	case FormatMarkdown:
		return planMarkdown(w, p, h)
	case FormatScript:
		return planScript(w, p, h)
	case FormatTerraform:
		return planTerraform(w, p, h)
	default:
		return fmt.Errorf("unknown format %q (valid: %s)", format, strings.Join(PlanFormats, ", "))
	}
}

// PlanHints name the command-line flags a plan's output tells its reader
// to use. The command line supplies them: it alone knows its flags, while
// plan and report only know what the reader must do.
type PlanHints struct {
	Trust            string // plan with a trust file
	Prune            string // plan removing the entries no approval covers
	GitLabVersion    string // plan for a GitLab version
	Format           string // choose the output format
	DetailedExitCode string // exit 3 when the plan is not empty
	Steps            string // show the table's steps in full (UI clicks, API calls)

	// FullSteps makes the table print every step's UI clicks and API call
	// in full; by default it prints one line per action.
	FullSteps bool
	// Color paints the table's status words and headers: the command line
	// sets it for a terminal only (no NO_COLOR, no --no-color).
	Color bool
	// Width is the column the table wraps prose at (0: 100).
	Width int
}

// PlanWarning words a plan warning.
func PlanWarning(w plan.Warning, h PlanHints) string {
	switch w.Kind {
	case plan.WarnNoTrust:
		return "no trust file: every discovered edge is PROPOSED, not reviewed. Draft one with `tokenscope trust init`, review it in a merge request, and plan with " + h.Trust
	case plan.WarnVersionUnknown:
		return "GitLab version unknown (no gitlab_version in the inventory, no " + h.GitLabVersion + "): planning for the newest GitLab tokenscope knows; fine-grained policies need 18.3 or later (17.10 with a feature flag)"
	default:
		return w.Text
	}
}

// worded is p with the words plan leaves to the command line filled in:
// every warning's text, and how to remove an unapproved entry it keeps.
// p itself is not changed.
func worded(p *plan.Plan, h PlanHints) *plan.Plan {
	c := *p
	c.Warnings = make([]plan.Warning, len(p.Warnings))
	for i, w := range p.Warnings {
		c.Warnings[i] = plan.Warning{Kind: w.Kind, Text: PlanWarning(w, h)}
	}
	c.Projects = slices.Clone(p.Projects)
	for i := range c.Projects {
		pr := &c.Projects[i]
		pr.Unapproved = slices.Clone(pr.Unapproved)
		for j := range pr.Unapproved {
			pr.Unapproved[j].Reason += "; kept: plan with " + h.Prune + " to remove"
		}
	}
	return &c
}

// untrustedBanner is printed by every human format of a plan computed
// without a trust file: nothing in it was reviewed.
func untrustedBanner(h PlanHints) string {
	return "NO TRUST FILE: every discovered edge is PROPOSED, not reviewed. " +
		"Draft one with `tokenscope trust init SOURCE -o trust.yaml`, review it in a merge request, then plan with " + h.Trust + " trust.yaml."
}

// unknownState is the line every human format prints for a project whose
// current settings could not be read: GitLab shows the job token scope
// only to Maintainers (https://docs.gitlab.com/api/project_job_token_scopes/).
const unknownState = "current allowlist unknown: the token cannot read it (needs Maintainer)"

func summary(p *plan.Plan) string {
	t := p.Totals()
	s := fmt.Sprintf("%d callee project(s): enforce %d, add %d, update %d, remove %d, keep %d; %d need review, %d stale, %d denied, %d unapproved kept, %d impossible for a job token",
		t.Projects, t.Enforce, t.Add, t.Update, t.Remove, t.Keep, t.Review, t.Stale, t.Denied, t.Unapproved, t.Never)
	if t.ViaGroup > 0 {
		s += fmt.Sprintf("; %d admitted via a group entry the plan adds", t.ViaGroup)
	}
	if t.Open > 0 {
		s += fmt.Sprintf("; %d kept open by an exception", t.Open)
	}
	if t.Unknown > 0 {
		s += fmt.Sprintf("; %d with the current allowlist UNKNOWN (no removal or update planned there)", t.Unknown)
	}
	return s
}

// unknownProjects lists the projects whose current state is unknown.
func unknownProjects(p *plan.Plan) []string {
	var out []string
	for _, pr := range p.Projects {
		if pr.Unknown() {
			out = append(out, pr.Path)
		}
	}
	return out
}

// computedFrom says what the plan rests on: trust file, version, state.
func computedFrom(p *plan.Plan, h PlanHints) string {
	var parts []string
	if p.Trusted {
		parts = append(parts, "trust file "+p.TrustFile)
	} else {
		parts = append(parts, "no trust file")
	}
	if p.Capabilities.Known {
		parts = append(parts, "GitLab "+p.Capabilities.Version.String())
	} else {
		parts = append(parts, "GitLab version unknown (newest assumed)")
	}
	if p.Pruned {
		parts = append(parts, h.Prune)
	}
	parts = append(parts, "allowlist state "+p.StateDigest)
	return strings.Join(parts, "; ")
}

func policiesCell(pol []string) string {
	if pol == nil {
		return "default"
	}
	return strings.Join(pol, ",")
}

// rowEvidence is the evidence cell of an edge-table row.
func rowEvidence(r plan.Row) string {
	if r.Entry != nil && r.Entry.Widening != nil {
		w := r.Entry.Widening
		s := fmt.Sprintf("group of %d known projects, %d without a discovered use", w.Members, len(w.Extra))
		if w.Proposed {
			s = fmt.Sprintf("PROPOSED for the 200-entry limit: replaces %d entries, lets in %d more", len(w.Replaces), len(w.Extra))
		}
		return s
	}
	if r.Entry != nil && r.Entry.CoverPlanned {
		return "admitted by group entry " + r.Entry.CoveredBy + " (planned)"
	}
	if r.Entry != nil && r.Entry.CoveredBy != "" {
		return "covered by group entry " + r.Entry.CoveredBy
	}
	if len(r.Uses) == 0 {
		return shortReason(r.Reason)
	}
	ev := firstEvidence(graphEdge(r.Uses))
	if n := len(r.Uses) - 1; n > 0 {
		ev += fmt.Sprintf(" +%d more", n)
	}
	return ev
}

// shortReason is the first clause of a reason, for narrow cells.
func shortReason(s string) string {
	if i := strings.Index(s, "; "); i >= 0 {
		s = s[:i]
	}
	return s
}

// entryReason is an entry's reason with, for default permissions, why.
func entryReason(e plan.Entry) string {
	if e.Policies == nil && e.PolicyReason != "" {
		return e.Reason + "; default permissions: " + e.PolicyReason
	}
	return e.Reason
}

func kindList(ks []access.Kind) []access.Kind {
	if ks == nil {
		return []access.Kind{}
	}
	return ks
}

// policyLabel is a policy as the settings UI names it (the "Permissions"
// column of the fine-grained permissions docs): "Packages: Read",
// "Terraform state: Read and write".
func policyLabel(p string) string {
	level, res, ok := strings.Cut(p, "_")
	if !ok {
		return p
	}
	res = strings.ReplaceAll(res, "_", " ")
	res = strings.ToUpper(res[:1]) + res[1:]
	switch level {
	case "read":
		return res + ": Read"
	case "admin":
		return res + ": Read and write"
	}
	return p
}

func useList(us []use.Use) []planfile.Use {
	out := []planfile.Use{}
	for _, u := range us {
		out = append(out, planfile.Use{Origin: u.Origin, Access: u.Access, Project: evidenceProject(u),
			File: u.Evidence.File, Line: u.Evidence.Line, Job: u.Evidence.Job, Detail: u.Evidence.Detail,
			Variants: u.Evidence.Variants.List()})
	}
	return out
}

func graphEdge(us []use.Use) graph.Edge { return graph.Edge{Uses: us} }

// accessText is an access list in prose: "access unknown" for edges known
// only from the authentication log.
func accessText(ks []access.Kind) string {
	if len(ks) == 0 {
		return "access unknown"
	}
	return kinds(ks)
}

// unreviewedLine is the heading every human format prints while the trust
// file still holds drafted entries: they approve nothing until reviewed.
func unreviewedLine(p *plan.Plan) string {
	return fmt.Sprintf("%d trust file entr%s still marked unreviewed (drafted by trust init, not reviewed): listed as needs review, never approved. Review each and delete its \"unreviewed: true\".",
		p.Unreviewed, map[bool]string{true: "y", false: "ies"}[p.Unreviewed == 1])
}
