package report

import (
	"fmt"
	"io"
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
func Plan(w io.Writer, p *plan.Plan, format string) error {
	switch format {
	case FormatTable, "":
		return planTable(w, p)
	case FormatJSON:
		return writeJSON(w, PlanDocument(p))
	case FormatMarkdown:
		return planMarkdown(w, p)
	case FormatScript:
		return planScript(w, p)
	case FormatTerraform:
		return planTerraform(w, p)
	default:
		return fmt.Errorf("unknown format %q (valid: %s)", format, strings.Join(PlanFormats, ", "))
	}
}

// untrustedBanner is printed by every human format of a plan computed
// without a trust file: nothing in it was reviewed.
const untrustedBanner = "NO TRUST FILE: every discovered edge is PROPOSED, not reviewed. " +
	"Draft one with `tokenscope trust init SOURCE -o trust.yaml`, review it in a merge request, then plan with --trust trust.yaml."

func summary(p *plan.Plan) string {
	t := p.Totals()
	return fmt.Sprintf("%d callee project(s): enforce %d, add %d, update %d, remove %d, keep %d; %d need review, %d stale, %d denied, %d unapproved kept, %d impossible for a job token",
		t.Projects, t.Enforce, t.Add, t.Update, t.Remove, t.Keep, t.Review, t.Stale, t.Denied, t.Unapproved, t.Never)
}

// computedFrom says what the plan rests on: trust file, version, state.
func computedFrom(p *plan.Plan) string {
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
		parts = append(parts, "--prune")
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
			File: u.Evidence.File, Line: u.Evidence.Line, Job: u.Evidence.Job, Detail: u.Evidence.Detail})
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
