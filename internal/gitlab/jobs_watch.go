package gitlab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"
)

// FailedJob is a failed CI job as GET /projects/:id/jobs lists it
// (https://docs.gitlab.com/api/jobs/#list-project-jobs).
type FailedJob struct {
	Project       string // full path, as asked
	ID            int64
	Name          string
	Stage         string
	Ref           string
	WebURL        string
	FailureReason string
	User          string // username of the user who ran it; "" when not told
	CreatedAt     time.Time
	FinishedAt    time.Time
}

// FailedJobs is one project's failed jobs in a window.
type FailedJobs struct {
	Jobs []FailedJob // newest first
	// Capped: the list stopped at the limit while older jobs of the window
	// may remain.
	Capped bool
	Pages  int // pages read
}

// jobsPerPage is the largest page GitLab serves (per_page is capped at 100).
const jobsPerPage = 100

// ListFailedJobs lists project's failed jobs created at or after since,
// newest first, at most limit of them (0: no limit). GitLab lists a
// project's jobs "sorted in descending order of their IDs" (jobs API docs
// above; lib/api/ci/jobs.rb orders by id desc), so ids, and creation
// times with them, only go back in time page after page: the read stops at
// the first job older than since, or at the limit, without asking for the
// pages after it. scope[]=failed filters on GitLab's side, so successful
// jobs are never transferred.
func (c *Client) ListFailedJobs(ctx context.Context, project string, since time.Time, limit int) (FailedJobs, error) {
	var out FailedJobs
	what := "list the failed jobs of " + project
	scope := []gl.BuildStateValue{gl.Failed}
	for page := int64(1); page != 0; {
		if err := c.acquire(ctx); err != nil {
			return out, err
		}
		jobs, resp, err := c.gl.Jobs.ListProjectJobs(project, &gl.ListJobsOptions{
			ListOptions: gl.ListOptions{Page: page, PerPage: jobsPerPage},
			Scope:       &scope,
		}, gl.WithContext(ctx))
		c.release()
		if err != nil {
			return out, c.apiError(what, err)
		}
		out.Pages++
		for _, j := range jobs {
			if j.CreatedAt != nil && j.CreatedAt.Before(since) {
				return out, nil
			}
			if limit > 0 && len(out.Jobs) >= limit {
				out.Capped = true
				return out, nil
			}
			out.Jobs = append(out.Jobs, failedJob(project, j))
		}
		page = 0
		if resp != nil {
			page = resp.NextPage
		}
	}
	return out, nil
}

func failedJob(project string, j *gl.Job) FailedJob {
	f := FailedJob{Project: project, ID: j.ID, Name: j.Name, Stage: j.Stage, Ref: j.Ref, WebURL: j.WebURL, FailureReason: j.FailureReason}
	if j.User != nil {
		f.User = j.User.Username
	}
	if j.CreatedAt != nil {
		f.CreatedAt = *j.CreatedAt
	}
	if j.FinishedAt != nil {
		f.FinishedAt = *j.FinishedAt
	}
	return f
}

// errReadDone ends a trace transfer that read stopped reading.
var errReadDone = errors.New("trace read done")

// StreamTrace sends the log of job in project, as GET
// /projects/:id/jobs/:job_id/trace serves it
// (https://docs.gitlab.com/api/jobs/#get-a-log-file), to read as it
// arrives: nothing of it is buffered beyond the pipe, so a log of any size
// is read in constant memory. read may stop early (a byte cap); the rest is
// then not transferred. GitLab answers the whole log (lib/api/ci/jobs.rb
// sends build.trace.raw, without Range support), so the end of a log,
// where a job's failure is, is reached by reading through it.
//
// client-go's Jobs.GetTraceFile reads the whole body into memory, so the
// request is built with client-go (NewRequest, authentication, retries)
// and its body copied into a pipe by Do.
func (c *Client) StreamTrace(ctx context.Context, project string, job int64, read func(io.Reader) error) error {
	what := fmt.Sprintf("read the log of job %d of %s", job, project)
	if err := c.acquire(ctx); err != nil {
		return err
	}
	defer c.release()
	// client-go's Do drains what is left of a body before it closes it:
	// when read stops early, cancelling the request ends the transfer.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := c.gl.NewRequest(http.MethodGet, fmt.Sprintf("projects/%s/jobs/%d/trace", gl.PathEscape(project), job), nil, []gl.RequestOptionFunc{gl.WithContext(ctx)})
	if err != nil {
		return c.apiError(what, err)
	}
	pr, pw := io.Pipe()
	var stopped atomic.Bool
	readErr := make(chan error, 1)
	go func() {
		err := read(pr)
		stopped.Store(true)
		cancel()
		pr.CloseWithError(errReadDone)
		readErr <- err
	}()
	_, err = c.gl.Do(req, pw)
	early := stopped.Load() // read returned before the body ended
	pw.CloseWithError(err)  // nil: read sees io.EOF
	rerr := <-readErr
	if err != nil && !early {
		return c.apiError(what, err)
	}
	return rerr
}
