package cli

import "github.com/tokenscope/tokenscope/internal/nearest"

// suggest returns the known names nearest to name (nearest.Names).
func suggest(name string, known []string) []string { return nearest.Names(name, known) }

// didYouMean words suggest's answer as the end of an error message: "" when
// nothing is near.
func didYouMean(name string, known []string) string { return nearest.DidYouMean(name, known) }
