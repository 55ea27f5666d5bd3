package shell

import (
	"path"
	"strings"

	"github.com/tokenscope/tokenscope/internal/loc"
)

// Env is a read-only view of the variables visible at one point of a
// script. Implementations must be safe for concurrent reads.
type Env interface {
	// Get returns the value of name and whether it is set.
	Get(name string) (string, bool)
}

// MapEnv is an Env over a plain map.
type MapEnv map[string]string

// Get implements Env.
func (m MapEnv) Get(name string) (string, bool) {
	v, ok := m[name]
	return v, ok
}

// Word is one shell word after expansion.
type Word struct {
	// Raw is the word as written in the source (quotes included), used as
	// evidence: it never holds a secret the source did not hold.
	Raw string
	// Value is the expanded word. Parts that could not be expanded (unset
	// variables, command substitutions) are kept in the form "${NAME}" or
	// "$(...)", and listed in Unknown.
	Value string
	// Unknown names the variables (or "$(...)" for a command substitution)
	// whose value could not be known; nil when Value is complete.
	Unknown []string
}

// Known reports whether Value is fully expanded.
func (w Word) Known() bool { return len(w.Unknown) == 0 }

// Redirect is one redirection of a command.
type Redirect struct {
	Op string // ">", ">>", "<", "<<", "<<-", "<<<", ">&", "&>", ...
	// N is the file descriptor written before Op ("2" in 2>&1); "" when
	// none (then > is stdout and < is stdin).
	N      string
	Target Word // file name, fd (>&2), here-document delimiter, or here-string
	// Heredoc is the body of a here-document: expanded unless the
	// delimiter is quoted (then Value == Raw and Unknown is nil). With <<-
	// the leading tabs are already removed from both Raw and Value.
	Heredoc *Word
}

// Command is one simple command the script runs, with its words expanded
// as the shell would at that point.
type Command struct {
	Args      []Word          // Args[0] is the command name; never empty
	Assigns   map[string]Word // FOO=bar prefix assignments
	Redirects []Redirect
	// Stdin is the command whose output feeds this one through a pipe
	// ("echo $T | docker login --password-stdin"); nil otherwise.
	Stdin *Command
	// Env is the environment when the command runs (job variables, earlier
	// assignments and exports, prefix assignments).
	Env Env
	Pos loc.Pos
	// Section is the script section ("before_script", "script",
	// "after_script", "pre_get_sources_script") or the script file that
	// holds the command.
	Section string
	// Base is BaseName(Args[0].Value), computed once: every detector asks
	// which command runs, for every command of every job.
	Base string
}

// BaseName is a command name without directory and Windows suffix, lower
// case: "/usr/bin/curl" and "curl.exe" are both "curl".
func BaseName(name string) string {
	// Fast path: most names are plain lower-case words ("curl", "npm").
	plain := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '/' || c == '\\' || c == '.' || c >= 'A' && c <= 'Z' || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return name
	}
	b := strings.ToLower(path.Base(strings.ReplaceAll(name, `\`, "/")))
	for _, suf := range []string{".exe", ".cmd", ".bat"} {
		b = strings.TrimSuffix(b, suf)
	}
	return b
}

// Name returns the command name (Args[0].Value).
func (c *Command) Name() string {
	if len(c.Args) == 0 {
		return ""
	}
	return c.Args[0].Value
}
