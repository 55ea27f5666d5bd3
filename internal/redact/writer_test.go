package redact

import (
	"bytes"
	"strings"
	"testing"
)

// A secret split across writes is still masked; text without secrets
// passes unchanged; the unfinished last line is written by Flush.
func TestWriter(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	for _, chunk := range []string{"clone https://bot:s3cr", "etvalue@h/x.git\nplain line\r", "progress 1/2\rlast glpat-abcdef", "ghijklmnop"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "clone https://bot:[MASKED]@h/x.git\nplain line\rprogress 1/2\rlast [MASKED]"
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out.String(), want)
	}
}

// A line longer than the bound is written in pieces cut at blanks, the
// secrets in it masked, with bounded memory.
func TestWriterLongLine(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	word := "token=glpat-abcdefghijklmnopqrst "
	for range (3 * maxPending) / len(word) {
		if _, err := w.Write([]byte(word)); err != nil {
			t.Fatal(err)
		}
		if len(w.pending) > maxPending+len(word) {
			t.Fatalf("holding %d bytes", len(w.pending))
		}
	}
	w.Flush()
	if strings.Contains(out.String(), "glpat-") {
		t.Error("a secret survived")
	}
}
