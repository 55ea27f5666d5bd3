package shell

import (
	"regexp"
	"strconv"
	"strings"
)

// Text filters whose output the analysis computes inside $(...) when
// their input is known, for the shapes seen in CI scripts:
//
//	TOK=$(echo "$CI_REPOSITORY_URL" | cut -d@ -f1)        (renku, P04)
//	HOST=$(echo "$CI_SERVER_URL" | sed 's|https://||')
//	NS=$(echo "$CI_PROJECT_PATH" | awk -F/ '{print $1}')
//
// Anything else gives an unknown output.

// filter runs name over input; ok is false when it cannot be computed.
func (a *analyzer) filter(name string, args []Word, input string) (string, bool) {
	for _, w := range args {
		if !w.Known() {
			return "", false
		}
	}
	vals := make([]string, len(args))
	for i, w := range args {
		vals[i] = w.Value
	}
	switch name {
	case "cat":
		if len(vals) == 0 || len(vals) == 1 && vals[0] == "-" {
			return input, true
		}
	case "xargs":
		if len(vals) == 0 || len(vals) == 1 && vals[0] == "echo" {
			return strings.Join(strings.Fields(input), " ") + "\n", true
		}
	case "cut":
		return cut(vals, input)
	case "tr":
		return tr(vals, input)
	case "head", "tail":
		return headTail(name == "head", vals, input)
	case "sed":
		return a.sed(vals, input)
	case "awk":
		return awkPrint(vals, input)
	}
	return "", false
}

// lines splits filter input into lines without their newline.
func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func joinLines(ls []string) string {
	if len(ls) == 0 {
		return ""
	}
	return strings.Join(ls, "\n") + "\n"
}

// optArg reads an option with a value ("-d @", "-d@", "--delimiter=@").
func optArg(vals []string, i int, short, long string) (string, int, bool) {
	v := vals[i]
	switch {
	case v == short:
		if i+1 < len(vals) {
			return vals[i+1], i + 1, true
		}
		return "", i, false
	case strings.HasPrefix(v, short) && len(short) == 2:
		return v[2:], i, true
	case long != "" && strings.HasPrefix(v, long+"="):
		return v[len(long)+1:], i, true
	}
	return "", i, false
}

// ranges parses a cut list (1,3-5,7-) into a membership test.
func ranges(list string) (func(int) bool, bool) {
	type rng struct{ lo, hi int }
	var rs []rng
	for part := range strings.SplitSeq(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		r := rng{1, 1 << 30}
		var err error
		if lo != "" {
			if r.lo, err = strconv.Atoi(lo); err != nil || r.lo < 1 {
				return nil, false
			}
		}
		switch {
		case !isRange:
			r.hi = r.lo
		case hi != "":
			if r.hi, err = strconv.Atoi(hi); err != nil {
				return nil, false
			}
		}
		rs = append(rs, r)
	}
	return func(n int) bool {
		for _, r := range rs {
			if n >= r.lo && n <= r.hi {
				return true
			}
		}
		return false
	}, true
}

func cut(vals []string, input string) (string, bool) {
	delim, fields, chars := "\t", "", ""
	for i := 0; i < len(vals); i++ {
		if v, j, ok := optArg(vals, i, "-d", "--delimiter"); ok {
			delim, i = v, j
			continue
		}
		if v, j, ok := optArg(vals, i, "-f", "--fields"); ok {
			fields, i = v, j
			continue
		}
		if v, j, ok := optArg(vals, i, "-c", "--characters"); ok {
			chars, i = v, j
			continue
		}
		return "", false
	}
	if len(delim) != 1 || (fields == "") == (chars == "") {
		return "", false
	}
	list := fields + chars
	in, ok := ranges(list)
	if !ok {
		return "", false
	}
	var out []string
	for _, l := range lines(input) {
		if chars != "" {
			var sb strings.Builder
			for i, r := range []rune(l) {
				if in(i + 1) {
					sb.WriteRune(r)
				}
			}
			out = append(out, sb.String())
			continue
		}
		if !strings.Contains(l, delim) {
			out = append(out, l) // cut prints lines without the delimiter whole
			continue
		}
		var keep []string
		for i, f := range strings.Split(l, delim) {
			if in(i + 1) {
				keep = append(keep, f)
			}
		}
		out = append(out, strings.Join(keep, delim))
	}
	return joinLines(out), true
}

