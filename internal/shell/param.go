package shell

import (
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"mvdan.cc/sh/v3/syntax"
)

// paramVal is a parameter before its operator is applied.
type paramVal struct {
	w      Word
	elems  []Word // for $@, $* and arrays with [@] or [*]
	multi  bool
	unset  bool // known to be unset
	absent bool // not known to the analysis (may be a CI/CD variable of the UI)
	name   string
}

// param expands a parameter expansion. For $@ and ${a[@]} it returns
// the elements and multi; otherwise one word.
func (e *expander) param(pe *syntax.ParamExp, quoted bool) (Word, []Word, bool) {
	if pe.Param == nil || pe.NestedParam != nil || pe.Flags != nil || len(pe.Modifiers) > 0 || pe.Width || pe.IsSet {
		return e.opaque(pe, "?"), nil, false
	}
	name := pe.Param.Value
	if pe.Excl {
		if pe.Names != 0 || pe.Index != nil {
			return e.opaque(pe, name), nil, false // ${!prefix*}, ${!a[@]}
		}
		ref := e.fetch(name, nil, quoted)
		if ref.absent || ref.unset || len(ref.w.Unknown) > 0 || !validParam(ref.w.Value) {
			u := []string{name}
			if len(ref.w.Unknown) > 0 {
				u = ref.w.Unknown
			}
			return Word{Value: e.rawParam(pe), Unknown: u}, nil, false
		}
		name = ref.w.Value
	}
	v := e.fetch(name, pe.Index, quoted)
	if v.absent && v.name == "" {
		return e.opaque(pe, name), nil, false
	}
	switch {
	case pe.Length:
		return e.length(pe, v), nil, false
	case pe.Exp != nil:
		return e.operator(pe, v, quoted)
	case pe.Repl != nil:
		return e.replace(pe, v)
	case pe.Slice != nil:
		return e.slice(pe, v)
	}
	if v.absent {
		return e.opaque(pe, name), nil, false
	}
	return v.w, v.elems, v.multi
}

func validParam(s string) bool {
	if syntax.ValidName(s) {
		return true
	}
	_, err := strconv.Atoi(s)
	return err == nil && s != "" && s[0] != '-' && s[0] != '+'
}

// opaque renders an expansion that cannot be evaluated: ${NAME} for a
// plain reference, the source text otherwise (so that ${URL/a/b} does
// not read as plain ${URL}).
func (e *expander) opaque(pe *syntax.ParamExp, name string) Word {
	return Word{Value: e.rawParam(pe), Unknown: []string{name}}
}

func (e *expander) rawParam(pe *syntax.ParamExp) string {
	if pe.Param != nil && !pe.Excl && !pe.Length && pe.Index == nil && pe.Exp == nil && pe.Repl == nil && pe.Slice == nil {
		return "${" + pe.Param.Value + "}"
	}
	raw := e.ctx.raw(pe)
	if raw == "" && pe.Param != nil {
		return "${" + pe.Param.Value + "}"
	}
	if strings.HasPrefix(raw, "$") && !strings.HasPrefix(raw, "${") {
		return "${" + raw[1:] + "}"
	}
	return raw
}

