package detect

// The one replay of a job's commands that the families following a job
// command by command (git, submodules, registry, image builds) share.

import (
	"strings"

	"github.com/tokenscope/tokenscope/internal/shell"
)

// replayed is a family that follows a job command by command. Each keeps
// its own state for the job (what start returns closes over it); the
// state every family reads, what earlier commands left behind, is the
// jobState the replay updates after each command.
type replayed interface {
	Name() string
	// start begins the family's pass over one job and reports what it
	// finds outside the commands (YAML keys, the runner's own fetches) to
	// out. It returns the step run for each command with the state before
	// the command runs, or nil when the family follows no command.
	start(in *Input, out *Output) func(c *shell.Command, st *jobState)
	// stateNotes is the family of the notes raised while updating the
	// state ("git", "registry") that this family reports, or "".
	stateNotes() string
}

// replay runs families over one replay of the job. What each family
// finds is appended to the output family by family, in the order given,
// so the output is what separate passes would give.
type replay []replayed

// replayedFamilies returns the families that follow a job command by
// command, in the order their findings are reported.
func replayedFamilies() []replayed {
	return []replayed{gitDetector{}, submoduleDetector{}, registryDetector{}, dockerfileDetector{}}
}

// Name implements Detector.
func (r replay) Name() string {
	names := make([]string, len(r))
	for i, f := range r {
		names[i] = f.Name()
	}
	return strings.Join(names, "+")
}

// Detect implements Detector.
func (r replay) Detect(in *Input, out *Output) {
	if in.Job == nil || in.Job.Trigger != nil {
		return
	}
	bufs := make([]Output, len(r))
	var steps []func(c *shell.Command, st *jobState)
	for i, f := range r {
		if step := f.start(in, &bufs[i]); step != nil {
			steps = append(steps, step)
		}
	}
	var notes []stateNote
	if len(steps) > 0 {
		notes = walkJob(in, func(c *shell.Command, st *jobState) {
			for _, step := range steps {
				step(c, st)
			}
		})
	}
	for i, f := range r {
		out.Uses = append(out.Uses, bufs[i].Uses...)
		out.Notes = append(out.Notes, bufs[i].Notes...)
		if fam := f.stateNotes(); fam != "" {
			keepNotes(out, notes, fam)
		}
	}
}
