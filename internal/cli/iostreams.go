package cli

import (
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// IO is the process's streams and environment, injected so that commands
// are testable without a process: tests pass buffers and a fixed clock.
type IO struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	OutTTY bool // stdout is a terminal
	ErrTTY bool // stderr is a terminal (progress goes there)
	Getenv func(string) string
	Now    func() time.Time
}

// System returns the real streams.
func System() *IO {
	return &IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		Getenv: os.Getenv,
		Now:    time.Now,
	}
}
