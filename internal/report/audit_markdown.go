package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/tokenscope/tokenscope/internal/audit"
)

// auditMarkdown writes the audit for an issue or merge request: the
// verdict, then one table row per finding, paths in code spans.
func auditMarkdown(w io.Writer, r *audit.Result, m AuditMeta) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "## tokenscope audit\n\n%s against %s.\n\n**%s**\n", auditCode(m.Source), auditCode(r.TrustFile), auditText(auditVerdict(r)))
	for _, a := range r.Unused {
		fmt.Fprintf(ew, "\n%s acknowledges %s, which is not found: delete it.\n", auditCode(fmt.Sprintf("%s:%d", r.TrustFile, a.Line)), auditText(ackWhat(a)))
	}
	if len(r.Findings) == 0 {
		return ew.err
	}
	fmt.Fprintf(ew, "\n| | kind | project | entry | what is wrong | what to do |\n|---|---|---|---|---|---|\n")
	for _, f := range r.Findings {
		entry := ""
		if e := auditEntry(f); e != "" {
			entry = auditCode(e)
		}
		detail := auditText(f.Detail)
		if f.Line > 0 {
			detail += fmt.Sprintf(" (%s)", auditCode(fmt.Sprintf("%s:%d", r.TrustFile, f.Line)))
		}
		action := auditText(f.Action)
		if a := auditAckText(f, r.TrustFile); a != "" {
			action += "<br>" + auditText(a)
		}
		fmt.Fprintf(ew, "| %s | %s | %s | %s | %s | %s |\n", auditStatus(f), f.Kind, auditCode(f.Project), entry, detail, action)
	}
	return ew.err
}

// auditText escapes prose for a table cell: besides md's escapes, every
// character Markdown (and GitLab's and GitHub's math: $…$) would take as
// markup is backslash-escaped, since details quote reasons and paths from
// untrusted files (https://spec.commonmark.org/0.31.2/#backslash-escapes).
func auditText(s string) string {
	var b strings.Builder
	for _, c := range printable(s) {
		if strings.ContainsRune("\\`*_[]$~#!&", c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return md(b.String())
}

// auditCode puts s in a code span that holds, whatever s contains: the
// fence is one backtick longer than the longest run in s, and a table
// cell's pipes and line breaks cannot end it
// (https://spec.commonmark.org/0.31.2/#code-spans; GitLab and GitHub
// render code spans literally, so no math or HTML either).
func auditCode(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ", "|", `\|`).Replace(printable(s))
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
