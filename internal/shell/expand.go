package shell

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"mvdan.cc/sh/v3/pattern"
	"mvdan.cc/sh/v3/syntax"
)

// expander expands words in one shell state.
type expander struct {
	a   *analyzer
	st  *shState
	ctx *srcCtx
	// arithUnknown collects the unknown names met by arith.
	arithUnknown []string
}

func (a *analyzer) expander(st *shState, ctx *srcCtx) *expander {
	return &expander{a: a, st: st, ctx: ctx}
}

// qmode is the quoting context of a word part.
type qmode uint8

const (
	qNone      qmode = iota // unquoted: field splitting, backslash escapes
	qDouble                 // inside "..."
	qHdoc                   // body of an unquoted here-document
	qPat                    // unquoted pattern (${V#pat}): glob characters active
	qPatDouble              // quoted part of a pattern: matched literally
)

func (q qmode) quoted() bool { return q == qDouble || q == qHdoc || q == qPatDouble }

// fieldBuf accumulates the fields a word expands to.
type fieldBuf struct {
	split  bool // split unquoted expansions into fields (command arguments)
	fields []Word
	sb     strings.Builder
	unk    []string
	open   bool
	// unsure is set when the number of fields cannot be known: an
	// unquoted expansion with unknown parts, or an unquoted glob.
	unsure bool
	// size counts the bytes written (and fields ended); past
	// maxExpansion the rest of the word is dropped and marked unknown.
	size int
	over bool
}

// maxExpansion bounds what one word expands to. Variables are bounded
// (maxValueLen, maxArrayElems), but one word may name them many times:
// "$X$X$X…" a hundred thousand times in a 1 MiB script would be gigabytes.
const maxExpansion = 1 << 20

// tooLongUnknown is the Unknown name of the part of a word past
// maxExpansion; it is no variable name, so nothing can define it.
const tooLongUnknown = "…"

func (b *fieldBuf) write(s string) {
	if b.over {
		return
	}
	b.size += len(s)
	if b.size > maxExpansion {
		b.over = true
		b.sb.WriteString(marker(tooLongUnknown) + "}")
		b.unknown(tooLongUnknown)
		b.open = true
		return
	}
	b.sb.WriteString(s)
	b.open = true
}

func (b *fieldBuf) unknown(names ...string) {
	for _, n := range names {
		b.unk = addName(b.unk, n)
	}
}

func addName(list []string, n string) []string {
	for _, x := range list {
		if x == n {
			return list
		}
	}
	return append(list, n)
}

func (b *fieldBuf) end() {
	if !b.open {
		return
	}
	b.size += 8 // a field costs more than its bytes: a word of many empty fields is bounded too
	b.fields = append(b.fields, Word{Value: b.sb.String(), Unknown: b.unk})
	b.sb.Reset()
	b.unk = nil
	b.open = false
}

func isIFS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

// splitValue adds the result of an unquoted expansion: in argument
// context it is split into fields at blanks.
func (b *fieldBuf) splitValue(w Word) {
	if b.over {
		return // the word is past maxExpansion: nothing more is kept
	}
	if !b.split || !strings.ContainsAny(w.Value, " \t\n") {
		if w.Value != "" || len(w.Unknown) > 0 {
			b.write(w.Value)
		}
		b.unknown(w.Unknown...)
		if b.split && len(w.Unknown) > 0 {
			b.unsure = true
		}
		return
	}
	if len(w.Unknown) > 0 {
		b.unsure = true
	}
	attached := make([]bool, len(w.Unknown))
	s := w.Value
	for i := 0; i < len(s); {
		if isIFS(s[i]) {
			b.end()
			for i < len(s) && isIFS(s[i]) {
				i++
			}
			continue
		}
		j := i
		for j < len(s) && !isIFS(s[j]) {
			j++
		}
		piece := s[i:j]
		b.write(piece)
		for k, u := range w.Unknown {
			if strings.Contains(piece, marker(u)) {
				b.unknown(u)
				attached[k] = true
			}
		}
		i = j
	}
	for k, u := range w.Unknown {
		if attached[k] {
			continue
		}
		switch {
		case b.open || len(b.fields) == 0:
			b.unknown(u)
		default:
			last := &b.fields[len(b.fields)-1]
			last.Unknown = addName(last.Unknown, u)
		}
	}
}

