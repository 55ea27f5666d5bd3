package detect

// For the detector table tests of package detect_test.

type MemFiles = memFiles

var (
	TestServer           = testServer
	TestServerNoRegistry = testServerNoRegistry
)

// Command and job fixtures of apps/web, for the benchmarks.
var (
	CmdAt    = cmdAt
	Word     = wd
	NewInput = testInput
)
