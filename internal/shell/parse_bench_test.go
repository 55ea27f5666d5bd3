package shell

import (
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"
)

func BenchmarkParseOnly(b *testing.B) {
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		p := syntax.NewParser(syntax.Variant(syntax.LangBash))
		for _, s := range benchSources {
			p.Parse(strings.NewReader(s.Text), "x")
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
