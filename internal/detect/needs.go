package detect

import (
	"fmt"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// needsDetector turns needs:project entries into artifact downloads (P31):
// the runner fetches the other project's artifacts with the job token
// (https://docs.gitlab.com/ci/jobs/ci_job_token/), so the callee's allowlist must hold the
// caller. Entries with artifacts: false download nothing.
type needsDetector struct{}

func (needsDetector) Name() string { return "needs" }

func (needsDetector) Detect(in *Input, out *Output) {
	if in.Job == nil {
		return
	}
	for _, n := range in.Job.Needs {
		if !n.Artifacts || n.Project == "" {
			continue
		}
		// GitLab expands variables in project: before the pipeline runs.
		w := shell.ExpandVars(n.Project, in.envOf(nil))
		t := use.Target{Kind: use.Path, Value: strings.Trim(w.Value, "/")}
		if !w.Known() || UnknownReason(w.Value) != "" {
			t = use.Target{Kind: use.Unknown, Value: n.Project, Reason: UnknownReason(w.Value)}
			if t.Reason == "" {
				t.Reason = "the project path is not known statically"
			}
		}
		if w.Value != n.Project {
			t.Reference = n.Project
		}
		detail := fmt.Sprintf("needs:project %s job %s ref %s artifacts: true", n.Project, n.Job, n.Ref)
		out.Uses = append(out.Uses, in.UseAtPos(n.Pos, access.ArtifactsRead, t, detail))
	}
}
