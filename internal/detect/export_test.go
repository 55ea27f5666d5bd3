package detect

// For the detector table tests of package detect_test.

type MemFiles = memFiles

// Family is one detector family run alone.
var Family = family

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
