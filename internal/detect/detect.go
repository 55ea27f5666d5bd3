package detect

import (
	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Input is what a detector looks at: one job of the caller project (or,
// when Job is nil, the caller's repository files outside any job).
type Input struct {
	Caller *inventory.Project
	Server inventory.Server
	// Job is the job under analysis; nil for repository-level detection.
	Job *ciconfig.Job
	// Variant names the variable set in use ("" for the job's own), for
	// evidence.
	Variant string
	// Env is the job's environment before its scripts run: predefined
	// variables and the job's YAML variables, expanded as the runner does.
	Env shell.Env
	// Commands are the commands the job runs, in order: pre_get_sources,
	// before_script + script, after_script, with script files followed.
	Commands []*shell.Command
	// Files reads repository files of the caller (and of other projects in
	// the snapshot).
	Files inventory.Files
	// YAMLRead, when set, is told the name of each YAML variable whose
	// definition (raw value and place) a detector consults, beyond its
	// value through Env: a caller that shares one detector run between
	// variable sets compares the places of those variables only.
	YAMLRead func(name string)
}

// Output collects what detectors find. Detectors append; they never sort.
type Output struct {
	Uses  []use.Use
	Notes []use.Note
}

// Detector finds one family of job-token accesses.
type Detector interface {
	// Name is the family ("git", "registry", "api", ...), for tests and
	// debugging.
	Name() string
	// Detect appends what it finds in in to out. It must not modify in.
	Detect(in *Input, out *Output)
}

// All returns every detector, one per access family.
func All() []Detector {
	return []Detector{
		// One replay of the job's commands for the families that follow
		// it command by command.
		replay(replayedFamilies()),
		apiDetector{}, needsDetector{}, npmDetector{}, pipDetector{}, mavenDetector{},
		helmDetector{}, terraformDetector{}, tokensDetector{},
		scriptDetector{},
		nugetDetector{}, composerDetector{},
	}
}

// family returns the detector of one family ("git", "registry", "api",
// ...) run alone, for the family tables; nil when there is none. All runs
// the replayed families together in one replay instead.
func family(name string) Detector {
	for _, f := range replayedFamilies() {
		if f.Name() == name {
			return replay{f}
		}
	}
	for _, d := range All() {
		if d.Name() == name {
			return d
		}
	}
	return nil
}
