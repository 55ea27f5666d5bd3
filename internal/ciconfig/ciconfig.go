package ciconfig

import (
	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/limits"
	"github.com/tokenscope/tokenscope/internal/loc"
)

// Script is one flattened item of a job's script array. Text may hold
// several lines (a block scalar) or one folded line.
type Script struct {
	Text string
	Pos  loc.Pos // the line where Text starts in the file
	// LineStep is 1 when each line of Text is one line of the file (a
	// literal block scalar or a plain single line), 0 when lines of the file
	// were folded together (folded block, multi-line plain or quoted scalar),
	// so that every line of Text maps to Pos.Line.
	LineStep int
}

// Line returns the file line of the i-th (0-based) line of Text.
func (s Script) Line(i int) int { return s.Pos.Line + i*s.LineStep }

// Variable is one CI/CD variable defined in YAML.
type Variable struct {
	Name  string
	Value string // as GitLab turns the YAML scalar into a string (Psych + to_s)
	Raw   bool   // expand: false: no $VAR expansion of the value
	Pos   loc.Pos
}

// Image is an image: or services: entry.
type Image struct {
	Name string // after YAML, before variable expansion
	Pos  loc.Pos
}

// Need is one needs:project entry (cross-project artifacts).
type Need struct {
	Project   string // as written; may hold variables
	Job       string
	Ref       string
	Artifacts bool // artifacts: true (the default)
	Pos       loc.Pos
}

// Variant is one alternative set of variables under which a job can run:
// a parallel:matrix combination, or a rules:/workflow:rules: entry with
// variables. Its variables override the job's.
type Variant struct {
	Name      string // e.g. "build: [amd64, linux]" or "rules[2]"
	Variables []Variable
}

// Job is one visible job after includes, extends, !reference, default:
// and inherit: have been applied.
type Job struct {
	Name string
	Pos  loc.Pos // the line of the job's key in the file that defines it
	// Image and Services are the effective (defaulted) entries.
	Image    *Image
	Services []Image
	// The script sections, flattened, in run order.
	PreGetSources []Script // hooks:pre_get_sources_script
	BeforeScript  []Script
	Script        []Script
	AfterScript   []Script // runs in a separate shell
	// Variables are the job's effective YAML variables: the global ones
	// (filtered by inherit:variables) overridden by the job's own, sorted
	// by name. Predefined variables are not included.
	Variables []Variable
	// Variants lists alternative variable sets (rules:variables,
	// workflow:rules:variables, parallel:matrix); empty when there are none.
	Variants []Variant
	// Matrix is the number of parallel:matrix combinations at the start of
	// Variants. A matrix job runs only as those combinations, never with
	// its own variables alone.
	Matrix int
	Needs  []Need // needs:project entries only
	// Never: every entry of the job's rules: ends in when: never, so GitLab
	// never creates the job whatever the pipeline's values. Rules whose
	// outcome depends on run-time values leave it false.
	Never bool
	// Trigger is set for bridge jobs (trigger:); they run no script.
	Trigger *Trigger
}

// Trigger is a bridge job's trigger:.
type Trigger struct {
	Project string // multi-project pipeline target; "" for a child pipeline
	Branch  string
	// Child names the files of a child pipeline (trigger:include), whose
	// jobs are among the configuration's jobs, named ChildJobName(trigger
	// job, job).
	Child string
	Pos   loc.Pos
}

// Config is a project's effective CI configuration.
type Config struct {
	Project string
	File    string // the root configuration file
	// Missing reports that the root file does not exist (a project without
	// CI/CD configuration); the result is then empty and has no diagnostic.
	Missing bool
	Jobs    []Job // sorted by name
	// Notes are things worth saying that are not edges: include:project
	// and component includes (resolved with the pipeline user's rights, not
	// the job token), remote and template includes (not fetched offline),
	// trigger: jobs.
	Notes []Note
	// Diags are problems with the configuration. An error diagnostic means
	// the configuration (or part of it) could not be read; Jobs then holds
	// what could be.
	Diags diag.List
}

// NoteKind classifies notes.
type NoteKind string

// Note kinds. They say what the configuration does, not what that means
// for the job token: the scan turns them into its own notes.
const (
	// PipelineUser: an entry GitLab resolves with the permissions of the
	// user who runs the pipeline (include:project, include:component,
	// trigger:).
	PipelineUser NoteKind = "pipeline-user"
	// NotFetched: configuration that cannot be read offline (remote,
	// template and artifact includes, files of projects outside the
	// snapshot, dynamic child pipelines).
	NotFetched NoteKind = "not-fetched"
	// NeverRuns: a job whose rules always say when: never.
	NeverRuns NoteKind = "never-runs"
)

// Note is something about the configuration worth saying that is neither
// a job nor a problem with the input. Pos.Project is the loaded project
// even when File is in another project's included file; Detail then names
// that project.
type Note struct {
	loc.Pos
	Job    string // "" for notes about includes
	Kind   NoteKind
	Detail string
}

// Limits bound the work a configuration may cause. The defaults mirror
// GitLab's own limits (https://docs.gitlab.com/ci/yaml/includes/, https://docs.gitlab.com/administration/instance_limits/).
type Limits struct {
	MaxIncludes       int   // includes per pipeline, nested and duplicates counted (150)
	MaxIncludeDepth   int   // nesting of includes (GitLab: 100; any deeper is a cycle)
	MaxExtendsDepth   int   // ancestors in extends (10)
	MaxReferenceDepth int   // nested !reference (10)
	MaxNodes          int   // expanded YAML nodes per file, against alias bombs (1e6)
	MaxDepth          int   // YAML nesting depth (100)
	MaxTotalBytes     int64 // all included content together (150 × 2 MB)
	// Bounds of tokenscope's own (internal/limits):
	MaxInterpolatedBytes int64 // one file after spec:inputs interpolation (8 MiB)
	MaxChildPipelines    int   // child pipelines one Load expands (100)
	MaxMatrixVariants    int   // parallel:matrix combinations analysed per job (64)
}

// DefaultLimits are GitLab's defaults, as internal/limits lists them
// (the ones --limit raises, and the fixed ones).
var DefaultLimits = Limits{
	MaxIncludes:          int(limits.Default(limits.Includes)),
	MaxIncludeDepth:      int(limits.Default(limits.IncludeDepth)),
	MaxExtendsDepth:      int(limits.Default(limits.ExtendsDepth)),
	MaxReferenceDepth:    int(limits.Default(limits.ReferenceDepth)),
	MaxNodes:             int(limits.Default(limits.YAMLNodes)),
	MaxDepth:             int(limits.Default(limits.YAMLDepth)),
	MaxTotalBytes:        limits.Default(limits.ConfigBytes),
	MaxInterpolatedBytes: limits.Default(limits.InterpolatedBytes),
	MaxChildPipelines:    int(limits.Default(limits.ChildPipelines)),
	MaxMatrixVariants:    int(limits.Default(limits.MatrixVariants)),
}

// Options configure Load.
type Options struct {
	// Files reads the repository files of this and other projects
	// (include:local, include:project, component).
	Files inventory.Files
	// Vars are the variables usable in include: entries (predefined
	// project variables such as CI_PROJECT_PATH, CI_SERVER_FQDN).
	Vars map[string]string
	// Limits; zero fields take DefaultLimits.
	Limits Limits
	// Cache, when set, shares parsed included files between projects (many
	// projects include the same templates). Safe for concurrent use.
	Cache *Cache
}
