// Package shell reads the shell scripts of CI jobs with mvdan.cc/sh: it
// finds every simple command a script runs (in pipelines, lists, subshells,
// loops, called functions and script files the job runs) and expands each
// word with the job's variables as the shell would, keeping what cannot be
// known visible instead of guessing.
package shell
