// Package nearest finds the known names nearest to a mistyped one, for the
// "did you mean" that ends an unknown-name message.
package nearest
