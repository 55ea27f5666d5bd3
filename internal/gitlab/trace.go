package gitlab

import (
	"context"
	"fmt"
	"io"

	gl "gitlab.com/gitlab-org/api/client-go"
)

// MaxTrace bounds a job log read: GitLab caps logs at 100 MB by default
// (ci_jobs_trace_size_limit); a failure signature is near the end anyway.
const MaxTrace = 100 << 20

// JobTrace returns the log of job in project (full path or numeric ID), as
// GET /projects/:id/jobs/:job_id/trace serves it. Reading needs the
// Reporter role on the project (or a public pipeline).
func (c *Client) JobTrace(ctx context.Context, project string, job int64) ([]byte, error) {
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	r, _, err := c.gl.Jobs.GetTraceFile(project, job, gl.WithContext(ctx))
	if err != nil {
		return nil, c.apiError(fmt.Sprintf("read the log of job %d of %s", job, project), err)
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxTrace))
	if err != nil {
		return nil, c.apiError(fmt.Sprintf("read the log of job %d of %s", job, project), err)
	}
	return data, nil
}
