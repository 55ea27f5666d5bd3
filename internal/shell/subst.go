package shell

import (
	"path"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// capture collects the output of a command substitution when it is
// produced only by commands whose output the analysis can compute.
type capture struct {
	out strings.Builder
	unk []string
	bad bool
}

func (c *capture) write(w Word) {
	c.out.WriteString(w.Value)
	for _, u := range w.Unknown {
		c.unk = addName(c.unk, u)
	}
}

// cmdSubst analyses the commands of $(...) (they run, in a subshell) and
// returns its output when it can be computed, else "$(...)".
func (a *analyzer) cmdSubst(st *shState, ctx *srcCtx, cs *syntax.CmdSubst) Word {
	savedCap, savedStdin, savedOuter := a.capture, a.stdin, a.outer
	c := &capture{}
	a.capture, a.stdin, a.outer = c, nil, nil
	a.stmts(st.subshell(), ctx, cs.Stmts)
	a.capture, a.stdin, a.outer = savedCap, savedStdin, savedOuter
	if c.bad || a.halted {
		return Word{Value: cmdSubstUnknown, Unknown: []string{cmdSubstUnknown}}
	}
	return Word{Value: strings.TrimRight(c.out.String(), "\n"), Unknown: c.unk}
}

// procSubst analyses the commands of <(...) and >(...).
func (a *analyzer) procSubst(st *shState, ctx *srcCtx, ps *syntax.ProcSubst) {
	savedCap, savedStdin, savedOuter := a.capture, a.stdin, a.outer
	a.capture, a.stdin, a.outer = &capture{}, nil, nil
	a.stmts(st.subshell(), ctx, ps.Stmts)
	a.capture, a.stdin, a.outer = savedCap, savedStdin, savedOuter
}

// captureOutput adds what c prints to the enclosing command
// substitution, or marks its output unknown.
func (a *analyzer) captureOutput(st *shState, c *Command) {
	cp := a.capture
	for _, r := range c.Redirects {
		switch r.Op {
		case ">", ">>", ">|", "&>", "&>>":
			if r.N == "" || r.N == "1" || r.Op[0] == '&' {
				return // output goes to a file
			}
		case ">&":
			if r.N == "" || r.N == "1" {
				return
			}
		}
	}
	in, hasIn := a.input(c)
	args := c.Args[1:]
	switch c.Name() {
	case "echo":
		cp.write(echo(args))
	case "printf":
		w, ok := printf(args)
		if !ok {
			cp.bad = true
			return
		}
		cp.write(w)
	case "pwd":
		if !st.cwdOK {
			cp.bad = true
			return
		}
		cp.write(Word{Value: a.projectDir(st.env) + cwdSuffix(st.cwd) + "\n"})
	case "dirname", "basename":
		var ops []Word
		for _, w := range args {
			if !strings.HasPrefix(w.Value, "-") {
				ops = append(ops, w)
			}
		}
		if len(ops) == 0 || len(ops) > 2 && c.Name() == "basename" {
			cp.bad = true
			return
		}
		w := ops[0]
		if c.Name() == "dirname" {
			w.Value = path.Dir(w.Value)
		} else {
			w.Value = path.Base(w.Value)
			if len(ops) == 2 {
				w.Value = strings.TrimSuffix(w.Value, ops[1].Value)
			}
		}
		w.Value += "\n"
		cp.write(w)
	case "cd", "true", ":", "set", "shift", "unset", "export", "local", "declare", "readonly", "typeset", "test", "[", "return", "exit":
	case "cat":
		if len(args) == 0 || hasIn && len(args) == 1 && args[0].Value == "-" {
			if !hasIn || in.bad {
				cp.bad = true
				return
			}
			cp.write(Word{Value: in.out.String(), Unknown: in.unk})
			return
		}
		for _, w := range args {
			text, ok := a.readRepoFile(st, w)
			if !ok || strings.HasPrefix(w.Value, "-") {
				cp.bad = true
				return
			}
			cp.write(Word{Value: text})
		}
	default:
		if !hasIn || in.bad || len(in.unk) > 0 {
			cp.bad = true
			return
		}
		out, ok := a.filter(c.Name(), args, in.out.String())
		if !ok {
			cp.bad = true
			return
		}
		cp.write(Word{Value: out})
	}
}

// input returns what c reads on stdin inside $(...): the output of the
// left side of a pipe, or a here-string or here-document.
func (a *analyzer) input(c *Command) (*capture, bool) {
	in := a.pipeIn
	a.pipeIn = nil
	for _, r := range c.Redirects {
		switch {
		case r.Op == "<<<" && r.N == "":
			in = &capture{}
			in.write(r.Target)
			in.out.WriteByte('\n')
		case r.Heredoc != nil && r.N == "":
			in = &capture{}
			in.write(*r.Heredoc)
		case r.Op == "<" && r.N == "":
			return nil, false
		}
	}
	return in, in != nil
}

// echo renders what echo prints (with -n, -e, -E).
func echo(args []Word) Word {
	newline, escapes := true, false
	for len(args) > 0 {
		v := args[0].Value
		if len(v) < 2 || v[0] != '-' || strings.Trim(v[1:], "neE") != "" {
			break
		}
		for _, f := range v[1:] {
			switch f {
			case 'n':
				newline = false
			case 'e':
				escapes = true
			case 'E':
				escapes = false
			}
		}
		args = args[1:]
	}
	w := joinWords(args, " ")
	if escapes {
		w.Value = ansiC(w.Value)
	}
	if newline {
		w.Value += "\n"
	}
	return w
}

// printf renders printf FORMAT ARGS for the verbs %s %d %b %%; ok is
// false for anything else (printf -v, other verbs).
func printf(args []Word) (Word, bool) {
	if len(args) == 0 || strings.HasPrefix(args[0].Value, "-") && args[0].Value != "--" {
		return Word{}, false
	}
	if args[0].Value == "--" {
		args = args[1:]
		if len(args) == 0 {
			return Word{}, false
		}
	}
	format := args[0]
	if !format.Known() {
		return Word{}, false
	}
	rest := args[1:]
	var out Word
	var sb strings.Builder
	for round := 0; round < 64; round++ {
		consumed := false
		f := format.Value
		for i := 0; i < len(f); i++ {
			ch := f[i]
			switch {
			case ch == '\\' && i+1 < len(f):
				j := i + 2
				if f[i+1] >= '0' && f[i+1] <= '7' || f[i+1] == 'x' {
					for j < len(f) && j < i+5 && isHex(f[j]) {
						j++
					}
				}
				sb.WriteString(ansiC(f[i:j]))
				i = j - 1
			case ch == '%' && i+1 < len(f):
				i++
				if f[i] == '%' {
					sb.WriteByte('%')
					continue
				}
				var arg Word
				if len(rest) > 0 {
					arg, rest = rest[0], rest[1:]
					consumed = true
				}
				switch f[i] {
				case 's':
					sb.WriteString(arg.Value)
				case 'b':
					sb.WriteString(ansiC(arg.Value))
				case 'd', 'i':
					if arg.Value == "" {
						sb.WriteString("0")
						break
					}
					n, ok := parseArithInt(arg.Value)
					if !ok {
						return Word{}, false
					}
					sb.WriteString(strconv.FormatInt(n, 10))
				default:
					return Word{}, false
				}
				for _, u := range arg.Unknown {
					out.Unknown = addName(out.Unknown, u)
				}
			default:
				sb.WriteByte(ch)
			}
		}
		if !consumed || len(rest) == 0 {
			break
		}
	}
	out.Value = sb.String()
	return out, true
}
