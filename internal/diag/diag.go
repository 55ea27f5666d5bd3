// Package diag collects problems with the input (a CI file that does not
// parse, an include that cannot be found, a file that is too large) as
// diagnostics with a place, so that one bad project never stops a scan.
package diag

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tokenscope/tokenscope/internal/loc"
)

// Severity says whether a diagnostic stops the thing it is about (Error)
// or only lowers confidence in the result (Warning).
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Diagnostic is one problem with the input, with the place it is about.
type Diagnostic struct {
	Severity Severity
	// Pos is the place: Project is the project whose files are at fault
	// ("" for the snapshot itself, and then File is inside the snapshot
	// directory); Line is 0 when the problem is about the whole file.
	loc.Pos
	Summary string // what is wrong, one sentence without a trailing period
	Detail  string // what to do about it; may be ""
}

// String renders the diagnostic as "project/file:line: severity: summary (detail)".
func (d Diagnostic) String() string {
	s := fmt.Sprintf("%s: %s: %s", d.Place(), d.Severity, d.Summary)
	if d.Detail != "" {
		s += " (" + d.Detail + ")"
	}
	return oneLine(s)
}

// oneLine keeps a diagnostic on its line: summaries quote names and text
// from the input (a path with a newline, a job name with an escape
// sequence), which must neither start a line that looks like another
// message nor drive the terminal. Control characters and the Unicode line
// separators are written as Go escapes.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, breaksLine) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if breaksLine(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func breaksLine(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029
}

// List is an ordered collection of diagnostics.
type List []Diagnostic

// Errorf appends an error diagnostic.
func (l *List) Errorf(project, file string, line int, format string, args ...any) {
	*l = append(*l, Diagnostic{Severity: Error, Pos: loc.Pos{Project: project, File: file, Line: line}, Summary: fmt.Sprintf(format, args...)})
}

// Warnf appends a warning diagnostic.
func (l *List) Warnf(project, file string, line int, format string, args ...any) {
	*l = append(*l, Diagnostic{Severity: Warning, Pos: loc.Pos{Project: project, File: file, Line: line}, Summary: fmt.Sprintf(format, args...)})
}

// HasErrors reports whether any diagnostic is an error.
func (l List) HasErrors() bool {
	return slices.ContainsFunc(l, func(d Diagnostic) bool { return d.Severity == Error })
}

// Sort orders diagnostics by project, file, line and summary, and drops
// exact duplicates.
func (l List) Sort() List {
	slices.SortFunc(l, func(a, b Diagnostic) int {
		return cmp.Or(loc.Compare(a.Pos, b.Pos), cmp.Compare(a.Summary, b.Summary), cmp.Compare(a.Detail, b.Detail))
	})
	return slices.Compact(l)
}
