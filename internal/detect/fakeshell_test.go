package detect

import (
	"regexp"
	"strings"

	"github.com/tokenscope/tokenscope/internal/shell"
)

// TEMPORARY: a minimal stand-in for shell.Analyze and shell.ExpandVars,
// used until the shell branch is merged (then analyze = shell.Analyze and
// expandVars = shell.ExpandVars). It covers what the detector tests use:
// quotes, $VAR/${VAR}/${VAR:-d}, &&/||/;/|, redirects, here-documents,
// backslash continuations, comments, export and assignments.

var (
	analyze    = fakeAnalyze
	expandVars = fakeExpandVars
)

type fakeSession struct {
	base    shell.Env
	overlay map[string]string
}

func (s *fakeSession) Get(n string) (string, bool) {
	if v, ok := s.overlay[n]; ok {
		return v, true
	}
	return s.base.Get(n)
}

func (s *fakeSession) snapshot(extra map[string]shell.Word) shell.Env {
	m := shell.MapEnv{}
	if me, ok := s.base.(shell.MapEnv); ok {
		for k, v := range me {
			m[k] = v
		}
	}
	for k, v := range s.overlay {
		m[k] = v
	}
	for k, w := range extra {
		m[k] = w.Value
	}
	return m
}

func fakeAnalyze(srcs []shell.Source, env shell.Env, opts shell.Options) shell.Result {
	s := &fakeSession{base: env, overlay: map[string]string{}}
	var res shell.Result
	for _, src := range srcs {
		lines := strings.Split(src.Text, "\n")
		for i := 0; i < len(lines); i++ {
			start := i
			logical := lines[i]
			for strings.HasSuffix(logical, `\`) && i+1 < len(lines) {
				i++
				logical = logical[:len(logical)-1] + " " + lines[i]
			}
			toks := fakeTokens(logical, s)
			// Here-documents take the following lines.
			for k := range toks {
				if (toks[k].op == "<<" || toks[k].op == "<<-") && k+1 < len(toks) {
					delim := toks[k+1].w
					var body []string
					for i+1 < len(lines) {
						i++
						l := lines[i]
						if toks[k].op == "<<-" {
							l = strings.TrimLeft(l, "\t")
						}
						if strings.TrimSpace(l) == delim.Value {
							break
						}
						body = append(body, l)
					}
					text := strings.Join(body, "\n") + "\n"
					hw := shell.Word{Raw: text, Value: text}
					if delim.Raw == delim.Value {
						hw = fakeExpandVars(text, s)
						hw.Raw = text
					}
					toks[k].heredoc = &hw
				}
			}
			pos := shell.Pos{Project: src.Pos.Project, File: src.Pos.File, Line: src.Pos.Line + start*src.LineStep}
			res.Commands = append(res.Commands, fakeCommands(toks, s, pos, src.Section)...)
		}
	}
	return res
}

type fakeTok struct {
	op      string
	w       shell.Word
	heredoc *shell.Word
}

var fakeOps = []string{"&&", "||", "<<<", "<<-", "<<", ">>", "&>", ">", "<", "|", ";"}

func fakeTokens(line string, env shell.Env) []fakeTok {
	var toks []fakeTok
	var raw, val strings.Builder
	var unknown []string
	inWord := false
	flush := func() {
		if inWord {
			toks = append(toks, fakeTok{w: shell.Word{Raw: raw.String(), Value: val.String(), Unknown: unknown}})
		}
		raw.Reset()
		val.Reset()
		unknown = nil
		inWord = false
	}
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
			i++
			continue
		case c == '#' && !inWord:
			flush()
			return toks
		}
		if op := fakeOpAt(line[i:]); op != "" {
			// "2>&1" and ">&2" are dropped.
			if inWord && (raw.String() == "2" || raw.String() == "1") && strings.HasPrefix(op, ">") {
				raw.Reset()
				val.Reset()
				inWord = false
			}
			flush()
			i += len(op)
			if op == ">" && i < len(line) && line[i] == '&' {
				for i < len(line) && line[i] != ' ' {
					i++
				}
				continue
			}
			toks = append(toks, fakeTok{op: op})
			continue
		}
		inWord = true
		switch c {
		case '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				j = len(line) - i - 1
			}
			raw.WriteString(line[i:min(i+2+j, len(line))])
			val.WriteString(line[i+1 : i+1+j])
			i += j + 2
		case '"':
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' && j+1 < len(line) {
					j++
				}
				j++
			}
			inner := line[i+1 : min(j, len(line))]
			raw.WriteString(line[i:min(j+1, len(line))])
			inner = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, "\x00").Replace(inner)
			w := fakeExpandVars(inner, env)
			val.WriteString(strings.ReplaceAll(w.Value, "\x00", "$"))
			unknown = append(unknown, w.Unknown...)
			i = j + 1
		case '\\':
			if i+1 < len(line) {
				raw.WriteString(line[i : i+2])
				val.WriteByte(line[i+1])
			}
			i += 2
		case '$':
			n, w := fakeExpandAt(line[i:], env)
			raw.WriteString(line[i : i+n])
			val.WriteString(w.Value)
			unknown = append(unknown, w.Unknown...)
			i += n
		default:
			raw.WriteByte(c)
			val.WriteByte(c)
			i++
		}
	}
	flush()
	return toks
}

func fakeOpAt(s string) string {
	for _, op := range fakeOps {
		if strings.HasPrefix(s, op) {
			return op
		}
	}
	return ""
}

var fakeNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)

// fakeExpandAt expands the reference at the start of s and returns its length.
func fakeExpandAt(s string, env shell.Env) (int, shell.Word) {
	if strings.HasPrefix(s, "$(") {
		depth, j := 0, 1
		for ; j < len(s); j++ {
			if s[j] == '(' {
				depth++
			} else if s[j] == ')' {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		return min(j+1, len(s)), shell.Word{Value: "$(...)", Unknown: []string{"$(...)"}}
	}
	if strings.HasPrefix(s, "${") {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return len(s), shell.Word{Value: s}
		}
		body := s[2:end]
		name := fakeNameRE.FindString(body)
		rest := body[len(name):]
		val, set := env.Get(name)
		switch {
		case strings.HasPrefix(rest, ":-") || strings.HasPrefix(rest, "-"):
			def := strings.TrimPrefix(strings.TrimPrefix(rest, ":"), "-")
			if set && (val != "" || !strings.HasPrefix(rest, ":")) {
				return end + 1, shell.Word{Value: val}
			}
			return end + 1, fakeExpandVars(def, env)
		case strings.HasPrefix(rest, ":+"):
			if set && val != "" {
				return end + 1, fakeExpandVars(rest[2:], env)
			}
			return end + 1, shell.Word{}
		case rest == "" && set:
			return end + 1, shell.Word{Value: val}
		}
		return end + 1, shell.Word{Value: "${" + name + "}", Unknown: []string{name}}
	}
	name := fakeNameRE.FindString(s[1:])
	if name == "" {
		return 1, shell.Word{Value: "$"}
	}
	if val, ok := env.Get(name); ok {
		return 1 + len(name), shell.Word{Value: val}
	}
	return 1 + len(name), shell.Word{Value: "${" + name + "}", Unknown: []string{name}}
}

func fakeExpandVars(s string, env shell.Env) shell.Word {
	var b strings.Builder
	var unknown []string
	for i := 0; i < len(s); {
		if s[i] != '$' {
			b.WriteByte(s[i])
			i++
			continue
		}
		n, w := fakeExpandAt(s[i:], env)
		b.WriteString(w.Value)
		unknown = append(unknown, w.Unknown...)
		i += n
	}
	return shell.Word{Raw: s, Value: b.String(), Unknown: unknown}
}

var fakeAssignRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

var fakeKeywords = map[string]bool{"if": true, "then": true, "else": true, "elif": true, "do": true, "while": true, "until": true, "{": true, "!": true, "fi": true, "done": true, "}": true, "esac": true}

func fakeCommands(toks []fakeTok, s *fakeSession, pos shell.Pos, section string) []*shell.Command {
	var out []*shell.Command
	var cur *shell.Command
	var prev *shell.Command
	pipe := false
	skip := false
	finish := func() {
		if cur != nil && !skip {
			for len(cur.Args) > 0 && fakeKeywords[cur.Args[0].Value] {
				cur.Args = cur.Args[1:]
			}
			switch {
			case len(cur.Args) == 0:
				for k, w := range cur.Assigns {
					s.overlay[k] = w.Value
				}
			default:
				if cur.Args[0].Value == "export" {
					for _, a := range cur.Args[1:] {
						if k, v, ok := strings.Cut(a.Value, "="); ok {
							s.overlay[k] = v
						}
					}
				}
				cur.Env = s.snapshot(cur.Assigns)
				if pipe {
					cur.Stdin = prev
				}
				out = append(out, cur)
				prev = cur
			}
		}
		cur, skip = nil, false
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if cur == nil {
			cur = &shell.Command{Assigns: map[string]shell.Word{}, Pos: pos, Section: section}
		}
		switch t.op {
		case "":
			if len(cur.Args) == 0 && t.w.Value == "for" {
				skip = true
			}
			if len(cur.Args) == 0 && fakeAssignRE.MatchString(t.w.Raw) {
				k, _, _ := strings.Cut(t.w.Raw, "=")
				cur.Assigns[k] = shell.Word{Raw: t.w.Raw[len(k)+1:], Value: strings.TrimPrefix(t.w.Value, k+"="), Unknown: t.w.Unknown}
				continue
			}
			cur.Args = append(cur.Args, t.w)
		case "&&", "||", ";":
			finish()
			pipe = false
		case "|":
			finish()
			pipe = true
		default:
			r := shell.Redirect{Op: t.op}
			if i+1 < len(toks) && toks[i+1].op == "" {
				i++
				r.Target = toks[i].w
			}
			r.Heredoc = t.heredoc
			cur.Redirects = append(cur.Redirects, r)
		}
	}
	finish()
	return out
}