// marker is how an unknown name shows in a value.
func marker(u string) string {
	if u == cmdSubstUnknown {
		return "$("
	}
	return "${" + u
}

const cmdSubstUnknown = "$(...)"

// fields expands w as a command argument: it may give zero or several
// fields.
func (e *expander) fields(w *syntax.Word) []Word {
	return e.appendFields(nil, w)
}

// appendFields appends the fields of w to dst.
func (e *expander) appendFields(dst []Word, w *syntax.Word) []Word {
	if len(w.Parts) == 1 {
		// Fast path: most words are plain literals.
		if l, ok := w.Parts[0].(*syntax.Lit); ok && !strings.ContainsAny(l.Value, "\\~") {
			return append(dst, Word{Raw: l.Value, Value: l.Value})
		}
	}
	raw := e.ctx.raw(w)
	b := fieldBuf{split: true, fields: dst}
	b.sb.Grow(len(raw) + 48)
	e.parts(&b, w.Parts, qNone)
	b.end()
	for i := len(dst); i < len(b.fields); i++ {
		b.fields[i].Raw = raw
	}
	return b.fields
}

// fieldsForList expands a for-loop item: unsure is true when the number
// of items it gives cannot be known (then fs is nil).
func (e *expander) fieldsForList(w *syntax.Word) (fs []Word, unsure bool) {
	b := &fieldBuf{split: true}
	e.parts(b, w.Parts, qNone)
	b.end()
	if b.unsure {
		return nil, true
	}
	raw := e.ctx.raw(w)
	for i := range b.fields {
		b.fields[i].Raw = raw
	}
	return b.fields, false
}

// str expands w as one string (assignment values, redirection targets,
// here-strings): no field splitting.
func (e *expander) str(w *syntax.Word) Word {
	if w == nil {
		return Word{}
	}
	out := e.strMode(w, qNone)
	out.Raw = e.ctx.raw(w)
	return out
}

func (e *expander) strMode(w *syntax.Word, q qmode) Word {
	if w == nil {
		return Word{}
	}
	// Fast path: a plain literal word.
	if len(w.Parts) == 1 {
		if l, ok := w.Parts[0].(*syntax.Lit); ok && q == qNone && !strings.ContainsAny(l.Value, "\\~") {
			return Word{Value: l.Value}
		}
	}
	// Without splitting, everything goes to one field.
	var b fieldBuf
	e.parts(&b, w.Parts, q)
	if !b.open {
		return Word{}
	}
	return Word{Value: b.sb.String(), Unknown: b.unk}
}

// pattern expands a pattern word: unquoted glob characters stay active,
// quoted characters are escaped.
func (e *expander) pattern(w *syntax.Word) Word {
	return e.strMode(w, qPat)
}

func (e *expander) parts(b *fieldBuf, parts []syntax.WordPart, q qmode) {
	for i, part := range parts {
		switch p := part.(type) {
		case *syntax.Lit:
			e.lit(b, p.Value, q, i == 0)
		case *syntax.SglQuoted:
			v := p.Value
			if p.Dollar {
				v = ansiC(v)
			}
			if q == qPat || q == qPatDouble {
				v = pattern.QuoteMeta(v, 0)
			}
			b.write(v)
		case *syntax.DblQuoted:
			if !onlyMulti(p.Parts) {
				b.open = true
			}
			inner := qDouble
			if q == qPat || q == qPatDouble {
				inner = qPatDouble
			}
			e.parts(b, p.Parts, inner)
		case *syntax.ParamExp:
			if e.alternate(b, p, q) {
				continue
			}
			w, elems, multi := e.param(p, q.quoted())
			if multi {
				e.multi(b, elems, q)
			} else {
				e.value(b, w, q)
			}
		case *syntax.CmdSubst:
			e.value(b, e.a.cmdSubst(e.st, e.ctx, p), q)
		case *syntax.ArithmExp:
			w := e.arithWord(p)
			if w.Known() {
				e.value(b, w, q)
			} else {
				// The source text stands for the number: one field.
				b.write(w.Value)
				b.unknown(w.Unknown...)
			}
		case *syntax.ProcSubst:
			e.a.procSubst(e.st, e.ctx, p)
			b.write(p.Op.String() + "...)")
			b.unknown(cmdSubstUnknown)
		default: // ExtGlob, BraceExp: kept as written
			b.write(e.ctx.raw(part))
			if q == qNone {
				b.unsure = true
			}
		}
	}
}

