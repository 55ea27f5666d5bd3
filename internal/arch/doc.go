// Package arch holds no code: its test keeps every package's imports along
// the data flow drawn in [docs/architecture.md], so that a change importing
// against the flow fails the build rather than a later review.
//
// [docs/architecture.md]: https://github.com/tokenscope/tokenscope/blob/main/docs/architecture.md
package arch
