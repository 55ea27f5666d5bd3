//go:build race

package ciconfig

// The race detector slows code down several times; time bounds scale.
const raceSlowdown = 8
