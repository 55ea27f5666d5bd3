package shell

import (
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"
)

func BenchmarkParseOnly(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		p := syntax.NewParser(syntax.Variant(syntax.LangBash))
		for _, s := range benchSources {
			p.Parse(strings.NewReader(s.Text), "x")
		}
	}
}
