package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tokenscope/tokenscope/internal/apply"
)

// Exit codes (docs/design.md §2).
const (
	ExitOK       = 0
	ExitError    = 1
	ExitUsage    = 2
	ExitFindings = 3
)

// UsageError is a mistake in how the command was called; the usage hint is
// printed after the message.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// usageErrorf builds a UsageError.
func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ErrFindings means the command ran and found something the user asked to
// be told about by exit code (drift, unapproved access, would-break); the
// output already says what.
var ErrFindings = errors.New("findings")

// exitCode classifies err; it is the only place that does (Main prints
// the usage hint for ExitUsage).
func exitCode(err error) int {
	var ue *UsageError
	var partial *apply.PartialError
	var undo *apply.RollbackFailedError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrFindings):
		return ExitFindings
	case errors.As(err, &partial), errors.As(err, &undo) && undo.Partial:
		// apply (or its rollback) made some changes but not all
		// (docs/design.md §2: 3).
		return ExitFindings
	case errors.As(err, &ue), isCobraUsageError(err.Error()):
		return ExitUsage
	case errors.Is(err, context.Canceled):
		return ExitError
	default:
		return ExitError
	}
}

// isCobraUsageError recognises cobra's own mistakes-in-the-call errors
// (unknown commands, wrong argument counts), which it returns as plain
// errors; flag errors already come wrapped by the root's flag error func.
func isCobraUsageError(msg string) bool {
	return strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") || strings.Contains(msg, "accepts ") ||
		strings.HasPrefix(msg, "requires at least")
}