// fetch looks a parameter up. idx is an array subscript or nil.
func (e *expander) fetch(name string, idx syntax.ArithmExpr, quoted bool) paramVal {
	st := e.st
	v := paramVal{name: name}
	switch {
	case name == "@" || name == "*":
		v.elems = st.params
		v.multi = true
		if name == "*" && quoted {
			v.multi = false
			v.w = joinWords(st.params, " ")
		}
		if len(st.params) == 0 {
			v.unset = true
		}
		return v
	case name == "#":
		v.w = Word{Value: strconv.Itoa(len(st.params))}
		return v
	case name == "0":
		if st.arg0 == "" {
			v.absent = true
		} else {
			v.w = Word{Value: st.arg0}
		}
		return v
	case len(name) > 0 && name[0] >= '1' && name[0] <= '9':
		n, err := strconv.Atoi(name)
		if err != nil || n > len(st.params) {
			v.unset = true
		} else {
			v.w = st.params[n-1]
		}
		return v
	case !syntax.ValidName(name):
		v.absent = true // $? $$ $! $-
		return v
	}
	vr, ok := st.env.lookup(name)
	if !ok {
		if w, ok := e.dynamic(name); ok {
			v.w = w
			return v
		}
		v.absent = true
		if idx != nil && isAllIndex(idx) != "" {
			v.multi = true
		}
		return v
	}
	if vr.state == varUnset {
		v.unset = true
		return v
	}
	if idx == nil {
		v.w = vr.word()
		if vr.isArray && len(vr.elems) == 0 {
			v.unset = true
		}
		return v
	}
	elems := vr.elems
	if !vr.isArray {
		elems = []Word{{Value: vr.value, Unknown: vr.unknown}}
	}
	switch isAllIndex(idx) {
	case "@":
		v.elems, v.multi = elems, true
		return v
	case "*":
		if quoted {
			v.w = joinWords(elems, " ")
		} else {
			v.elems, v.multi = elems, true
		}
		return v
	}
	i, ok := e.arith(idx)
	if !ok {
		v.absent, v.name = true, ""
		return v
	}
	if i < 0 {
		i += int64(len(elems))
	}
	if i < 0 || i >= int64(len(elems)) {
		v.unset = true
		return v
	}
	v.w = elems[i]
	return v
}

// dynamic gives the variables the shell sets itself that the analysis
// can know: PWD from the tracked working directory, BASH_SOURCE in a
// script file.
func (e *expander) dynamic(name string) (Word, bool) {
	switch name {
	case "PWD":
		if e.st.cwdOK {
			return Word{Value: e.a.projectDir(e.st.env) + cwdSuffix(e.st.cwd)}, true
		}
	case "BASH_SOURCE":
		if e.st.sourceArg != "" {
			return Word{Value: e.st.sourceArg}, true
		}
	}
	return Word{}, false
}

func cwdSuffix(cwd string) string {
	if cwd == "" || cwd == "." {
		return ""
	}
	return "/" + cwd
}

// isAllIndex returns "@" or "*" for the subscripts [@] and [*].
func isAllIndex(idx syntax.ArithmExpr) string {
	if w, ok := idx.(*syntax.Word); ok {
		if s := w.Lit(); s == "@" || s == "*" {
			return s
		}
	}
	return ""
}

func joinWords(ws []Word, sep string) Word {
	if len(ws) == 1 {
		return ws[0]
	}
	var out Word
	var sb strings.Builder
	for i, w := range ws {
		if i > 0 {
			sb.WriteString(sep)
		}
		sb.WriteString(w.Value)
		for _, u := range w.Unknown {
			out.Unknown = addName(out.Unknown, u)
		}
	}
	out.Value = sb.String()
	return out
}

func (e *expander) length(pe *syntax.ParamExp, v paramVal) Word {
	switch {
	case v.multi:
		return Word{Value: strconv.Itoa(len(v.elems))}
	case v.unset:
		return Word{Value: "0"}
	case v.absent:
		return e.opaque(pe, v.name)
	case len(v.w.Unknown) > 0:
		return Word{Value: e.rawParam(pe), Unknown: v.w.Unknown}
	}
	return Word{Value: strconv.Itoa(utf8.RuneCountInString(v.w.Value))}
}

