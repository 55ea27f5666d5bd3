package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/tokenscope/tokenscope/internal/joblog"
	"github.com/tokenscope/tokenscope/internal/watch"
)

// WatchFormats lists the formats of `tokenscope diagnose --group`.
var WatchFormats = []string{FormatTable, FormatJSON}

// WatchFormatVersion is the version of the breakage watch JSON document
// (docs/design.md §3, "Breakage watch").
const WatchFormatVersion = 1

// Watch renders the breakage watch: per callee, the failed jobs whose logs
// show a job-token failure, and what to do.
func Watch(w io.Writer, r *watch.Report, format string) error {
	switch format {
	case FormatTable, "":
		return watchText(w, r)
	case FormatJSON:
		return writeJSON(w, watchDoc(r))
	default:
		return fmt.Errorf("unknown format %q (valid: %s)", format, strings.Join(WatchFormats, ", "))
	}
}

type (
	watchJSON struct {
		Version   int           `json:"version"`
		Since     string        `json:"since"`
		Projects  int           `json:"projects"`
		Failed    int           `json:"failed_jobs"`
		LogsRead  int           `json:"logs_read"`
		Bytes     int64         `json:"log_bytes_read"`
		Capped    bool          `json:"capped"`
		Callees   []watchCallee `json:"callees"`
		Notes     []string      `json:"notes"`
		JobErrors []string      `json:"job_errors"`
	}
	watchCallee struct {
		Callee   string         `json:"callee"`
		Failures []watchFailure `json:"failures"`
	}
	watchFailure struct {
		Job    watchJob `json:"job"`
		Action string   `json:"action"`
		diagFailure
	}
	watchJob struct {
		Project string `json:"project"`
		ID      int64  `json:"id"`
		Name    string `json:"name"`
		WebURL  string `json:"web_url"`
		Ref     string `json:"ref"`
		Created string `json:"created_at"`
		User    string `json:"user"`
	}
)

func watchDoc(r *watch.Report) watchJSON {
	doc := watchJSON{Version: WatchFormatVersion, Since: r.Since.UTC().Format(time.RFC3339), Projects: r.Projects,
		Failed: r.Failed, LogsRead: r.LogsRead, Bytes: r.Bytes, Capped: r.Capped,
		Callees: []watchCallee{}, Notes: nonNil(r.Notes), JobErrors: nonNil(r.JobErrors)}
	for _, f := range r.Findings {
		if n := len(doc.Callees); n == 0 || doc.Callees[n-1].Callee != f.CalleeKey() {
			doc.Callees = append(doc.Callees, watchCallee{Callee: f.CalleeKey()})
		}
		c := &doc.Callees[len(doc.Callees)-1]
		c.Failures = append(c.Failures, watchFailure{
			Job: watchJob{Project: f.Job.Project, ID: f.Job.ID, Name: f.Job.Name, WebURL: f.Job.WebURL, Ref: f.Job.Ref,
				Created: f.Job.CreatedAt.UTC().Format(time.RFC3339), User: f.Job.User},
			Action:      f.Action,
			diagFailure: diagnoseDoc(append([]joblog.Diagnosis(nil), f.Diagnosis)).Failures[0],
		})
	}
	return doc
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func watchText(w io.Writer, r *watch.Report) error {
	ew := &errWriter{w: w}
	jt, jobs := 0, map[string]bool{}
	for _, f := range r.Findings {
		if f.JobToken() {
			jt++
			jobs[fmt.Sprintf("%s\x00%d", f.Job.Project, f.Job.ID)] = true
		}
	}
	capped := ""
	if r.Capped {
		capped = " (capped by --max-jobs: older failed jobs not read)"
	}
	fmt.Fprintf(ew, "%d failed job(s) since %s in %d project(s)%s; %d log(s) read, %s\n",
		r.Failed, r.Since.UTC().Format(time.RFC3339), r.Projects, capped, r.LogsRead, byteText(r.Bytes))
	fmt.Fprintf(ew, "%d job-token failure(s) in %d job(s), %d other failure(s)\n", jt, len(jobs), len(r.Findings)-jt)
	if len(r.Findings) > 0 {
		fmt.Fprintln(ew)
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CALLEE\tCALLER\tJOB\tTIME\tKIND\tACCESS/POLICY\tACTION")
		for _, f := range r.Findings {
			need := orDash(string(f.Access))
			if f.Policy != "" {
				need = f.Policy
			}
			fmt.Fprintf(tw, "%s\t%s\t%d %s\t%s\t%s\t%s\t%s\n", plain(f.CalleeKey()), plain(orDash(f.Caller)), f.Job.ID, plain(f.Job.Name),
				f.Job.CreatedAt.UTC().Format(time.RFC3339), f.Kind, plain(need), f.Action)
		}
		tw.Flush()
	}
	callee := ""
	for _, f := range r.Findings {
		if f.CalleeKey() != callee {
			callee = f.CalleeKey()
			fmt.Fprintf(ew, "\n%s\n", plain(callee))
		}
		fmt.Fprintf(ew, "  %s job %d %q (%s, %s) %s\n", plain(f.Job.Project), f.Job.ID, plain(f.Job.Name), plain(orDash(f.Job.Ref)),
			f.Job.CreatedAt.UTC().Format(time.RFC3339), plain(f.Job.WebURL))
		fmt.Fprintf(ew, "    line %d: %s (signature %s)\n", f.Line, f.Kind, f.Signature)
		fmt.Fprintf(ew, "    edge:    %s", plain(edgeText(f.Diagnosis)))
		if f.Policy != "" {
			fmt.Fprintf(ew, ", missing policy %s", plain(f.Policy))
		}
		fmt.Fprintln(ew)
		if f.Command != "" {
			fmt.Fprintf(ew, "    after:   $ %s\n", plain(f.Command))
		}
		fmt.Fprintf(ew, "    message: %s\n", plain(f.Message))
		fmt.Fprintf(ew, "    do:      %s\n", plain(f.Verdict))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(ew, "\nnote: %s", plain(n))
	}
	for _, e := range r.JobErrors {
		fmt.Fprintf(ew, "\nerror: %s", plain(e))
	}
	if len(r.Notes)+len(r.JobErrors) > 0 {
		fmt.Fprintln(ew)
	}
	return ew.err
}

// plain makes text from GitLab or a log (job names, messages) safe for a
// terminal: control characters (newlines, escape sequences) become
// spaces, so that a hostile name cannot forge lines or colours.
func plain(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

func byteText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
