//go:build !race

package ciconfig

const raceSlowdown = 1
