package detect

// The Dockerfile parser of the image-build family: instructions, stages,
// ARG and ENV values with the builder's own ${VAR:-x} expansion.

import (
	"strconv"
	"strings"

	"github.com/tokenscope/tokenscope/internal/shell"
)

// dfInstr is one Dockerfile instruction.
type dfInstr struct {
	line int    // first line
	cmd  string // upper case
	args string // arguments, continuation lines joined
	// script is the shell text of a RUN: the arguments with their line
	// breaks kept, or a here-document's body.
	script string
}

type dockerfile struct{ instrs []dfInstr }

// parseDockerfile splits a Dockerfile into instructions, honouring line
// continuations (and the escape directive), comments and RUN
// here-documents.
func parseDockerfile(b []byte) dockerfile {
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	escape := `\`
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if !strings.HasPrefix(t, "#") {
			break
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(t, "#")), "="); ok && strings.EqualFold(strings.TrimSpace(k), "escape") {
			if v = strings.TrimSpace(v); v == "`" {
				escape = "`"
			}
		}
	}
	var df dockerfile
	for i := 0; i < len(lines) && len(df.instrs) < maxDockerfileInstructions; i++ {
		t := strings.TrimSpace(lines[i])
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		start := i
		joined := []string{}
		raw := []string{}
		cur := t
		for {
			raw = append(raw, lines[i])
			if strings.HasSuffix(cur, escape) && i+1 < len(lines) {
				joined = append(joined, strings.TrimSuffix(cur, escape))
				i++
				for i < len(lines) && (strings.TrimSpace(lines[i]) == "" || strings.HasPrefix(strings.TrimSpace(lines[i]), "#")) && i+1 < len(lines) {
					i++
				}
				cur = strings.TrimSpace(lines[i])
				continue
			}
			joined = append(joined, cur)
			break
		}
		text := strings.Join(joined, " ")
		cmd, args, _ := strings.Cut(text, " ")
		in := dfInstr{line: start + 1, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		in.script = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.Join(raw, "\n")), cmd))
		if delim, ok := heredocDelim(in.args); ok {
			var body []string
			for i+1 < len(lines) {
				i++
				if strings.TrimSpace(lines[i]) == delim {
					break
				}
				body = append(body, lines[i])
			}
			if strings.HasPrefix(stripRunFlags(in.args), "<<") {
				in.script = strings.Join(body, "\n")
			} else {
				in.script += "\n" + strings.Join(body, "\n") + "\n" + delim
			}
		}
		df.instrs = append(df.instrs, in)
	}
	return df
}

// heredocDelim finds a BuildKit here-document ("<<EOF", "<<-'EOF'").
func heredocDelim(args string) (string, bool) {
	i := strings.Index(args, "<<")
	if i < 0 {
		return "", false
	}
	d := strings.TrimPrefix(args[i+2:], "-")
	if f := strings.Fields(d); len(f) > 0 {
		d = strings.Trim(f[0], `"'`)
		if d != "" && !strings.ContainsAny(d, "<>|&;") {
			return d, true
		}
	}
	return "", false
}

// stripRunFlags removes leading --flags of a RUN/COPY/FROM.
func stripRunFlags(args string) string {
	for strings.HasPrefix(args, "--") {
		_, rest, _ := strings.Cut(args, " ")
		args = strings.TrimSpace(rest)
	}
	return args
}

// leadingFlags returns the leading --name=value flags.
func leadingFlags(args string) map[string]string {
	m := map[string]string{}
	for strings.HasPrefix(args, "--") {
		f, rest, _ := strings.Cut(args, " ")
		k, v, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		m[k] = v
		args = strings.TrimSpace(rest)
	}
	return m
}

// imageRefAt is an image named in a Dockerfile.
type imageRefAt struct {
	value string // expanded
	text  string // the instruction as written
	line  int
}

// dfStage is one build stage.
type dfStage struct {
	name   string
	base   int // index of the stage it builds on, -1 for an image
	deps   []int
	images []imageRefAt
	first  int // index of its FROM in the instructions
	last   int // index after its last instruction
}