// trSet expands a tr set: ranges a-z and the classes [:lower:],
// [:upper:], [:digit:], [:space:].
func trSet(s string) ([]rune, bool) {
	classes := map[string]string{"[:lower:]": "a-z", "[:upper:]": "A-Z", "[:digit:]": "0-9", "[:space:]": " \t\n\r\v\f"}
	for k, v := range classes {
		s = strings.ReplaceAll(s, k, v)
	}
	s = ansiC(s)
	rs := []rune(s)
	var out []rune
	for i := 0; i < len(rs); i++ {
		if i+2 < len(rs) && rs[i+1] == '-' {
			if rs[i+2] < rs[i] {
				return nil, false
			}
			for r := rs[i]; r <= rs[i+2]; r++ {
				out = append(out, r)
			}
			i += 2
			continue
		}
		out = append(out, rs[i])
	}
	return out, true
}

func tr(vals []string, input string) (string, bool) {
	del := false
	var sets []string
	for _, v := range vals {
		switch {
		case v == "-d":
			del = true
		case strings.HasPrefix(v, "-") && len(v) > 1:
			return "", false
		default:
			sets = append(sets, v)
		}
	}
	if del && len(sets) == 1 {
		set, ok := trSet(sets[0])
		if !ok {
			return "", false
		}
		return strings.Map(func(r rune) rune {
			for _, x := range set {
				if r == x {
					return -1
				}
			}
			return r
		}, input), true
	}
	if del || len(sets) != 2 {
		return "", false
	}
	from, ok1 := trSet(sets[0])
	to, ok2 := trSet(sets[1])
	if !ok1 || !ok2 || len(to) == 0 {
		return "", false
	}
	return strings.Map(func(r rune) rune {
		for i, x := range from {
			if r == x {
				return to[min(i, len(to)-1)]
			}
		}
		return r
	}, input), true
}

func headTail(head bool, vals []string, input string) (string, bool) {
	n := 10
	for i := 0; i < len(vals); i++ {
		v := vals[i]
		if s, j, ok := optArg(vals, i, "-n", "--lines"); ok {
			i = j
			v = "-" + strings.TrimPrefix(s, "+")
		}
		k, err := strconv.Atoi(strings.TrimPrefix(v, "-"))
		if !strings.HasPrefix(v, "-") || err != nil || k < 0 {
			return "", false
		}
		n = k
	}
	ls := lines(input)
	if n < len(ls) {
		if head {
			ls = ls[:n]
		} else {
			ls = ls[len(ls)-n:]
		}
	}
	return joinLines(ls), true
}

var awkPrintRx = regexp.MustCompile(`^\s*\{\s*print\s+\$(\d+)\s*;?\s*\}\s*$`)

// awkPrint handles awk [-F sep] '{print $N}'.
func awkPrint(vals []string, input string) (string, bool) {
	sep := ""
	prog := ""
	for i := 0; i < len(vals); i++ {
		if v, j, ok := optArg(vals, i, "-F", ""); ok {
			sep, i = v, j
			continue
		}
		if prog != "" {
			return "", false
		}
		prog = vals[i]
	}
	m := awkPrintRx.FindStringSubmatch(prog)
	if m == nil || len(sep) > 1 {
		return "", false
	}
	n, _ := strconv.Atoi(m[1])
	var out []string
	for _, l := range lines(input) {
		var fs []string
		if sep == "" || sep == " " {
			fs = strings.Fields(l)
		} else {
			fs = strings.Split(l, sep)
		}
		switch {
		case n == 0:
			out = append(out, l)
		case n <= len(fs):
			out = append(out, fs[n-1])
		default:
			out = append(out, "")
		}
	}
	return joinLines(out), true
}

