package detect

import (
	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/use"
)

// Helpers shared by the API and package-manager detectors: option parsing,
// launcher unwrapping, files written by a job, variable origins.

// useFor builds a use at the place a setting was made.
func (in *Input) useFor(s setting, k access.Kind, t use.Target, detail string) use.Use {
	if s.Cmd != nil {
		return in.UseAt(s.Cmd, k, t, detail)
	}
	return in.UseAtPos(s.Var.Pos, k, t, detail)
}

// noteFor builds a note at the place a setting was made.
func (in *Input) noteFor(s setting, k use.NoteKind, detail string) use.Note {
	if s.Cmd != nil {
		return in.NoteAt(s.Cmd, k, detail)
	}
	return in.NoteAtPos(s.Var.Pos, k, detail)
}
