package detect

import (
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/ciconfig"
	"github.com/tokenscope/tokenscope/internal/redact"
	"github.com/tokenscope/tokenscope/internal/shell"
	"github.com/tokenscope/tokenscope/internal/use"
)

// maxDetail bounds evidence text: a reviewer needs the command, not a
// 10 kB heredoc.
const maxDetail = 240

// jobName is the job (and variant) for evidence.
func (in *Input) jobName() string {
	if in.Job == nil {
		return ""
	}
	switch {
	case strings.HasPrefix(in.Variant, in.Job.Name+": ["):
		// parallel:matrix variants are named like GitLab names the jobs.
		return in.Variant
	case in.Variant != "":
		return in.Job.Name + " [" + in.Variant + "]"
	}
	return in.Job.Name
}

// Detail makes evidence text safe and short: secrets masked, whitespace
// folded, length bounded.
func Detail(s string) string {
	s = redact.String(strings.Join(strings.Fields(s), " "))
	if len(s) > maxDetail {
		s = s[:maxDetail-3] + "..."
	}
	return s
}

// CommandText is the command as written (raw words), for evidence.
func CommandText(c *shell.Command) string {
	parts := make([]string, 0, len(c.Args))
	for _, a := range c.Args {
		parts = append(parts, a.Raw)
	}
	return strings.Join(parts, " ")
}

// UseAt builds a use found in a command.
func (in *Input) UseAt(c *shell.Command, k access.Kind, t use.Target, detail string) use.Use {
	return use.Use{
		Origin: use.CIConfig, Access: k, Caller: in.Caller.Path, Target: t,
		Evidence: use.Evidence{Project: c.Pos.Project, File: c.Pos.File, Line: c.Pos.Line, Job: in.jobName(), Detail: Detail(detail)},
	}
}

// UseAtPos builds a use found at a YAML position (image:, needs:, variables:).
func (in *Input) UseAtPos(p ciconfig.Pos, k access.Kind, t use.Target, detail string) use.Use {
	return use.Use{
		Origin: use.CIConfig, Access: k, Caller: in.Caller.Path, Target: t,
		Evidence: use.Evidence{Project: p.Project, File: p.File, Line: p.Line, Job: in.jobName(), Detail: Detail(detail)},
	}
}

// UseInFile builds a use found in a repository file of the caller.
func (in *Input) UseInFile(file string, line int, k access.Kind, t use.Target, detail string) use.Use {
	return use.Use{
		Origin: use.CIConfig, Access: k, Caller: in.Caller.Path, Target: t,
		Evidence: use.Evidence{Project: in.Caller.Path, File: file, Line: line, Job: in.jobName(), Detail: Detail(detail)},
	}
}

// NoteAt builds a note about a command.
func (in *Input) NoteAt(c *shell.Command, k use.NoteKind, detail string) use.Note {
	return use.Note{Project: in.Caller.Path, File: c.Pos.File, Line: c.Pos.Line, Job: in.jobName(), Kind: k, Detail: Detail(detail)}
}

// NoteAtPos builds a note about a YAML position.
func (in *Input) NoteAtPos(p ciconfig.Pos, k use.NoteKind, detail string) use.Note {
	return use.Note{Project: in.Caller.Path, File: p.File, Line: p.Line, Job: in.jobName(), Kind: k, Detail: Detail(detail)}
}
