package shell

import "github.com/tokenscope/tokenscope/internal/diag"

// Source is one piece of script text to analyse, with its place.
type Source struct {
	Text string
	Pos  Pos // where Text starts
	// LineStep is 1 when each line of Text is a line of the file, 0 when
	// the text was folded from several lines (all lines map to Pos.Line).
	LineStep int
	Section  string
}

// Options configure Analyze.
type Options struct {
	// ReadFile reads a file of the caller project (script files run by the
	// job: ./ci/x.sh, bash scripts/y.sh, source env.sh). Nil: not followed.
	ReadFile func(name string) ([]byte, error)
	// MaxFileDepth bounds script files running script files (default 8).
	MaxFileDepth int
	// MaxCommands bounds the commands returned (default 100000), against
	// hostile input.
	MaxCommands int
}

// Result is what Analyze found.
type Result struct {
	Commands []*Command // in run order
	Diags    diag.List
}

// Analyze parses the sources as one shell session (before_script and
// script share a shell), expands every word with env and the assignments
// seen so far, and returns the commands that run. Comments, function
// bodies that are never called, and code after exit are skipped.
func Analyze(sources []Source, env Env, opts Options) Result {
	// TODO(shell): implemented by the shell work package.
	return Result{}
}

// ExpandVars expands $VAR and ${VAR} the way the GitLab runner expands
// variable values and image names (one pass, no shell syntax); unknown
// variables are kept as written and listed in Unknown.
func ExpandVars(s string, env Env) Word {
	// TODO(shell): implemented by the shell work package.
	return Word{Raw: s, Value: s}
}
