package cli

import (
	"github.com/spf13/cobra"
	"github.com/tokenscope/tokenscope/internal/capability"
	"github.com/tokenscope/tokenscope/internal/report"
)

type explainOptions struct {
	io      *IO
	Version string
}

func newExplainCmd(io *IO, runF func(*explainOptions) error) *cobra.Command {
	opts := &explainOptions{io: io}
	cmd := &cobra.Command{
		Use:   "explain",
		Short: "Explain the job token model: legacy access vs the allowlist, and what a GitLab version has",
		Long: `Explain prints what a CI_JOB_TOKEN can reach, the legacy permissive behaviour,
the inbound allowlist and the gap it closes. With --gitlab-version V it then says
what V has and lacks (group entries, authentication log, instance enforcement,
autopopulation, fine-grained policies, job-token push, the outbound scope), the
names of the settings in V and what must be switched on first (the feature flag of
the 17.10 experiment, the top-level group setting of the 18.0 beta); for a version
before the allowlist (15.9), what to upgrade to. Without it, the whole timeline.`,
		Example: `  tokenscope explain
  tokenscope explain --gitlab-version 17.8`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return explainRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Version, "gitlab-version", "", "GitLab `version` (MAJOR.MINOR) to describe")
	return cmd
}

func explainRun(opts *explainOptions) error {
	var v capability.Version
	if opts.Version != "" {
		var err error
		if v, err = capability.ParseVersion(opts.Version); err != nil {
			return &UsageError{Err: err}
		}
	}
	return report.Capabilities(opts.io.Out, v, "give --gitlab-version V for what one version has and lacks")
}
