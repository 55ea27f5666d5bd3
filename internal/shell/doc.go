// Package shell reads the shell scripts of CI jobs with mvdan.cc/sh: it
// finds every simple command a script runs (in pipelines, lists, subshells,
// loops, called functions and script files the job runs) and expands each
// word with the job's variables as the shell would, keeping what cannot be
// known visible instead of guessing.
//
// The analysis is a small abstract interpreter over the syntax tree, not
// a shell: nothing is executed. Where the shell's behaviour depends on
// run time (which branch of an if runs, how many lines a file has) it
// follows the rules documented on Analyze. A value that cannot be known
// stays in the text as ${NAME} or $(...) and its name is listed in
// Word.Unknown, so that detectors can tell "this URL names project X"
// from "this URL names some project".
//
// Environments are layered: every Command keeps the layer current when
// it ran, and later assignments open a new small layer on top instead of
// copying the environment; long chains are flattened.
//
// Files: analyze.go (entry, sessions, positions), walk.go (control flow
// and branch merging), run.go (simple commands, assignments, builtins,
// function calls), expand.go, param.go, arith.go, match.go (word
// expansion), subst.go and filters.go ($(...) output), files.go (script
// files, eval, bash -c), env.go (layered environment), cache.go (shared
// parse cache), expandvars.go (runner-style $VAR expansion), word.go (one
// word outside any script), alts.go (the values branches leave in a
// variable), written.go (scripts the job writes, then runs), make.go (make
// TARGET recipes), powershell.go (PowerShell jobs, read by a scanner).
package shell
