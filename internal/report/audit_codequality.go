package report

import (
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/tokenscope/tokenscope/internal/audit"
)

// A Code Quality issue as GitLab reads it from artifacts:reports:codequality
// (https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format):
// description, check_name, fingerprint, severity (info, minor, major,
// critical, blocker) and location.path with location.lines.begin.
type codeQualityIssue struct {
	Description string              `json:"description"`
	CheckName   string              `json:"check_name"`
	Fingerprint string              `json:"fingerprint"`
	Severity    string              `json:"severity"`
	Location    codeQualityLocation `json:"location"`
}

type codeQualityLocation struct {
	Path  string           `json:"path"`
	Lines codeQualityLines `json:"lines"`
}

type codeQualityLines struct {
	Begin int `json:"begin"`
}

// auditCodeQuality writes the findings that are not acknowledged as Code
// Quality issues, located in the trust file (the one file of the
// repository that the pipeline audits), so that a merge request changing
// it shows what it fixes and what it leaves. The fingerprint is the
// finding's: the same finding keeps it across runs.
func auditCodeQuality(w io.Writer, r *audit.Result) error {
	out := []codeQualityIssue{}
	loc := codeQualityPath(r.TrustFile)
	for _, f := range r.Findings {
		if f.Acknowledged != nil {
			continue
		}
		d := f.Project
		if e := auditEntry(f); e != "" {
			d += " ← " + e
		}
		out = append(out, codeQualityIssue{
			Description: fmt.Sprintf("%s: %s: %s. What to do: %s", f.Kind, d, f.Detail, f.Action),
			CheckName:   "tokenscope/" + string(f.Kind),
			Fingerprint: f.Fingerprint(),
			Severity:    codeQualitySeverity(f),
			Location:    codeQualityLocation{Path: loc, Lines: codeQualityLines{Begin: max(f.Line, 1)}},
		})
	}
	return writeJSON(w, out)
}

// codeQualitySeverity ranks a finding on GitLab's scale: an open or wider
// door is critical, other drift major, what fails only on request minor,
// what is reported only info.
func codeQualitySeverity(f audit.Finding) string {
	switch {
	case !f.Fails:
		return "info"
	case f.Kind == audit.NotEnforced || f.Kind == audit.Unapproved || f.Kind == audit.Wider || f.Kind == audit.Remove:
		return "critical"
	case f.Kind.Drift():
		return "major"
	}
	return "minor"
}

// codeQualityPath is the trust file's path as GitLab wants it: relative
// to the repository root, with forward slashes.
func codeQualityPath(p string) string {
	if p == "" {
		return "trust.yaml"
	}
	p = path.Clean(filepath.ToSlash(p))
	return strings.TrimPrefix(p, "./")
}