// operator applies ${V-d} ${V:-d} ${V=d} ${V:=d} ${V+x} ${V:+x} ${V?m}
// ${V#p} ${V##p} ${V%p} ${V%%p} ${V^} ${V^^} ${V,} ${V,,} ${V@op}.
// A variable unknown to the analysis counts as unset for the default
// and alternate forms: that is the "default if unset" idiom.
func (e *expander) operator(pe *syntax.ParamExp, v paramVal, quoted bool) (Word, []Word, bool) {
	op := pe.Exp.Op
	unset := v.unset || v.absent
	null := unset || (!v.multi && v.w.Value == "" && len(v.w.Unknown) == 0) || (v.multi && len(v.elems) == 0)
	current := func() (Word, []Word, bool) {
		if v.absent {
			return e.opaque(pe, v.name), nil, false
		}
		return v.w, v.elems, v.multi
	}
	arg := func() Word { return e.strMode(pe.Exp.Word, qNone) }
	if quoted {
		arg = func() Word { return e.strMode(pe.Exp.Word, qDouble) }
	}
	switch op {
	case syntax.DefaultUnset, syntax.DefaultUnsetOrNull, syntax.AssignUnset, syntax.AssignUnsetOrNull:
		use := unset
		if op == syntax.DefaultUnsetOrNull || op == syntax.AssignUnsetOrNull {
			use = null
		}
		if !use {
			return current()
		}
		w := arg()
		if (op == syntax.AssignUnset || op == syntax.AssignUnsetOrNull) && syntax.ValidName(v.name) && pe.Index == nil {
			e.st.setVar(v.name, e.a.newVar(e.st, v.name, w))
		}
		return w, nil, false
	case syntax.AlternateUnset, syntax.AlternateUnsetOrNull:
		use := !unset
		if op == syntax.AlternateUnsetOrNull {
			use = !null
		}
		if !use {
			return Word{}, nil, false
		}
		return arg(), nil, false
	case syntax.ErrorUnset, syntax.ErrorUnsetOrNull:
		return current()
	}
	if v.absent {
		return e.opaque(pe, v.name), nil, false
	}
	if v.unset {
		return Word{}, nil, false
	}
	apply := func(f func(Word) Word) (Word, []Word, bool) {
		if v.multi {
			out := make([]Word, len(v.elems))
			for i, el := range v.elems {
				out[i] = f(el)
			}
			return Word{}, out, true
		}
		return f(v.w), nil, false
	}
	switch op {
	case syntax.RemSmallPrefix, syntax.RemLargePrefix, syntax.RemSmallSuffix, syntax.RemLargeSuffix:
		pat := e.pattern(pe.Exp.Word)
		suffix := op == syntax.RemSmallSuffix || op == syntax.RemLargeSuffix
		longest := op == syntax.RemLargePrefix || op == syntax.RemLargeSuffix
		return apply(func(w Word) Word {
			out := Word{Value: e.a.removePattern(w.Value, pat.Value, suffix, longest), Unknown: w.Unknown}
			for _, u := range pat.Unknown {
				out.Unknown = addName(out.Unknown, u)
			}
			return out
		})
	case syntax.UpperFirst, syntax.UpperAll, syntax.LowerFirst, syntax.LowerAll:
		return apply(func(w Word) Word {
			if len(w.Unknown) > 0 {
				return Word{Value: e.rawParam(pe), Unknown: w.Unknown}
			}
			return Word{Value: caseConv(w.Value, op)}
		})
	case syntax.OtherParamOps:
		which := ""
		if pe.Exp.Word != nil {
			which = pe.Exp.Word.Lit()
		}
		return apply(func(w Word) Word {
			if len(w.Unknown) > 0 {
				return Word{Value: e.rawParam(pe), Unknown: w.Unknown}
			}
			switch which {
			case "U":
				return Word{Value: strings.ToUpper(w.Value)}
			case "L":
				return Word{Value: strings.ToLower(w.Value)}
			case "u":
				return Word{Value: caseConv(w.Value, syntax.UpperFirst)}
			case "Q":
				q, err := syntax.Quote(w.Value, syntax.LangBash)
				if err != nil {
					return Word{Value: e.rawParam(pe), Unknown: []string{v.name}}
				}
				return Word{Value: q}
			case "E":
				return Word{Value: ansiC(w.Value)}
			}
			return w
		})
	}
	return e.opaque(pe, v.name), nil, false
}

func caseConv(s string, op syntax.ParExpOperator) string {
	switch op {
	case syntax.UpperAll:
		return strings.ToUpper(s)
	case syntax.LowerAll:
		return strings.ToLower(s)
	}
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	if op == syntax.UpperFirst {
		r = unicode.ToUpper(r)
	} else {
		r = unicode.ToLower(r)
	}
	return string(r) + s[n:]
}

