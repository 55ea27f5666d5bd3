package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tokenscope/tokenscope/internal/joblog"
)

// DiagnoseFormats lists the formats of `tokenscope diagnose`.
var DiagnoseFormats = []string{FormatTable, FormatJSON, FormatMarkdown}

// DiagnoseFormatVersion is the version of the diagnose JSON document.
const DiagnoseFormatVersion = 1

// Diagnose renders explained job-log failures.
func Diagnose(w io.Writer, ds []joblog.Diagnosis, format string) error {
	switch format {
	case FormatTable, "":
		return diagnoseText(w, ds)
	case FormatJSON:
		return writeJSON(w, diagnoseDoc(ds))
	case FormatMarkdown:
		return diagnoseMarkdown(w, ds)
	default:
		return fmt.Errorf("unknown format %q (valid: %s)", format, strings.Join(DiagnoseFormats, ", "))
	}
}

type (
	diagDoc struct {
		Version  int           `json:"version"`
		Failures []diagFailure `json:"failures"`
	}
	diagFailure struct {
		Log        string   `json:"log"`
		Line       int      `json:"line"`
		Signature  string   `json:"signature"`
		Kind       string   `json:"kind"`
		JobToken   bool     `json:"job_token"`
		Access     string   `json:"access"`
		Caller     string   `json:"caller"`
		Callee     string   `json:"callee"`
		CalleeRef  string   `json:"callee_reference"`
		Candidates []string `json:"candidates"`
		Policy     string   `json:"policy"`
		Intent     string   `json:"intent"`
		IntentLine int      `json:"intent_line"`
		Discovered bool     `json:"discovered"`
		Message    string   `json:"message"`
		Command    string   `json:"command"`
		Verdict    string   `json:"verdict"`
	}
)

func diagnoseDoc(ds []joblog.Diagnosis) diagDoc {
	doc := diagDoc{Version: DiagnoseFormatVersion, Failures: []diagFailure{}}
	for _, d := range ds {
		c := d.Candidates
		if c == nil {
			c = []string{}
		}
		doc.Failures = append(doc.Failures, diagFailure{
			Log: d.Log, Line: d.Line, Signature: d.Signature, Kind: string(d.Kind), JobToken: d.JobToken(),
			Access: string(d.Access), Caller: d.Caller, Callee: d.Callee, CalleeRef: d.CalleeRef, Candidates: c,
			Policy: d.Policy, Intent: string(d.Intent), IntentLine: d.IntentLine, Discovered: d.Discovered,
			Message: d.Message, Command: d.Command, Verdict: d.Verdict,
		})
	}
	return doc
}

func edgeText(d joblog.Diagnosis) string {
	caller, callee := d.Caller, d.Callee
	if caller == "" {
		caller = "?"
		if d.CallerRef != "" {
			caller = d.CallerRef + "?"
		}
	}
	if callee == "" {
		callee = "?"
		if d.CalleeRef != "" {
			callee = d.CalleeRef + "?"
		}
	}
	return caller + " → " + callee
}

func diagnoseText(w io.Writer, ds []joblog.Diagnosis) error {
	ew := &errWriter{w: w}
	if len(ds) == 0 {
		fmt.Fprintln(ew, "no job-token failure signatures found")
		return ew.err
	}
	n := 0
	for _, d := range ds {
		if d.JobToken() {
			n++
		}
	}
	fmt.Fprintf(ew, "%d failure(s), %d of them job-token access problems\n\n", len(ds), n)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WHERE\tKIND\tEDGE\tACCESS")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s:%d\t%s\t%s\t%s\n", d.Log, d.Line, d.Kind, edgeText(d), orDash(string(d.Access)))
	}
	tw.Flush()
	for _, d := range ds {
		// The kind is the table's; the signature says which message matched.
		fmt.Fprintf(ew, "\n%s:%d  %s (signature %s)\n", d.Log, d.Line, d.Kind, d.Signature)
		if d.Command != "" {
			fmt.Fprintf(ew, "  after:   $ %s\n", d.Command)
		}
		fmt.Fprintf(ew, "  message: %s\n", d.Message)
		fmt.Fprintf(ew, "  means:   %s\n", d.Explain)
		fmt.Fprintf(ew, "  do:      %s\n", d.Verdict)
	}
	return ew.err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func diagnoseMarkdown(w io.Writer, ds []joblog.Diagnosis) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "# Job-token failures\n\n")
	if len(ds) == 0 {
		fmt.Fprintln(ew, "No job-token failure signatures found.")
		return ew.err
	}
	fmt.Fprintf(ew, "| where | kind | edge | access | what to do |\n|---|---|---|---|---|\n")
	for _, d := range ds {
		fmt.Fprintf(ew, "| %s:%d | %s | %s | %s | %s |\n", md(d.Log), d.Line, d.Kind, md(edgeText(d)), orDash(string(d.Access)), md(d.Verdict))
	}
	for _, d := range ds {
		fmt.Fprintf(ew, "\n### %s:%d — %s (signature %s)\n\n", md(d.Log), d.Line, d.Kind, d.Signature)
		if d.Command != "" {
			fmt.Fprintf(ew, "After `$ %s`:\n\n", strings.ReplaceAll(d.Command, "`", "'"))
		}
		fmt.Fprintf(ew, "```\n%s\n```\n\n%s\n", strings.ReplaceAll(d.Message, "```", "'''"), d.Explain)
	}
	return ew.err
}
