// Package planfile holds the plan JSON document of `tokenscope plan
// --format json`: the wire types that report writes, and Read, which
// reads a document back and refuses a format version it does not know.
package planfile
