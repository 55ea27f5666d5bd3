package detect

import "strings"

// The tokenizer of the script scanner (lang_script.go): Python, Ruby and
// JavaScript source cut into names, string literals, numbers and
// punctuation, with comments dropped and statements ended. It is not a
// parser: it only has to get string literals, comments and bracket depth
// right, so that the scanner never reads code inside a string or a
// comment, and never misses the end of one.

// dialect is the language of a script.
type dialect uint8

const (
	langPython dialect = iota + 1
	langRuby
	langNode
)

func (d dialect) String() string {
	switch d {
	case langPython:
		return "python"
	case langRuby:
		return "ruby"
	case langNode:
		return "node"
	}
	return "?"
}

type tokKind uint8

const (
	tIdent tokKind = iota + 1
	tStr
	tNum
	tPunct
	tEnd // end of a statement
)

// stok is one token. For tStr, s is the literal text of the string with
// its interpolations (f-strings, "#{}", `${}`) in parts.
type stok struct {
	k     tokKind
	s     string
	parts []strPart // tStr with interpolation only
	line  int
}

// strPart is a literal piece of an interpolated string, or the source of
// an interpolated expression.
type strPart struct {
	lit  string
	expr string
	isEx bool
}

// Bounds against hostile scripts: far above real CI helper scripts.
const (
	maxScriptTokens = 200_000
	maxScriptBytes  = 1 << 20
)

// lex cuts src into tokens. Statements end at newlines outside brackets
// (and, for Python, not after a backslash) and at ";". It never fails: an
// unterminated string or comment runs to the end of the text.
func lex(d dialect, src string) []stok {
	if len(src) > maxScriptBytes {
		src = src[:maxScriptBytes]
	}
	var out []stok
	line, depth := 1, 0
	emit := func(t stok) bool {
		out = append(out, t)
		return len(out) < maxScriptTokens
	}
	end := func() {
		if len(out) > 0 && out[len(out)-1].k != tEnd {
			out = append(out, stok{k: tEnd, line: line})
		}
	}
	i := 0
	// Ruby's =begin ... =end and a leading #! line are comments.
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
			if depth == 0 {
				end()
			}
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			i++
			continue
		case c == '\\' && i+1 < len(src) && src[i+1] == '\n':
			line++
			i += 2
			continue
		case c == '#' && d != langNode, c == '#' && d == langNode && i+1 < len(src) && src[i+1] == '!' && i == 0:
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case d == langNode && c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case d == langNode && c == '/' && i+1 < len(src) && src[i+1] == '*':
			j := strings.Index(src[i+2:], "*/")
			if j < 0 {
				j = len(src) - i - 2
			}
			line += strings.Count(src[i:i+2+j], "\n")
			i += j + 4
			continue
		case d == langRuby && c == '=' && strings.HasPrefix(src[i:], "=begin") && (i == 0 || src[i-1] == '\n'):
			j := strings.Index(src[i:], "\n=end")
			if j < 0 {
				j = len(src) - i
			}
			line += strings.Count(src[i:min(len(src), i+j+1)], "\n")
			i += j + 5
			continue
		case c == ';':
			i++
			if depth == 0 {
				end()
			}
			continue
		}
		start := line
		// String literals, with Python's prefixes (r, b, f, rb, fr...).
		if q, pre, ok := stringStart(d, src[i:]); ok {
			t, n, nl := lexString(d, src[i+len(pre):], q, strings.ContainsAny(pre, "fF"), strings.ContainsAny(pre, "rR"))
			t.line = start
			line += nl
			i += len(pre) + n
			if !emit(t) {
				return out
			}
			continue
		}
		switch {
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentChar(src[j]) {
				j++
			}
			// Ruby method names may end in ? or !.
			if d == langRuby && j < len(src) && (src[j] == '?' || src[j] == '!') && (j+1 >= len(src) || src[j+1] != '=') {
				j++
			}
			if !emit(stok{k: tIdent, s: src[i:j], line: start}) {
				return out
			}
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(src) && (isIdentChar(src[j]) || src[j] == '.') {
				j++
			}
			if !emit(stok{k: tNum, s: src[i:j], line: start}) {
				return out
			}
			i = j
		default:
			p := punctAt(src[i:])
			switch p {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				if depth > 0 {
					depth--
				}
			}
			if !emit(stok{k: tPunct, s: p, line: start}) {
				return out
			}
			i += len(p)
		}
	}
	end()
	return out
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

var puncts = []string{"...", "**", "::", "=>", "==", "!=", "<=", ">=", "||", "&&", "??", "?.", "+=", "|"}

