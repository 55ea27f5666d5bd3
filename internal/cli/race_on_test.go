//go:build race

package cli

// raceDetector is set under -race: the tests that drive external tools
// (node, Chromium) skip then; the detector checks Go code, and those tests
// would run five times slower for nothing.
const raceDetector = true
