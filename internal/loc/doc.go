// Package loc is the one way tokenscope names a place in a project's
// files, shared by every stage that reports where something was found.
package loc
