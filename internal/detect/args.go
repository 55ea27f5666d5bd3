package detect

import (
	"regexp"
	"strings"

	"github.com/tokenscope/tokenscope/internal/shell"
)

// Reading command lines: which command really runs, under which name,
// and its options and operands.

// cmdBase is a command name without directory and Windows suffix, lower
// case: "/usr/bin/curl" and "curl.exe" are both "curl".
func cmdBase(name string) string { return shell.BaseName(name) }

// isLauncher reports whether a command runs its arguments as a command.
func isLauncher(name string) bool {
	switch name {
	case "sudo", "env", "timeout", "nice", "nohup", "time", "command", "exec", "builtin", "stdbuf", "xargs", "retry":
		return true
	}
	return false
}

// argv returns the words a command really runs: launchers the shell
// layer leaves in place ("xargs -n1", "retry 3", "/usr/bin/sudo -E") are
// skipped, so that "retry 3 curl ..." is analysed as curl. The first word
// is the name.
func argv(c *shell.Command) []shell.Word {
	ws := c.Args
	if len(ws) == 0 {
		// The contract says never empty; a zero word keeps callers safe.
		return []shell.Word{{}}
	}
	for k := range 4 {
		name := c.Base
		if k > 0 || name == "" {
			name = cmdBase(ws[0].Value)
		}
		if len(ws) < 2 || !isLauncher(name) {
			return ws
		}
		i := 1
		for i < len(ws) {
			v := ws[i].Value
			switch {
			case strings.HasPrefix(v, "-"):
				i++
				// Options of sudo/timeout/xargs that take a value.
				if (name == "sudo" && (v == "-u" || v == "-g")) || (name == "timeout" && (v == "-s" || v == "-k")) ||
					(name == "xargs" && (v == "-n" || v == "-I" || v == "-P" || v == "-L" || v == "-d")) || (name == "stdbuf" && len(v) == 2) {
					i++
				}
				continue
			case name == "env" && strings.Contains(v, "=") && !strings.Contains(v, "/"):
				i++
				continue
			case name == "timeout" && isDuration(v):
				i++
				continue
			case name == "retry" && isDigits(v):
				i++
				continue
			}
			break
		}
		if i >= len(ws) {
			return ws
		}
		ws = ws[i:]
	}
	return ws
}

var durationRE = regexp.MustCompile(`^\d+(\.\d+)?[smhd]?$`)

func isDuration(s string) bool { return durationRE.MatchString(s) }

// cmdName is the base name of the command c really runs.
func cmdName(c *shell.Command) string { return nameOf(c, argv(c)) }

// nameOf is the base name of ws[0], where ws are words of c (argv(c),
// maybe advanced past a prefix): c.Base when ws starts at c's name.
func nameOf(c *shell.Command, ws []shell.Word) string {
	if c.Base != "" && len(c.Args) > 0 && len(ws) > 0 && &ws[0] == &c.Args[0] {
		return c.Base
	}
	return cmdBase(ws[0].Value)
}

// words returns the values of ws.
func words(ws []shell.Word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Value
	}
	return out
}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// opts names options by their short letters ("-o" for each letter of
// short) and long names ("--output").
func opts(short string, long ...string) map[string]bool {
	m := make(map[string]bool, len(short)+len(long))
	for i := 0; i < len(short); i++ {
		m["-"+short[i:i+1]] = true
	}
	for _, n := range long {
		m["--"+n] = true
	}
	return m
}

// optSpec says which options of a command take a value.
type optSpec struct {
	value map[string]bool // see opts
	// unknownValue makes every other option take a value too, except the
	// boolean ones: docker run and build have far more value options than
	// flags.
	unknownValue bool
	boolean      map[string]bool
}

func (s optSpec) takesValue(name string) bool {
	if s.value[name] {
		return true
	}
	return s.unknownValue && !s.boolean[name]
}

// opt is one parsed command-line option.
type opt struct {
	name string // "-H", "--header"
	val  shell.Word
	has  bool // a value was given
}

// parsed is a command line split into options and operands.
type parsed struct {
	opts []opt
	pos  []shell.Word
}

// parse splits args (without the command name) the way getopt_long and
// Go's pflag do: "--name value", "--name=value", "-Hvalue", "-H=value",
// clustered flags ("-sSLo file", "-it"); "--" ends the options.
func (s optSpec) parse(args []shell.Word) parsed {
	var p parsed
	for i := 0; i < len(args); i++ {
		w := args[i]
		v := w.Value
		switch {
		case v == "--":
			p.pos = append(p.pos, args[i+1:]...)
			return p
		case strings.HasPrefix(v, "--"):
			name, val, hasEq := strings.Cut(v, "=")
			o := opt{name: name}
			if hasEq {
				o.val, o.has = optValue(w, len(name)+1, val), true
			} else if s.takesValue(name) && i+1 < len(args) {
				i++
				o.val, o.has = args[i], true
			}
			p.opts = append(p.opts, o)
		case strings.HasPrefix(v, "-") && len(v) > 1:
			for j := 1; j < len(v); j++ {
				o := opt{name: "-" + v[j:j+1]}
				if s.takesValue(o.name) {
					if off := j + 1; off < len(v) {
						if v[off] == '=' {
							off++ // pflag's "-f=value"
						}
						o.val, o.has = optValue(w, off, v[off:]), true
					} else if i+1 < len(args) {
						i++
						o.val, o.has = args[i], true
					}
					p.opts = append(p.opts, o)
					break
				}
				p.opts = append(p.opts, o)
			}
		default:
			p.pos = append(p.pos, w)
		}
	}
	return p
}

// optValue is an option's value given in the same word as its name
// ("--data=k=v", "-Hvalue"): val starts at byte offset of w.Value. Raw is
// cut at the same place when it starts with the same text (the option
// name was written plainly), else kept whole: it is only evidence.
func optValue(w shell.Word, offset int, val string) shell.Word {
	raw := w.Raw
	if offset <= len(raw) && raw[:offset] == w.Value[:offset] {
		raw = raw[offset:]
	}
	return shell.Word{Raw: raw, Value: val, Unknown: w.Unknown}
}

// has reports whether any of the named options was given.
func (p parsed) has(names ...string) bool {
	for _, o := range p.opts {
		for _, n := range names {
			if o.name == n {
				return true
			}
		}
	}
	return false
}

// all returns the values of the options with any of the names, in order.
func (p parsed) all(names ...string) []shell.Word {
	var out []shell.Word
	for _, o := range p.opts {
		if !o.has {
			continue
		}
		for _, n := range names {
			if o.name == n {
				out = append(out, o.val)
			}
		}
	}
	return out
}

// last returns the value of the last option with any of the names.
func (p parsed) last(names ...string) (shell.Word, bool) {
	for i := len(p.opts) - 1; i >= 0; i-- {
		o := p.opts[i]
		if !o.has {
			continue
		}
		for _, n := range names {
			if o.name == n {
				return o.val, true
			}
		}
	}
	return shell.Word{}, false
}