// onlyMulti reports whether a double-quoted string is just "$@" or
// "${a[@]}", which gives no field at all when empty.
func onlyMulti(parts []syntax.WordPart) bool {
	if len(parts) != 1 {
		return false
	}
	p, ok := parts[0].(*syntax.ParamExp)
	if !ok || p.Param == nil || p.Length || p.Excl {
		return false
	}
	if p.Param.Value == "@" && p.Index == nil {
		return true
	}
	return p.Index != nil && isAllIndex(p.Index) == "@"
}

// value adds a scalar expansion result.
func (e *expander) value(b *fieldBuf, w Word, q qmode) {
	switch q {
	case qNone:
		b.splitValue(w)
	case qPatDouble:
		b.write(pattern.QuoteMeta(w.Value, 0))
		b.unknown(w.Unknown...)
	default:
		b.write(w.Value)
		b.unknown(w.Unknown...)
	}
}

// multi adds the elements of $@ or ${a[@]}: one field each when quoted.
func (e *expander) multi(b *fieldBuf, elems []Word, q qmode) {
	for i, el := range elems {
		if i > 0 {
			if b.split {
				b.end()
			} else {
				b.write(" ")
			}
		}
		if q.quoted() {
			b.open = true
			if q == qPatDouble {
				b.write(pattern.QuoteMeta(el.Value, 0))
			} else {
				b.write(el.Value)
			}
			b.unknown(el.Unknown...)
		} else {
			e.value(b, el, q)
		}
	}
}

func (e *expander) lit(b *fieldBuf, v string, q qmode, first bool) {
	switch q {
	case qNone:
		if first && strings.HasPrefix(v, "~") {
			v = e.tilde(v)
		}
		if strings.ContainsAny(v, "*?[") {
			b.unsure = true
		}
		v = unescape(v, "")
	case qDouble:
		v = unescape(v, "$`\"\\")
	case qHdoc:
		v = unescape(v, "$`\\")
	case qPat:
		v = strings.ReplaceAll(v, "\\\n", "")
	case qPatDouble:
		v = pattern.QuoteMeta(unescape(v, "$`\"\\"), 0)
	}
	if v != "" {
		b.write(v)
	}
}

// tilde expands a leading ~ or ~/ with HOME when it is known; otherwise
// the ~ stays (it still says "the home directory" to a reader).
func (e *expander) tilde(v string) string {
	rest := v[1:]
	if rest != "" && rest[0] != '/' {
		return v // ~user
	}
	if h, ok := e.st.env.lookup("HOME"); ok && h.state == varSet && len(h.unknown) == 0 && !h.isArray {
		return h.value + rest
	}
	return v
}

// unescape removes backslashes: before any character when special is ""
// (unquoted), else only before the characters in special; a backslash
// before a newline removes both.
func unescape(s, special string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			sb.WriteByte(c)
			continue
		}
		n := s[i+1]
		switch {
		case n == '\n':
			i++
		case special == "" || strings.IndexByte(special, n) >= 0:
			sb.WriteByte(n)
			i++
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// ansiC decodes the escapes of a $'...' string.
func ansiC(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			sb.WriteByte(c)
			continue
		}
		i++
		switch n := s[i]; n {
		case 'n':
			sb.WriteByte('\n')
		case 't':
			sb.WriteByte('\t')
		case 'r':
			sb.WriteByte('\r')
		case 'a':
			sb.WriteByte(7)
		case 'b':
			sb.WriteByte(8)
		case 'e', 'E':
			sb.WriteByte(27)
		case 'f':
			sb.WriteByte(12)
		case 'v':
			sb.WriteByte(11)
		case '\\', '\'', '"', '?':
			sb.WriteByte(n)
		case 'x', 'u', 'U':
			maxDigits := map[byte]int{'x': 2, 'u': 4, 'U': 8}[n]
			j := i + 1
			for j < len(s) && j-i-1 < maxDigits && isHex(s[j]) {
				j++
			}
			if j == i+1 {
				sb.WriteByte('\\')
				sb.WriteByte(n)
				continue
			}
			v, _ := strconv.ParseUint(s[i+1:j], 16, 32)
			if n == 'x' {
				sb.WriteByte(byte(v))
			} else if utf8.ValidRune(rune(v)) {
				sb.WriteRune(rune(v))
			}
			i = j - 1
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(s) && j-i < 3 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(s[i:j], 8, 16)
			sb.WriteByte(byte(v))
			i = j - 1
		default:
			sb.WriteByte('\\')
			sb.WriteByte(n)
		}
	}
	return sb.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// heredoc expands a here-document body: literally when the delimiter is
