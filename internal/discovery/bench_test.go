package discovery

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/inventory"
	"github.com/tokenscope/tokenscope/internal/orggen"
)

// BenchmarkScan10k scans a generated org of 10,000 projects (about two
// thirds with cross-project access, a realistic mix of patterns) from disk:
// loading the snapshot, CI resolution, shell analysis, detectors and graph.
// Run: go test -run '^$' -bench Scan10k -benchtime 1x ./internal/discovery
// It reports wall time per scan and the process's peak resident memory.
func BenchmarkScan10k(b *testing.B) {
	n := 10000
	if s := os.Getenv("TOKENSCOPE_BENCH_PROJECTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	dir := b.TempDir()
	st, err := orggen.Write(dir, orggen.Options{Projects: n, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d projects, %d files, %d bytes", st.Projects, st.Files, st.Bytes)
	b.ResetTimer()
	var edges int
	for b.Loop() {
		snap, _, err := inventory.Load(dir, inventory.LoadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		start, cpu := time.Now(), cpuTime()
		g, _, err := Scan(context.Background(), snap, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "scan-ms")
		// CPU time too: on a shared machine wall time measures the
		// neighbours (cpuTime: heavy_bench_test.go).
		b.ReportMetric(float64((cpuTime() - cpu).Milliseconds()), "scan-cpu-ms")
		edges = len(g.Edges)
		snap.Close()
	}
	b.ReportMetric(float64(edges), "edges")
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
}

// peakRSSMiB reads the process's high-water resident set size (Linux).
func peakRSSMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return float64(kb) / 1024
		}
	}
	return 0
}
