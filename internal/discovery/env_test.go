package discovery

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tokenscope/tokenscope/internal/ciconfig"
)

// TestJobEnvBillionLaughs: V1 names V0 ten times, V2 names V1 ten times,
// ... so V29 would be 10^31 bytes. Nested expansion must stay bounded
// (shell.ExpandVars keeps an over-long value unexpanded and unknown).
func TestJobEnvBillionLaughs(t *testing.T) {
	vars := []ciconfig.Variable{{Name: "V0", Value: "xxxxxxxxxx"}}
	for i := 1; i < 30; i++ {
		vars = append(vars, ciconfig.Variable{Name: fmt.Sprintf("V%d", i), Value: strings.Repeat(fmt.Sprintf("$V%d", i-1), 10)})
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	env := JobEnv(nil, vars, nil)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	t.Logf("30-link chain: %v, %d KiB allocated", elapsed, (after.TotalAlloc-before.TotalAlloc)>>10)
	if elapsed > 2*time.Second {
		t.Errorf("took %v", elapsed)
	}
	total := 0
	for _, v := range env {
		total += len(v)
	}
	if total > 30<<16 {
		t.Errorf("environment holds %d bytes", total)
	}
	if got := env["V4"]; !strings.HasPrefix(got, strings.Repeat("x", 60_000)+"$V3") {
		t.Errorf("V4 = %.40q…; want what fits expanded, then the references as written", got)
	}
	if got := env["V2"]; got != strings.Repeat("x", 1000) {
		t.Errorf("V2 = %.40q…; short values must still expand", got)
	}
	if got := env["V29"]; !strings.Contains(got, "$V28") {
		t.Errorf("V29 = %.40q…; want the references kept as written", got)
	}
}