func punctAt(s string) string {
	for _, p := range puncts {
		if strings.HasPrefix(s, p) {
			return p
		}
	}
	return s[:1]
}

// stringStart reports whether s starts a string literal: its quote
// ("'", `"`, "”'", `"""`, "`") and its prefix letters.
func stringStart(d dialect, s string) (quote, prefix string, ok bool) {
	if d == langPython {
		j := 0
		for j < len(s) && j < 2 && strings.IndexByte("rRbBuUfF", s[j]) >= 0 {
			j++
		}
		if j > 0 && (j >= len(s) || (s[j] != '\'' && s[j] != '"')) {
			return "", "", false
		}
		prefix, s = s[:j], s[j:]
	}
	if s == "" {
		return "", "", false
	}
	switch {
	case d == langPython && (strings.HasPrefix(s, `"""`) || strings.HasPrefix(s, `'''`)):
		return s[:3], prefix, true
	case s[0] == '\'' || s[0] == '"':
		return s[:1], prefix, true
	case s[0] == '`' && d == langNode:
		return "`", prefix, true
	}
	return "", "", false
}

// lexString reads a string literal whose opening quote starts s. It
// returns the token, the bytes read and the newlines crossed. Escapes are
// kept as written except \\, \" and \' (URLs and header names have
// none); interpolation follows the language: f-strings "{expr}", Ruby
// double quotes "#{expr}", JavaScript templates "${expr}".
func lexString(d dialect, s, quote string, fstr, raw bool) (stok, int, int) {
	interp := (d == langPython && fstr) || (d == langRuby && quote == `"`) || (d == langNode && quote == "`")
	if d == langRuby && quote == `'` {
		raw = false
	}
	var parts []strPart
	var lit strings.Builder
	nl := 0
	i := len(quote)
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, strPart{lit: lit.String()})
			lit.Reset()
		}
	}
	multiline := len(quote) == 3 || quote == "`" || d == langRuby
	for i < len(s) {
		if strings.HasPrefix(s[i:], quote) {
			i += len(quote)
			break
		}
		c := s[i]
		switch {
		case c == '\n':
			nl++
			if !multiline {
				// An unterminated single-line string ends at the line.
				flush()
				return strTok(parts), i, nl - 1
			}
			lit.WriteByte(c)
			i++
		case c == '\\' && !raw && i+1 < len(s):
			if s[i+1] == '\n' {
				nl++
			}
			switch s[i+1] {
			case '\\', '"', '\'', '`', '$', '{', '#':
				lit.WriteByte(s[i+1])
			case 'n':
				lit.WriteByte('\n')
			default:
				lit.WriteString(s[i : i+2])
			}
			i += 2
		case interp && d == langPython && c == '{' && i+1 < len(s) && s[i+1] == '{',
			interp && d == langPython && c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte(c)
			i += 2
		case interp && ((d == langPython && c == '{') ||
			(d == langRuby && c == '#' && i+1 < len(s) && s[i+1] == '{') ||
			(d == langNode && c == '$' && i+1 < len(s) && s[i+1] == '{')):
			open := i + 1
			if d != langPython {
				open = i + 2
			}
			j, depth := open, 1
			for j < len(s) && depth > 0 {
				switch s[j] {
				case '{':
					depth++
				case '}':
					depth--
				case '\n':
					nl++
				}
				j++
			}
			expr := s[open:max(open, j-1)]
			if d == langPython {
				expr = fstringExpr(expr)
			}
			flush()
			parts = append(parts, strPart{expr: expr, isEx: true})
			i = j
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return strTok(parts), i, nl
}

func strTok(parts []strPart) stok {
	t := stok{k: tStr}
	var b strings.Builder
	interp := false
	for _, p := range parts {
		if p.isEx {
			interp = true
			continue
		}
		b.WriteString(p.lit)
	}
	t.s = b.String()
	if interp {
		t.parts = parts
	}
	return t
}

// fstringExpr cuts the conversion and format spec off an f-string
// replacement field ("{x!r:>10}" is x).
func fstringExpr(e string) string {
	depth := 0
	for i := 0; i < len(e); i++ {
		switch e[i] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case '!':
			if depth == 0 && (i+1 >= len(e) || e[i+1] != '=') {
				return e[:i]
			}
		case ':':
			if depth == 0 {
				return e[:i]
			}
		case '=':
			// "{x=}" self-documenting form.
			if depth == 0 && i == len(strings.TrimRight(e, " "))-1 {
				return e[:i]
			}
		}
	}
	return e
}
