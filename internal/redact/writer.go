package redact

import (
	"bytes"
	"io"
)

// maxPending bounds how much of an unfinished line Writer holds: past it
// the text up to its last blank is masked and written, so a line of any
// length costs bounded memory (a secret is one word, never split at a
// blank).
const maxPending = 1 << 20

// Writer masks every line written through it with String before passing
// it on, so that nothing a command prints or writes carries a secret,
// whichever code path produced the text. Lines end at '\n' or '\r' (the
// progress line redraws with '\r'); Flush writes an unfinished last line.
type Writer struct {
	w       io.Writer
	pending []byte
	err     error
}

// NewWriter returns a Writer that masks what it passes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write masks and writes every complete line of p, keeping the rest for
// the next Write or Flush. It reports len(p) written unless w failed.
func (r *Writer) Write(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexAny(p, "\n\r")
		if i < 0 {
			r.pending = append(r.pending, p...)
			if len(r.pending) > maxPending {
				cut := bytes.LastIndexAny(r.pending, " \t")
				if cut < 0 {
					cut = len(r.pending) - 1
				}
				r.emit(r.pending[:cut+1])
				r.pending = append(r.pending[:0], r.pending[cut+1:]...)
			}
			break
		}
		r.pending = append(r.pending, p[:i+1]...)
		p = p[i+1:]
		r.emit(r.pending)
		r.pending = r.pending[:0]
	}
	if r.err != nil {
		return 0, r.err
	}
	return n, nil
}

func (r *Writer) emit(line []byte) {
	if r.err != nil {
		return
	}
	_, r.err = io.WriteString(r.w, String(string(line)))
}

// Flush masks and writes the unfinished last line, if any.
func (r *Writer) Flush() error {
	if len(r.pending) > 0 {
		r.emit(r.pending)
		r.pending = r.pending[:0]
	}
	return r.err
}

// Masking wraps render so that what it writes reaches its writer masked.
func Masking(render func(io.Writer) error) func(io.Writer) error {
	return func(w io.Writer) error {
		rw := NewWriter(w)
		if err := render(rw); err != nil {
			return err
		}
		return rw.Flush()
	}
}
