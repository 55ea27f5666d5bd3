// Package limits is the one list of the named bounds tokenscope puts on the
// work a repository, an inventory or a job log may cause: each with its
// name, default, unit and what it bounds, whether --limit NAME=VALUE may
// raise it, and the words a message uses to say how.
package limits
