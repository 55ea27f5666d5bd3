package watch

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/tokenscope/tokenscope/internal/gitlab"
	"github.com/tokenscope/tokenscope/internal/joblog"
	"github.com/tokenscope/tokenscope/internal/redact"
)

// Jobs is what the watch reads from GitLab: *gitlab.Client.
type Jobs interface {
	ListFailedJobs(ctx context.Context, project string, since time.Time, limit int) (gitlab.FailedJobs, error)
	StreamTrace(ctx context.Context, project string, job int64, read func(io.Reader) error) error
}

// Options say what to watch.
type Options struct {
	Projects []string  // full paths of the projects in scope
	Since    time.Time // failed jobs created before it are not read
	// MaxJobs caps the failed jobs whose logs are read, the newest of all
	// projects first; 0 is no cap.
	MaxJobs int
	// MaxLogBytes caps the bytes read of one log; 0 is no cap.
	MaxLogBytes int64
	// Read bounds the reading of each log (line length matched, failures
	// kept: --limit log-line, log-failures); MaxBytes is MaxLogBytes.
	Read joblog.ReadOptions
	// Concurrency is the number of logs read at once (default 8; the
	// client bounds requests in flight too).
	Concurrency int
	// Context explains the failures; its Caller is each job's project.
	Context joblog.Context
}

// Finding is one failure found in a failed job's log, explained.
type Finding struct {
	Job gitlab.FailedJob
	joblog.Diagnosis
	// Action is the verdict in one word, for tables and scripts:
	//   apply          approved in trust.yaml, not on the allowlist yet
	//   do-not-widen   not approved, or denied: fix the job or review
	//   review         no trust.yaml said, or the caller is on the allowlist already
	//   not-allowlist  a job-token failure no allowlist entry fixes
	//   not-job-token  not a job-token failure at all
	Action string
}

// Report is what the watch found.
type Report struct {
	Since     time.Time
	Projects  int   // projects in scope
	Failed    int   // failed jobs in the window (up to the cap)
	LogsRead  int   // logs read
	Bytes     int64 // bytes of log read
	Capped    bool  // --max-jobs stopped the list: older failed jobs were not read
	Findings  []Finding
	Notes     []string // partial reads (long lines, byte cap), in job order
	JobErrors []string // logs that could not be read, redacted
}

// JobToken reports whether any finding is a job-token failure.
func (r *Report) JobToken() bool {
	for _, f := range r.Findings {
		if f.JobToken() {
			return true
		}
	}
	return false
}

// Run lists the failed jobs of every project, newest first, and reads the
// log of each (at most MaxJobs of them). A project whose jobs cannot be
// listed is an error: the watch would otherwise report "nothing broke"
// for it. A log that cannot be read is reported and the others still are.
func Run(ctx context.Context, src Jobs, o Options) (*Report, error) {
	rep := &Report{Since: o.Since, Projects: len(o.Projects)}
	conc := cmp.Or(o.Concurrency, 8)
	lists := make([]gitlab.FailedJobs, len(o.Projects))
	errs := make([]error, len(o.Projects))
	forEach(len(o.Projects), conc, func(i int) {
		lists[i], errs[i] = src.ListFailedJobs(ctx, o.Projects[i], o.Since, o.MaxJobs)
	})
	var jobs []gitlab.FailedJob
	for i, l := range lists {
		if errs[i] != nil {
			return nil, errs[i]
		}
		rep.Capped = rep.Capped || l.Capped
		jobs = append(jobs, l.Jobs...)
	}
	// Newest first across projects; the id breaks ties (ids grow).
	slices.SortStableFunc(jobs, func(a, b gitlab.FailedJob) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	if o.MaxJobs > 0 && len(jobs) > o.MaxJobs {
		jobs, rep.Capped = jobs[:o.MaxJobs], true
	}
	rep.Failed = len(jobs)
	type result struct {
		findings []Finding
		notes    []string
		bytes    int64
		err      error
	}
	results := make([]result, len(jobs))
	readOpts := o.Read
	readOpts.MaxBytes = o.MaxLogBytes
	forEach(len(jobs), conc, func(i int) {
		j := jobs[i]
		name := fmt.Sprintf("%s job %d", j.Project, j.ID)
		var res joblog.Result
		err := src.StreamTrace(ctx, j.Project, j.ID, func(r io.Reader) error {
			var err error
			res, err = joblog.Read(name, r, readOpts)
			return err
		})
		c := o.Context
		c.Caller = j.Project
		out := result{notes: res.Notes, bytes: res.Bytes, err: err}
		j.Name, j.WebURL, j.Ref = redact.String(j.Name), redact.String(j.WebURL), redact.String(j.Ref)
		for _, d := range joblog.Explain(res.Failures, c) {
			out.findings = append(out.findings, Finding{Job: j, Diagnosis: d, Action: action(d)})
		}
		results[i] = out
	})
	for _, r := range results {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rep.Bytes += r.bytes
		if r.err != nil {
			rep.JobErrors = append(rep.JobErrors, redact.String(r.err.Error()))
		} else {
			rep.LogsRead++
		}
		rep.Notes = append(rep.Notes, r.notes...)
		rep.Findings = append(rep.Findings, r.findings...)
	}
	// Per callee (as resolved, else as the log names it), then newest
	// first, then in log order.
	slices.SortStableFunc(rep.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.CalleeKey(), b.CalleeKey()), b.Job.CreatedAt.Compare(a.Job.CreatedAt),
			cmp.Compare(b.Job.ID, a.Job.ID), cmp.Compare(a.Line, b.Line))
	})
	return rep, nil
}

// CalleeKey is the callee the finding is grouped under: its full path,
// else the reference as the log gives it, else "(unknown)".
func (f Finding) CalleeKey() string {
	switch {
	case f.Callee != "":
		return f.Callee
	case f.CalleeRef != "":
		return f.CalleeRef
	}
	return "(unknown)"
}

// action words the verdict in one word: whether the failure is the
// allowlist's, and if so whether widening it is intended.
func action(d joblog.Diagnosis) string {
	switch d.Kind {
	case joblog.NotJobToken:
		return "not-job-token"
	case joblog.NeverAllowed, joblog.EndpointNotAllowed, joblog.RoleMissing:
		return "not-allowlist"
	}
	if d.OnAllowlist && d.Kind != joblog.PolicyMissing {
		return "review"
	}
	switch d.Intent {
	case joblog.Approved:
		return "apply"
	case joblog.Denied, joblog.Unapproved:
		return "do-not-widen"
	}
	return "review"
}

// forEach runs fn(0..n-1) on at most conc goroutines.
func forEach(n, conc int, fn func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, conc)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}
