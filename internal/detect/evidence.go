package detect

import (
	"strconv"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/loc"
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
		Evidence: use.Evidence{Pos: c.Pos, Job: in.jobName(), Detail: Detail(detail)},
	}
}

// UseAtPos builds a use found at a YAML position (image:, needs:, variables:).
func (in *Input) UseAtPos(p loc.Pos, k access.Kind, t use.Target, detail string) use.Use {
	return use.Use{
		Origin: use.CIConfig, Access: k, Caller: in.Caller.Path, Target: t,
		Evidence: use.Evidence{Pos: p, Job: in.jobName(), Detail: Detail(detail)},
	}
}

// UseInFile builds a use found in a repository file of the caller.
func (in *Input) UseInFile(file string, line int, k access.Kind, t use.Target, detail string) use.Use {
	return use.Use{
		Origin: use.CIConfig, Access: k, Caller: in.Caller.Path, Target: t,
		Evidence: use.Evidence{Pos: loc.Pos{Project: in.Caller.Path, File: file, Line: line}, Job: in.jobName(), Detail: Detail(detail)},
	}
}

// NoteAt builds a note about a command. A command of another project's
// template (an include) is noted in that project's file, with the caller
// as the pipeline that runs it, as its uses are.
func (in *Input) NoteAt(c *shell.Command, k use.NoteKind, detail string) use.Note {
	return in.NoteAtPos(c.Pos, k, detail)
}

// NoteAtPos builds a note about a YAML position (in the caller's file, or
// an included file of another project).
func (in *Input) NoteAtPos(p loc.Pos, k use.NoteKind, detail string) use.Note {
	n := in.noteInFile(p.File, p.Line, k, detail)
	if p.Project != "" {
		n.Project = p.Project
		n.Caller = use.CallerOf(p.Project, in.Caller.Path)
	}
	return n
}

// detailVia is the evidence detail for a command with a note on where its
// credential comes from; the command text is shortened first so that the
// note survives Detail's bound.
func detailVia(text, via string) string {
	if via == "" {
		return text
	}
	text = strings.Join(strings.Fields(text), " ")
	room := maxDetail - len(via) - 3
	if room < 40 {
		room = 40
	}
	if len(text) > room {
		text = text[:room-3] + "..."
	}
	return text + " (" + via + ")"
}

// at renders a position for evidence details.
func at(p loc.Pos) string {
	if p.File == "" {
		return ""
	}
	return loc.Pos{File: p.File, Line: p.Line}.Place()
}

func itoa(n int) string { return strconv.Itoa(n) }

// noteInFile builds a note about a line of a repository file of the caller.
func (in *Input) noteInFile(file string, line int, k use.NoteKind, detail string) use.Note {
	return use.Note{Pos: loc.Pos{Project: in.Caller.Path, File: file, Line: line}, Job: in.jobName(), Kind: k, Detail: Detail(detail)}
}

// cmdLine is the command as written with its redirections ("cat >
// ~/.netrc <<'EOF'"), for notes about what a command writes.
func cmdLine(c *shell.Command) string {
	parts := []string{CommandText(c)}
	for _, r := range c.Redirects {
		parts = append(parts, r.Op+" "+r.Target.Raw)
	}
	return strings.Join(parts, " ")
}

// site is where a use or note is reported: a command, a YAML position
// (variables:, image:), or a line of a repository file (a .gitmodules
// entry, a Dockerfile FROM, an .npmrc line). project is the file's
// project ("" = the caller).
type site struct {
	c       *shell.Command
	yaml    *loc.Pos
	file    string
	line    int
	project string
}

func cmdSite(c *shell.Command) site       { return site{c: c} }
func yamlSite(p loc.Pos) site             { return site{yaml: &p} }
func fileSite(file string, line int) site { return site{file: file, line: line} }

// useAtSite builds a use reported at s.
func (in *Input) useAtSite(s site, k access.Kind, t use.Target, detail string) use.Use {
	switch {
	case s.file == "" && s.c != nil:
		return in.UseAt(s.c, k, t, detail)
	case s.file == "" && s.yaml != nil:
		return in.UseAtPos(*s.yaml, k, t, detail)
	}
	u := in.UseInFile(s.file, s.line, k, t, detail)
	if s.project != "" {
		u.Evidence.Project = s.project
	}
	return u
}

// noteAtSite builds a note reported at s.
func (in *Input) noteAtSite(s site, kind use.NoteKind, detail string) use.Note {
	switch {
	case s.file == "" && s.c != nil:
		return in.NoteAt(s.c, kind, detail)
	case s.file == "" && s.yaml != nil:
		return in.NoteAtPos(*s.yaml, kind, detail)
	}
	n := in.noteInFile(s.file, s.line, kind, detail)
	if s.project != "" && s.project != in.Caller.Path {
		n.Detail = Detail(s.project + "/" + s.file + ": " + detail)
	}
	return n
}