// quoted, like a double-quoted string (without special ") otherwise.
func (e *expander) heredoc(r *syntax.Redirect) *Word {
	raw := ""
	if r.Hdoc != nil {
		raw = trimDelimiter(e.ctx.raw(r.Hdoc), e.strMode(r.Word, qNone).Value)
	}
	var w Word
	switch {
	case r.Hdoc == nil:
	case quotedDelim(r.Word):
		var sb strings.Builder
		for _, p := range r.Hdoc.Parts {
			if l, ok := p.(*syntax.Lit); ok {
				sb.WriteString(l.Value)
			} else {
				sb.WriteString(e.ctx.raw(p))
			}
		}
		w.Value = sb.String()
	default:
		w = e.strMode(r.Hdoc, qHdoc)
	}
	if r.Op == syntax.DashHdoc {
		w.Value = stripTabs(w.Value)
		raw = stripTabs(raw)
	}
	w.Raw = raw
	return &w
}

// trimDelimiter removes the closing delimiter line, which the parser
// counts in the body's extent.
func trimDelimiter(raw, delim string) string {
	i := strings.LastIndexByte(raw, '\n')
	if strings.TrimLeft(raw[i+1:], "\t") == delim {
		return raw[:i+1]
	}
	return raw
}

// quotedDelim reports whether a here-document delimiter has any quoting,
// which turns off expansion in the body.
func quotedDelim(w *syntax.Word) bool {
	if w == nil {
		return false
	}
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.SglQuoted, *syntax.DblQuoted:
			return true
		case *syntax.Lit:
			if strings.Contains(p.Value, "\\") {
				return true
			}
		}
	}
	return false
}

// stripTabs removes the leading tabs of every line (<<-).
func stripTabs(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, "\t")
	}
	return strings.Join(lines, "\n")
}

// alternate expands ${NAME+word} and ${NAME:+word} in place, so that the
// word's own quoting holds: ${ARR[@]+"${ARR[@]}"} (the set -u safe form
// of "${ARR[@]}") gives one field per element, as bash does, instead of
// one string. It reports whether p was such an expansion.
func (e *expander) alternate(b *fieldBuf, p *syntax.ParamExp, q qmode) bool {
	if p.Exp == nil || p.Exp.Op != syntax.AlternateUnset && p.Exp.Op != syntax.AlternateUnsetOrNull {
		return false
	}
	if p.Param == nil || p.NestedParam != nil || p.Flags != nil || len(p.Modifiers) > 0 || p.Width || p.IsSet || p.Excl || p.Length {
		return false
	}
	v := e.fetch(p.Param.Value, p.Index, q.quoted())
	if v.absent && v.name == "" {
		return false
	}
	unset := v.unset || v.absent
	use := !unset
	if p.Exp.Op == syntax.AlternateUnsetOrNull {
		null := unset || (!v.multi && v.w.Value == "" && len(v.w.Unknown) == 0) || (v.multi && len(v.elems) == 0)
		use = !null
	}
	if !use || p.Exp.Word == nil {
		return true
	}
	for _, part := range p.Exp.Word.Parts {
		if l, ok := part.(*syntax.Lit); ok && q == qNone {
			// Unquoted, the word's own spaces split too:
			// ${T:+-H "JOB-TOKEN: $T"} is two arguments.
			b.splitValue(Word{Value: unescape(l.Value, "")})
			continue
		}
		e.parts(b, []syntax.WordPart{part}, q)
	}
	return true
}
