package report

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/tokenscope/tokenscope/internal/audit"
	"github.com/tokenscope/tokenscope/internal/plan"
	"github.com/tokenscope/tokenscope/internal/trust"
)

// AuditFormatVersion is the version of the audit JSON document
// (docs/design.md §6c). Bump it only when a consumer must change; adding
// fields does not.
const AuditFormatVersion = 1

// FormatCodeQuality is GitLab's Code Quality report
// (https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format).
const FormatCodeQuality = "codequality"

// AuditFormats lists the formats of `tokenscope audit`, for flag help and
// validation.
var AuditFormats = []string{FormatTable, FormatJSON, FormatMarkdown, FormatCodeQuality}

// AuditMeta is what the audit's output names besides the findings.
type AuditMeta struct {
	Source string // the snapshot directory or the GitLab read
}

// Audit renders an audit in format.
func Audit(w io.Writer, r *audit.Result, format string, m AuditMeta) error {
	switch format {
	case FormatTable, "":
		return auditTable(w, r, m)
	case FormatJSON:
		return writeJSON(w, auditDocument(r, m))
	case FormatMarkdown:
		return auditMarkdown(w, r, m)
	case FormatCodeQuality:
		return auditCodeQuality(w, r)
	default:
		return fmt.Errorf("unknown format %q (valid: %s)", format, strings.Join(AuditFormats, ", "))
	}
}

// auditVerdict is the one-line result every format leads with.
func auditVerdict(r *audit.Result) string {
	c := r.Counts()
	head := "OK: the org matches its reviewed intent"
	if r.Failed() {
		head = fmt.Sprintf("DRIFT: %d finding(s) fail", c.Failing)
	}
	s := fmt.Sprintf("%s; %d finding(s): %d drift, %d standing, %d acknowledged; %d project(s), %d enforced",
		head, len(r.Findings), c.Drift, c.Standing, c.Acknowledged, r.Projects, r.Enforced)
	if r.Open > 0 {
		s += fmt.Sprintf(", %d kept open by an exception", r.Open)
	}
	return s
}

// auditStatus is how a finding counts: it fails the audit, it is
// acknowledged, or it is reported only.
func auditStatus(f audit.Finding) string {
	switch {
	case f.Fails:
		return "FAIL"
	case f.Acknowledged != nil:
		return "ack"
	}
	return "note"
}

// auditEntry names the finding's entry for people: "group apps" or the
// project path; "" for findings about the project itself.
func auditEntry(f audit.Finding) string {
	if f.Entry == "" {
		return ""
	}
	if f.EntryType == plan.GroupEntry {
		return "group " + f.Entry
	}
	return f.Entry
}

// auditAckText says who acknowledged a finding, why and until when.
func auditAckText(f audit.Finding, trustFile string) string {
	a := f.Acknowledged
	if a == nil {
		return ""
	}
	s := fmt.Sprintf("acknowledged at %s:%d by %s", trustFile, a.Line, a.Owner)
	if a.Reason != "" {
		s += ": " + a.Reason
	}
	if !a.Expires.IsZero() {
		s += " (until " + a.Expires.Format("2006-01-02") + ")"
	}
	return s
}

// ackWhat names the finding an acknowledgement is about.
func ackWhat(a trust.Acknowledgement) string {
	s := a.Kind + " " + a.Project
	if a.Entry != "" {
		s += " ← " + a.Entry
	}
	return s
}

// printable replaces control characters (a snapshot's folder names are
// untrusted) so that a terminal shows them instead of obeying them.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}