// stages evaluates FROM lines (and COPY --from, RUN --mount from=) with the
// global ARGs: defaults before the first FROM, overridden by build-args.
// Undefined variables expand to "" as in Docker.
func (df dockerfile) stages(buildArgs map[string]shell.Word) []dfStage {
	global := map[string]string{}
	var stages []dfStage
	byName := map[string]int{}
	stageRef := func(name string) (int, bool) {
		if i, ok := byName[strings.ToLower(name)]; ok {
			return i, true
		}
		if n, err := strconv.Atoi(name); err == nil && n >= 0 && n < len(stages) {
			return n, true
		}
		return 0, false
	}
	for idx, in := range df.instrs {
		switch in.cmd {
		case "ARG":
			if len(stages) == 0 {
				for _, kv := range argDecls(in.args) {
					if v, ok := buildArgs[kv[0]]; ok {
						global[kv[0]] = v.Value
					} else if kv[1] != "\x00" {
						global[kv[0]] = dfExpand(kv[1], global)
					}
				}
			}
		case "FROM":
			if len(stages) > 0 {
				stages[len(stages)-1].last = idx
			}
			rest := strings.Fields(stripRunFlags(in.args))
			if len(rest) == 0 {
				continue
			}
			ref := dfExpand(rest[0], global)
			s := dfStage{base: -1, first: idx, last: len(df.instrs)}
			if len(rest) >= 3 && strings.EqualFold(rest[1], "AS") {
				s.name = strings.ToLower(rest[2])
			}
			if i, ok := stageRef(ref); ok && !isDigits(ref) {
				s.base = i
				s.deps = append(s.deps, i)
			} else if !strings.EqualFold(ref, "scratch") {
				s.images = append(s.images, imageRefAt{value: ref, text: "FROM " + in.args, line: in.line})
			}
			stages = append(stages, s)
			if s.name != "" {
				byName[s.name] = len(stages) - 1
			}
		case "COPY", "ADD", "RUN":
			if len(stages) == 0 {
				continue
			}
			cur := &stages[len(stages)-1]
			var froms []string
			flags := leadingFlags(in.args)
			if f, ok := flags["from"]; ok {
				froms = append(froms, f)
			}
			if m, ok := flags["mount"]; ok {
				for _, kv := range strings.Split(m, ",") {
					if k, v, _ := strings.Cut(kv, "="); k == "from" {
						froms = append(froms, v)
					}
				}
			}
			for _, f := range froms {
				f = dfExpand(f, global)
				if i, ok := stageRef(f); ok {
					cur.deps = append(cur.deps, i)
				} else if f != "" {
					cur.images = append(cur.images, imageRefAt{value: f, text: in.cmd + " " + in.args, line: in.line})
				}
			}
		}
	}
	return stages
}

// neededStages returns the stages a build runs: every stage up to the
// target for builders that build all stages, otherwise the target and
// what it depends on (BuildKit, buildah).
func neededStages(stages []dfStage, target string, all bool) []int {
	if len(stages) == 0 {
		return nil
	}
	t := len(stages) - 1
	if target != "" {
		for i, s := range stages {
			if s.name == strings.ToLower(target) {
				t = i
			}
		}
	}
	if all {
		out := make([]int, t+1)
		for i := range out {
			out[i] = i
		}
		return out
	}
	seen := map[int]bool{}
	var visit func(i int)
	visit = func(i int) {
		if seen[i] || i < 0 || i >= len(stages) {
			return
		}
		seen[i] = true
		for _, d := range stages[i].deps {
			visit(d)
		}
	}
	visit(t)
	var out []int
	for i := range stages {
		if seen[i] {
			out = append(out, i)
		}
	}
	return out
}

// argDecls parses "ARG A=1 B" into name/default pairs; "\x00" marks no
// default.
func argDecls(s string) [][2]string {
	var out [][2]string
	for _, tok := range splitQuoted(s) {
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			v = "\x00"
		}
		out = append(out, [2]string{k, unquote(v)})
	}
	return out
}

// splitQuoted splits on spaces outside quotes.
func splitQuoted(s string) []string {
	var out []string
	var b strings.Builder
	var q byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case q != 0:
			if ch == q {
				q = 0
			}
			b.WriteByte(ch)
		case ch == '"' || ch == '\'':
			q = ch
			b.WriteByte(ch)
		case ch == ' ' || ch == '\t':
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
			}
		default:
			b.WriteByte(ch)
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		return v[1 : len(v)-1]
	}
	return v
}

// dfExpand substitutes $VAR, ${VAR}, ${VAR:-w}, ${VAR:+w}, ${VAR-w} and
// ${VAR+w} once (values are not re-expanded); unset variables become "".
func dfExpand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return unquote(s)
	}
	s = unquote(s)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		if s[i+1] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				break
			}
			expr := s[i+2 : i+end]
			i += end
			b.WriteString(dfParam(expr, vars))
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == i+1 {
			b.WriteByte('$')
			continue
		}
		b.WriteString(vars[s[i+1:j]])
		i = j - 1
	}
	return b.String()
}

func dfParam(expr string, vars map[string]string) string {
	for _, op := range []string{":-", ":+", "-", "+"} {
		if name, word, ok := strings.Cut(expr, op); ok && name != "" && !strings.ContainsAny(name, ":-+") {
			v, set := vars[name]
			switch op {
			case ":-":
				if v == "" {
					return dfExpand(word, vars)
				}
			case "-":
				if !set {
					return dfExpand(word, vars)
				}
			case ":+":
				if v != "" {
					return dfExpand(word, vars)
				}
				return ""
			case "+":
				if set {
					return dfExpand(word, vars)
				}
				return ""
			}
			return v
		}
	}
	return vars[expr]
}