// sed handles one or more s/pattern/replacement/flags commands.
func (a *analyzer) sed(vals []string, input string) (string, bool) {
	ere := false
	var scripts []string
	for i := 0; i < len(vals); i++ {
		v := vals[i]
		switch {
		case v == "-E" || v == "-r" || v == "--regexp-extended":
			ere = true
		case v == "-e":
			if i+1 >= len(vals) {
				return "", false
			}
			scripts = append(scripts, vals[i+1])
			i++
		case strings.HasPrefix(v, "-"):
			return "", false // -i edits files, -n changes printing
		case len(scripts) == 0:
			scripts = append(scripts, v)
		default:
			return "", false // a file operand
		}
	}
	if len(scripts) == 0 {
		return "", false
	}
	out := lines(input)
	for _, sc := range scripts {
		for cmd := range strings.SplitSeq(sc, ";") {
			cmd = strings.TrimSpace(cmd)
			if cmd == "" {
				continue
			}
			rx, repl, global, ok := sedSubst(cmd, ere)
			if !ok {
				return "", false
			}
			for i, l := range out {
				locs := rx.FindAllStringSubmatchIndex(l, -1)
				if !global && len(locs) > 1 {
					locs = locs[:1]
				}
				var sb strings.Builder
				last := 0
				for _, loc := range locs {
					sb.WriteString(l[last:loc[0]])
					sb.WriteString(sedRepl(l, loc, repl))
					last = loc[1]
				}
				sb.WriteString(l[last:])
				out[i] = sb.String()
			}
		}
	}
	return joinLines(out), true
}

// sedSubst parses s<d>pattern<d>replacement<d>[g] into a Go regexp.
func sedSubst(cmd string, ere bool) (*regexp.Regexp, string, bool, bool) {
	if len(cmd) < 4 || cmd[0] != 's' {
		return nil, "", false, false
	}
	d := cmd[1]
	var parts []string
	var cur strings.Builder
	for i := 2; i < len(cmd); i++ {
		c := cmd[i]
		if c == '\\' && i+1 < len(cmd) && cmd[i+1] == d {
			cur.WriteByte(d)
			i++
			continue
		}
		if c == d {
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	parts = append(parts, cur.String())
	if len(parts) != 3 || strings.Trim(parts[2], "g") != "" {
		return nil, "", false, false
	}
	pat := parts[0]
	if !ere {
		pat = breToERE(pat)
	}
	rx, err := regexp.Compile(pat)
	if err != nil {
		return nil, "", false, false
	}
	return rx, parts[1], parts[2] == "g", true
}

// breToERE swaps the escaped and plain forms of ( ) { } + ? | between
// POSIX basic and extended regular expressions.
func breToERE(p string) string {
	var sb strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\\' && i+1 < len(p) && strings.IndexByte("(){}+?|", p[i+1]) >= 0 {
			sb.WriteByte(p[i+1])
			i++
			continue
		}
		if strings.IndexByte("(){}+?|", c) >= 0 {
			sb.WriteByte('\\')
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// sedRepl renders a sed replacement for one match (& and \1..\9);
// loc holds the submatch offsets in line.
func sedRepl(line string, loc []int, repl string) string {
	group := func(k int) string {
		if 2*k+1 < len(loc) && loc[2*k] >= 0 {
			return line[loc[2*k]:loc[2*k+1]]
		}
		return ""
	}
	var sb strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch {
		case c == '&':
			sb.WriteString(group(0))
		case c == '\\' && i+1 < len(repl):
			i++
			n := repl[i]
			switch {
			case n >= '0' && n <= '9':
				sb.WriteString(group(int(n - '0')))
			case n == 'n':
				sb.WriteByte('\n')
			default:
				sb.WriteByte(n)
			}
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}