// replace applies ${V/p/s}, ${V//p/s}, ${V/#p/s} and ${V/%p/s}.
func (e *expander) replace(pe *syntax.ParamExp, v paramVal) (Word, []Word, bool) {
	if v.absent {
		return e.opaque(pe, v.name), nil, false
	}
	if v.unset {
		return Word{}, nil, false
	}
	anchor := byte(0)
	orig := pe.Repl.Orig
	if orig == nil {
		return v.w, v.elems, v.multi // ${V/} replaces nothing
	}
	pat := e.pattern(orig)
	if len(orig.Parts) > 0 {
		if l, ok := orig.Parts[0].(*syntax.Lit); ok && l.Value != "" && (l.Value[0] == '#' || l.Value[0] == '%') && !pe.Repl.All {
			anchor = l.Value[0]
			pat.Value = strings.TrimPrefix(pat.Value, string(anchor))
		}
	}
	with := e.strMode(pe.Repl.With, qDouble)
	f := func(w Word) Word {
		out := Word{Value: e.a.replacePattern(w.Value, pat.Value, with.Value, pe.Repl.All, anchor), Unknown: w.Unknown}
		if out.Value != w.Value {
			for _, u := range with.Unknown {
				out.Unknown = addName(out.Unknown, u)
			}
		}
		for _, u := range pat.Unknown {
			out.Unknown = addName(out.Unknown, u)
		}
		return out
	}
	if v.multi {
		out := make([]Word, len(v.elems))
		for i, el := range v.elems {
			out[i] = f(el)
		}
		return Word{}, out, true
	}
	return f(v.w), nil, false
}

// slice applies ${V:off} and ${V:off:len}.
func (e *expander) slice(pe *syntax.ParamExp, v paramVal) (Word, []Word, bool) {
	if v.absent {
		return e.opaque(pe, v.name), nil, false
	}
	if v.unset {
		return Word{}, nil, false
	}
	off, ok := e.arith(pe.Slice.Offset)
	if !ok {
		return Word{Value: e.rawParam(pe), Unknown: []string{v.name}}, nil, false
	}
	length, hasLen := int64(0), pe.Slice.Length != nil
	if hasLen {
		if length, ok = e.arith(pe.Slice.Length); !ok {
			return Word{Value: e.rawParam(pe), Unknown: []string{v.name}}, nil, false
		}
	}
	if v.multi {
		elems := v.elems
		if v.name == "@" || v.name == "*" {
			// ${@:1} starts with $1; ${@:0} would start with $0.
			off--
			if off < 0 {
				off = 0
			}
		}
		s, n := bounds(off, length, hasLen, int64(len(elems)))
		return Word{}, elems[s : s+n], true
	}
	if len(v.w.Unknown) > 0 {
		return Word{Value: e.rawParam(pe), Unknown: v.w.Unknown}, nil, false
	}
	r := []rune(v.w.Value)
	s, n := bounds(off, length, hasLen, int64(len(r)))
	return Word{Value: string(r[s : s+n])}, nil, false
}

// bounds turns a bash offset and length (negative: counted from the
// end) into a valid start and count for a sequence of size n.
func bounds(off, length int64, hasLen bool, n int64) (int64, int64) {
	if off < 0 {
		off += n
		if off < 0 {
			return 0, 0
		}
	}
	if off > n {
		return n, 0
	}
	end := n
	if hasLen {
		if length < 0 {
			end = n + length
		} else if length < n-off {
			end = off + length
		}
	}
	if end < off {
		return off, 0
	}
	return off, end - off
}

// projectDir is the directory the job runs in: CI_PROJECT_DIR, or
// /builds/<project path> as the runner sets it by default.
func (a *analyzer) projectDir(env Env) string {
	if env != nil {
		if d, ok := env.Get("CI_PROJECT_DIR"); ok && d != "" && !strings.Contains(d, "$") {
			return strings.TrimSuffix(path.Clean(d), "/")
		}
	}
	return "/builds/" + a.project
}
