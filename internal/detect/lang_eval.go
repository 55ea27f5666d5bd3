package detect

import (
	"strings"

	"github.com/tokenscope/tokenscope/internal/shell"
)

// The evaluator of the script scanner: it walks a script's statements in
// order, keeps the values of simple variables, and evaluates expressions
// conservatively (see docs/design.md, "Scripts in other languages"):
//   - string literals, f-strings, "#{}" and `${}` interpolation, and "+"
//     concatenation;
//   - environment reads (os.environ["X"], os.environ.get("X", d),
//     os.getenv("X"), ENV["X"], ENV.fetch("X", d), process.env.X,
//     process.env["X"]), with the value the job gives X at the command
//     that runs the script; "||", "??" and "or" pick the default when
//     the variable is unset;
//   - names assigned earlier at any level ("x = ...", "const x = ..."):
//     the last assignment above the use wins, whatever the control flow;
//   - dict, hash and object literals with string keys; URL-encoding
//     calls (quote, encodeURIComponent, CGI.escape...) and string
//     clean-ups (strip, rstrip, trim...);
//   - anything else is unknown, written "${expr}" so that it stays
//     visible (and unresolved) in a target.
//
// Calls of the HTTP clients and GitLab SDKs it knows (lang_clients.go)
// become requests.

// sval is a value: a string (possibly with unknown parts), a dict, or an
// object a client library returned.
type sval struct {
	s     string
	unk   []string // unknown parts, as in shell.Word.Unknown
	set   bool     // a known value, or a string with unknown parts; false: nothing known at all
	dict  []kv     // dict/hash/object literal
	isMap bool
	obj   *sobj
	// unsetEnv: an environment variable the job does not set, kept as
	// ${NAME}; false for or, || and ??.
	unsetEnv bool
}

type kv struct {
	k string
	v sval
}

// maxScriptValue bounds a string value, as the shell bounds variables.
const maxScriptValue = 1 << 16

func strVal(s string) sval { return sval{s: s, set: true} }

// unknownVal is an expression whose value is not known: "${expr}".
func unknownVal(expr string) sval {
	name := scriptName(expr)
	return sval{s: "${" + name + "}", unk: []string{name}, set: true, unsetEnv: true}
}

// scriptName makes an expression usable as a ${NAME} placeholder: a
// short, plain name.
func scriptName(expr string) string {
	var b strings.Builder
	for i := 0; i < len(expr) && b.Len() < 40; i++ {
		c := expr[i]
		if isIdentChar(c) && c != '$' && c < 0x80 {
			b.WriteByte(c)
		} else if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), "_.")
	if s == "" {
		s = "expr"
	}
	return s
}

func (v sval) concat(w sval) sval {
	if v.obj != nil || w.obj != nil || v.isMap || w.isMap {
		return unknownVal("expr")
	}
	if !v.set {
		v = unknownVal("expr")
	}
	if !w.set {
		w = unknownVal("expr")
	}
	if len(v.s)+len(w.s) > maxScriptValue || len(v.unk)+len(w.unk) > 64 {
		// A value no URL or header needs ("a = a + a" doubling).
		return unknownVal("long")
	}
	return sval{s: v.s + w.s, unk: append(append([]string(nil), v.unk...), w.unk...), set: true}
}

// word turns a string value into a shell word, for the URL and header
// helpers the shell families use.
func (v sval) word(raw string) shell.Word {
	return shell.Word{Raw: raw, Value: v.s, Unknown: v.unk}
}

func (v sval) get(key string) (sval, bool) {
	for i := len(v.dict) - 1; i >= 0; i-- {
		if strings.EqualFold(v.dict[i].k, key) {
			return v.dict[i].v, true
		}
	}
	return sval{}, false
}

// args are the arguments of a call: positional, and keyword (Python
// name=v, Ruby name: v and "name" => v).
type args struct {
	pos []sval
	kw  []kv
}

func (a args) arg(i int, names ...string) (sval, bool) {
	for _, n := range names {
		for _, p := range a.kw {
			if p.k == n {
				return p.v, true
			}
		}
	}
	if i >= 0 && i < len(a.pos) {
		return a.pos[i], true
	}
	return sval{}, false
}

// scriptReq is a request a script makes, before classification.
type scriptReq struct {
	line    int
	method  string
	url     sval
	headers []kv
	fields  []kv
	// how names the client, for evidence ("requests", "python-gitlab").
	how string
}

// evaluator walks one script.
type evaluator struct {
	d     dialect
	toks  []stok
	i     int
	end   int
	vars  map[string]sval
	env   func(name string) (string, bool)
	reqs  []scriptReq
	depth int
	steps int
	// line is the line of the call being evaluated.
	line int
	// envRead names the environment variables the script reads: an
	// unknown ${NAME} that is not one is a value of the script itself.
	envRead map[string]bool
	// alias maps names bound by Python imports to what they name
	// ("import gitlab as gl_mod", "from requests import get as fetch").
	alias map[string]string
}

// maxEvalSteps bounds the work on one script (tokens visited, including
// re-lexed interpolations).
const maxEvalSteps = 2_000_000

func newEvaluator(d dialect, src string, env func(string) (string, bool)) *evaluator {
	e := &evaluator{d: d, toks: lex(d, src), vars: map[string]sval{}, env: env, envRead: map[string]bool{}, alias: map[string]string{}}
	if d == langRuby {
		e.rubyGitlabModule()
	}
	return e
}

// run evaluates every statement in order.
func (e *evaluator) run() {
	e.end = len(e.toks)
	for e.i < e.end && e.steps < maxEvalSteps {
		e.statement()
	}
}

func (e *evaluator) peek(off int) stok {
	if j := e.i + off; j < e.end {
		return e.toks[j]
	}
	return stok{k: tEnd}
}

func (e *evaluator) is(off int, k tokKind, s string) bool {
	t := e.peek(off)
	return t.k == k && (s == "" || t.s == s)
}

// statement evaluates one statement: an assignment, or expressions whose
// calls may be requests.
func (e *evaluator) statement() {
	start := e.i
	defer func() {
		// Skip what the statement left (operators, keywords); always
		// make progress.
		for e.i < e.end && e.toks[e.i].k != tEnd {
			e.i++
			e.steps++
		}
		if e.i < e.end {
			e.i++
		}
		if e.i <= start {
			e.i = start + 1
		}
	}()
	// Declarations: const/let/var x = ...; Python's "x: T = ...".
	if e.d == langNode && e.is(0, tIdent, "") && (e.peek(0).s == "const" || e.peek(0).s == "let" || e.peek(0).s == "var") {
		e.i++
	}
	if e.d == langNode && e.is(0, tIdent, "export") {
		e.i++
	}
	if e.d == langPython && (e.is(0, tIdent, "import") || e.is(0, tIdent, "from")) {
		e.pyImport()
		return
	}
	// Ruby block header "Gitlab.configure do |config|": the block's
	// parameter is the configured module.
	for e.i < e.end && e.toks[e.i].k != tEnd {
		e.steps++
		if e.steps > maxEvalSteps {
			return
		}
		t := e.toks[e.i]
		if t.k == tIdent && !e.prevIsDot() {
			if e.assignment() {
				// "x = a if c else b", "names = [f(x) for x in ...]": the
				// rest of the statement may still call something.
				continue
			}
			v := e.expr()
			e.afterExpr(v)
			continue
		}
		if t.k == tStr || t.k == tPunct && (t.s == "(" || t.s == "{" || t.s == "[") {
			e.expr()
			continue
		}
		e.i++
	}
}

// pyImport reads "import a.b as c" and "from a import b as c, d".
func (e *evaluator) pyImport() {
	if e.is(0, tIdent, "from") {
		e.i++
		for e.is(0, tIdent, "") && e.peek(0).s != "import" || e.is(0, tPunct, ".") {
			e.i++
		}
	}
	e.i++ // import
	for e.i < e.end && !e.is(0, tEnd, "") {
		name := ""
		for e.is(0, tIdent, "") && e.peek(0).s != "as" || e.is(0, tPunct, ".") {
			name += e.peek(0).s
			e.i++
		}
		bound := name
		if e.is(0, tIdent, "as") && e.is(1, tIdent, "") {
			bound = e.peek(1).s
			e.i += 2
		}
		if bound != name && name != "" && len(e.alias) < 1000 {
			e.alias[bound] = name
		}
		if !e.is(0, tPunct, ",") && !e.is(0, tPunct, "(") && !e.is(0, tPunct, ")") {
			return
		}
		e.i++
	}
}

func (e *evaluator) prevIsDot() bool {
	if e.i == 0 {
		return false
	}
	p := e.toks[e.i-1]
	return p.k == tPunct && (p.s == "." || p.s == "?." || p.s == "::")
}

// afterExpr handles "do |x|" after a Ruby call: the block parameter is
// bound to the call's object (Gitlab.configure do |config|).
func (e *evaluator) afterExpr(v sval) {
	if e.d == langRuby && e.is(0, tIdent, "do") && e.is(1, tPunct, "|") && e.is(2, tIdent, "") {
		if v.obj != nil {
			e.vars[e.peek(2).s] = v
		}
		e.i += 3
	}
}

// assignment evaluates "name = expr", "name.attr = expr" and
// "name[key] = expr" (headers, client settings); false when the
// statement is not one.
func (e *evaluator) assignment() bool {
	j := e.i
	name := e.toks[j].s
	j++
	var attr []string
	var key *sval
	for j < e.end {
		t := e.toks[j]
		if t.k == tPunct && t.s == "." && j+1 < e.end && e.toks[j+1].k == tIdent {
			attr = append(attr, e.toks[j+1].s)
			j += 2
			continue
		}
		break
	}
	if j < e.end && e.toks[j].k == tPunct && e.toks[j].s == "[" {
		save := e.i
		e.i = j + 1
		k := e.expr()
		if !e.is(0, tPunct, "]") {
			e.i = save
			return false
		}
		key = &k
		j = e.i + 1
		e.i = save
	}
	if j >= e.end || e.toks[j].k != tPunct || (e.toks[j].s != "=" && e.toks[j].s != "+=") {
		// Python annotated assignment "x: str = ...".
		if e.d == langPython && len(attr) == 0 && key == nil && j+2 < e.end && e.toks[j].s == ":" && e.toks[j+1].k == tIdent && e.toks[j+2].s == "=" {
			j += 2
		} else {
			return false
		}
	}
	plus := e.toks[j].s == "+="
	e.line = e.toks[e.i].line
	e.i = j + 1
	v := e.expr()
	if lo := e.libObject(name); lo.obj != nil && (len(attr) > 0 || key != nil) {
		if _, ok := e.vars[name]; !ok {
			e.vars[name] = lo
		}
	}
	target, ok := e.vars[name]
	switch {
	case len(attr) == 0 && key == nil:
		if plus {
			v = target.concat(v)
		}
		e.vars[name] = v
	case ok && target.obj != nil:
		e.setOnObject(target.obj, attr, key, v)
	case ok && target.isMap && key != nil && len(attr) == 0:
		target.dict = append(append([]kv(nil), target.dict...), kv{k: key.s, v: v})
		e.vars[name] = target
	case !ok && e.d == langRuby && name == "Gitlab" && len(attr) == 1:
		// Gitlab.private_token = ...: the module-level client.
		o := e.rubyGitlabModule()
		e.setOnObject(o.obj, attr, key, v)
	}
	return true
}

// expr evaluates an expression: operands joined by "+", with "or",
// "||" and "??" defaults.
func (e *evaluator) expr() sval {
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > 64 {
		e.skipToEnd()
		return unknownVal("expr")
	}
	v := e.operand()
	for e.i < e.end {
		t := e.peek(0)
		switch {
		case t.k == tPunct && t.s == "+":
			e.i++
			v = v.concat(e.operand())
		case t.k == tPunct && (t.s == "||" || t.s == "??") || t.k == tIdent && t.s == "or" && e.d != langNode:
			e.i++
			w := e.operand()
			if !v.set || v.unsetEnv || v.s == "" && v.obj == nil && !v.isMap {
				v = w
			}
		case t.k == tPunct && t.s == "%" && e.d == langPython:
			// "%s/projects/%s" % (a, b): positional substitution.
			e.i++
			w := e.operand()
			v = percentFormat(v, w)
		default:
			return v
		}
	}
	return v
}

func (e *evaluator) skipToEnd() {
	for e.i < e.end && e.toks[e.i].k != tEnd {
		e.i++
	}
}

// percentFormat substitutes %s and %d of a Python format string.
func percentFormat(f, a sval) sval {
	if !f.set || f.obj != nil {
		return unknownVal("expr")
	}
	items := []sval{a}
	if a.isMap && len(a.dict) > 0 && a.dict[0].k == "" {
		items = nil
		for _, p := range a.dict {
			items = append(items, p.v)
		}
	}
	out := sval{set: true, unk: append([]string(nil), f.unk...)}
	s := f.s
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+1 < len(s) && (s[i+1] == 's' || s[i+1] == 'd') {
			if n < len(items) && items[n].set && items[n].obj == nil && !items[n].isMap {
				b.WriteString(items[n].s)
				out.unk = append(out.unk, items[n].unk...)
			} else {
				u := unknownVal("arg")
				b.WriteString(u.s)
				out.unk = append(out.unk, u.unk...)
			}
			n++
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	out.s = b.String()
	return out
}

// operand evaluates one operand: a literal, a name with its accessors
// and calls, a bracketed expression, or a dict/list literal.
func (e *evaluator) operand() sval {
	t := e.peek(0)
	switch {
	case t.k == tStr:
		e.i++
		v := e.strValue(t)
		// Adjacent literals concatenate (Python, Ruby).
		for e.is(0, tStr, "") && e.d != langNode {
			v = v.concat(e.strValue(e.peek(0)))
			e.i++
		}
		return e.postfix(v, "")
	case t.k == tNum:
		e.i++
		return strVal(t.s)
	case t.k == tPunct && t.s == "(":
		e.i++
		v := e.expr()
		if e.is(0, tPunct, ",") {
			// A tuple: its items, for "%" formatting.
			items := []kv{{v: v}}
			for e.is(0, tPunct, ",") {
				e.i++
				if e.is(0, tPunct, ")") {
					break
				}
				items = append(items, kv{v: e.expr()})
			}
			v = sval{isMap: true, dict: items, set: true}
		}
		if !e.is(0, tPunct, ")") {
			e.scanUntil()
			return e.postfix(unknownVal("expr"), "")
		}
		e.i++
		return e.postfix(v, "")
	case t.k == tPunct && t.s == "{":
		e.i++
		return e.postfix(e.dictLit(), "")
	case t.k == tPunct && t.s == "[":
		e.i++
		e.scanUntil()
		return unknownVal("list")
	case t.k == tPunct && (t.s == ":" && e.d == langRuby):
		// A Ruby symbol :name.
		if e.is(1, tIdent, "") {
			e.i += 2
			return strVal(e.toks[e.i-1].s)
		}
	case t.k == tIdent:
		return e.chain()
	}
	if t.k != tEnd {
		e.i++
	}
	return sval{}
}

func (e *evaluator) expect(p string) {
	if e.is(0, tPunct, p) {
		e.i++
	}
}

// strValue evaluates a string literal with its interpolations.
func (e *evaluator) strValue(t stok) sval {
	if t.parts == nil {
		return strVal(t.s)
	}
	v := strVal("")
	for _, p := range t.parts {
		if !p.isEx {
			v = v.concat(strVal(p.lit))
			continue
		}
		v = v.concat(e.sub(p.expr))
	}
	return v
}

// sub evaluates the source of an interpolated expression with the same
// variables.
func (e *evaluator) sub(src string) sval {
	if e.depth > 8 || strings.TrimSpace(src) == "" {
		return unknownVal(src)
	}
	save := *e
	e.toks, e.i = lex(e.d, src), 0
	e.end = len(e.toks)
	e.depth++
	v := e.expr()
	complete := e.i >= e.end || e.is(0, tEnd, "")
	reqs, steps := e.reqs, e.steps+len(e.toks)
	*e = save
	e.reqs, e.steps = reqs, steps
	if !complete || !v.set || v.obj != nil || v.isMap {
		return unknownVal(src)
	}
	return v
}

// dictLit reads a dict, hash or object literal after its "{". Keys are
// strings, Ruby symbols and (Ruby, JavaScript) bare names; a Python bare
// name is a variable. JavaScript shorthand {url} and spreads {...h} are
// followed.
func (e *evaluator) dictLit() sval {
	d := sval{isMap: true, set: true}
	for n := 0; e.i < e.end && n < 1000; n++ {
		if e.is(0, tPunct, "}") {
			e.i++
			return d
		}
		if e.is(0, tPunct, "...") || e.is(0, tPunct, "**") {
			e.i++
			if s := e.expr(); s.isMap {
				d.dict = append(d.dict, s.dict...)
			}
		} else {
			var key string
			t := e.peek(0)
			switch {
			case t.k == tIdent && e.d != langPython && (e.is(1, tPunct, ":") || e.is(1, tPunct, ",") || e.is(1, tPunct, "}")):
				key = t.s
				e.i++
				if !e.is(0, tPunct, ":") {
					d.dict = append(d.dict, kv{k: key, v: e.vars[key]})
					goto next
				}
			case t.k == tPunct && t.s == ":" && e.d == langRuby && e.is(1, tIdent, ""):
				key = e.peek(1).s
				e.i += 2
			case t.k == tPunct && t.s == "[" && e.d == langNode:
				e.i++
				key = e.expr().s
				e.expect("]")
			default:
				key = e.operandNoCall().s
			}
			if e.is(0, tPunct, ":") || e.is(0, tPunct, "=>") {
				e.i++
			}
			d.dict = append(d.dict, kv{k: key, v: e.expr()})
		}
	next:
		if e.is(0, tPunct, ",") {
			e.i++
			continue
		}
		if !e.is(0, tPunct, "}") {
			// Not a literal we read (a comprehension, a block): evaluate
			// what is left of it.
			e.scanUntil()
			return d
		}
	}
	return d
}

// operandNoCall evaluates a dict key.
func (e *evaluator) operandNoCall() sval {
	t := e.peek(0)
	if t.k == tStr {
		e.i++
		return e.strValue(t)
	}
	if t.k == tIdent {
		e.i++
		if v, ok := e.vars[t.s]; ok {
			return v
		}
		return unknownVal(t.s)
	}
	return e.operand()
}

// scanUntil evaluates what is left inside a bracket up to its closer
// (any closing bracket ends it), so that calls in comprehensions,
// conditional expressions and blocks are still seen.
func (e *evaluator) scanUntil() {
	for e.i < e.end && e.steps < maxEvalSteps {
		e.steps++
		t := e.toks[e.i]
		switch {
		case t.k == tPunct && (t.s == ")" || t.s == "]" || t.s == "}"):
			e.i++
			return
		case t.k == tIdent || t.k == tStr || t.k == tPunct && (t.s == "(" || t.s == "[" || t.s == "{"):
			before := e.i
			e.expr()
			if e.i == before {
				e.i++
			}
		default:
			e.i++
		}
	}
}

// callArgs reads call arguments after "(" up to ")"; with paren false
// (a Ruby call without parentheses) up to the end of the statement.
func (e *evaluator) callArgs(paren bool) args {
	var a args
	for n := 0; e.i < e.end && n < 200; n++ {
		if paren && e.is(0, tPunct, ")") {
			e.i++
			return a
		}
		if e.is(0, tEnd, "") || !paren && e.is(0, tIdent, "do") {
			return a
		}
		t := e.peek(0)
		switch {
		case t.k == tIdent && e.d == langPython && e.is(1, tPunct, "="):
			e.i += 2
			a.kw = append(a.kw, kv{k: t.s, v: e.expr()})
		case t.k == tIdent && e.d == langRuby && e.is(1, tPunct, ":") && !e.is(1, tPunct, "::"):
			e.i += 2
			a.kw = append(a.kw, kv{k: t.s, v: e.expr()})
		case t.k == tPunct && t.s == "**" || t.k == tPunct && t.s == "*":
			e.i++
			if v := e.expr(); v.isMap {
				a.kw = append(a.kw, v.dict...)
			}
		default:
			v := e.expr()
			if e.d == langRuby && e.is(0, tPunct, "=>") {
				e.i++
				a.kw = append(a.kw, kv{k: v.s, v: e.expr()})
				break
			}
			a.pos = append(a.pos, v)
		}
		if e.is(0, tPunct, ",") {
			e.i++
			continue
		}
		if paren && !e.is(0, tPunct, ")") {
			// A generator argument "f(x for x in y)": evaluate the rest.
			e.scanUntil()
			return a
		}
	}
	return a
}

// chain evaluates a name with its accessors: a.b.c, a::B, a(...),
// a[...], a?.b; calls go to the client tables.
func (e *evaluator) chain() sval {
	name := e.toks[e.i].s
	e.i++
	switch name {
	case "await", "return", "yield", "void", "typeof", "async", "not", "puts", "print":
		// Keywords (and Ruby's puts x) before an expression.
		if e.is(0, tIdent, "") || e.is(0, tStr, "") || e.is(0, tPunct, "(") {
			return e.operand()
		}
	}
	if name == "new" && e.d == langNode && e.is(0, tIdent, "") {
		// "new Gitlab({...})", "new URL(u)": the constructor call.
		name = e.toks[e.i].s
		e.i++
	}
	var cur sval
	path := name
	if lo := e.libObject(name); lo.obj != nil {
		if _, ok := e.vars[name]; !ok {
			e.vars[name] = lo
		}
	}
	if a, ok := e.alias[name]; ok {
		path = a
	}
	if v, ok := e.vars[name]; ok {
		cur, path = v, ""
	} else if name == "True" || name == "true" || name == "False" || name == "false" || name == "None" || name == "nil" || name == "null" || name == "undefined" {
		return strVal(strings.ToLower(name))
	}
	return e.postfix(cur, path)
}

// postfix applies accessors and calls to cur (or, while no value is
// known, to the dotted library path).
func (e *evaluator) postfix(cur sval, path string) sval {
	for e.i < e.end {
		e.steps++
		t := e.peek(0)
		switch {
		case t.k == tPunct && (t.s == "." || t.s == "?." || t.s == "::") && e.is(1, tIdent, ""):
			e.i += 2
			attr := e.toks[e.i-1].s
			if path != "" || cur.obj == nil && !cur.set {
				path = joinPath(path, attr)
				continue
			}
			switch {
			case e.is(0, tPunct, "("):
				e.line = e.toks[e.i-1].line
				e.i++
				cur = e.method(cur, attr, e.callArgs(true))
			case e.d == langRuby && cur.obj != nil && e.rubyArgsFollow():
				e.line = e.toks[e.i-1].line
				cur = e.method(cur, attr, e.callArgs(false))
			case e.d == langRuby && cur.obj != nil && cur.obj.kind == objGitlab:
				// Gitlab.configure, client.releases: a call without arguments.
				e.line = e.toks[e.i-1].line
				cur = e.method(cur, attr, args{})
			default:
				cur = e.attr(cur, attr)
			}
		case t.k == tPunct && t.s == "(":
			e.line = t.line
			e.i++
			a := e.callArgs(true)
			if path != "" {
				cur = e.call(path, a)
			} else {
				cur = e.callValue(cur, a)
			}
			path = ""
		case t.k == tPunct && t.s == "[":
			e.i++
			k := e.expr()
			e.expect("]")
			cur, path = e.index(cur, path, k), ""
		default:
			if path != "" {
				if v, ok := e.envPath(path); ok {
					return v
				}
				if e.d == langRuby && e.rubyArgsFollow() && rubyCallable(path) {
					e.line = t.line
					return e.call(path, e.callArgs(false))
				}
				if o := e.libObject(path); o.obj != nil {
					return o
				}
				return unknownVal(path)
			}
			return cur
		}
	}
	if path != "" {
		if v, ok := e.envPath(path); ok {
			return v
		}
		return unknownVal(path)
	}
	return cur
}

func joinPath(p, a string) string {
	if p == "" {
		return a
	}
	return p + "." + a
}

// rubyArgsFollow reports whether a Ruby call without parentheses
// follows: the next token starts an argument on the same statement.
func (e *evaluator) rubyArgsFollow() bool {
	t := e.peek(0)
	return t.k == tStr || t.k == tNum || t.k == tIdent && t.s != "do" && t.s != "if" && t.s != "unless" && t.s != "and" && t.s != "or" && t.s != "rescue" && t.s != "end"
}

// envPath resolves process.env.NAME.
func (e *evaluator) envPath(path string) (sval, bool) {
	if n, ok := strings.CutPrefix(path, "process.env."); ok && e.d == langNode {
		return e.envVal(n), true
	}
	return sval{}, false
}

// envVal is the value the job gives variable name at the command that
// runs the script; unset is "not set" (so a default applies).
func (e *evaluator) envVal(name string) sval {
	if len(e.envRead) < 1000 {
		e.envRead[name] = true
	}
	if v, ok := e.env(name); ok {
		return strVal(v)
	}
	return sval{}
}

// unsetAsRef turns an unset variable into its ${NAME} placeholder.
func unsetAsRef(v sval, name string) sval {
	if v.set {
		return v
	}
	return sval{s: "${" + name + "}", unk: []string{name}, set: true, unsetEnv: true}
}

// index evaluates x[key]: environment reads, dict lookups.
func (e *evaluator) index(cur sval, path string, k sval) sval {
	if path != "" {
		switch path {
		case "os.environ", "environ", "ENV", "process.env":
			return unsetAsRef(e.envVal(k.s), k.s)
		}
		return unknownVal(path)
	}
	if cur.isMap {
		if v, ok := cur.get(k.s); ok {
			return v
		}
	}
	return unknownVal("item")
}

// attr evaluates cur.attr for a value (not a library path).
func (e *evaluator) attr(cur sval, a string) sval {
	if cur.obj != nil {
		return e.objAttr(cur.obj, a)
	}
	if cur.isMap && e.d == langNode {
		if v, ok := cur.get(a); ok {
			return v
		}
	}
	return sval{}
}

// stringMethod applies a string method that keeps a URL's meaning.
func stringMethod(v sval, m string, a args) (sval, bool) {
	switch m {
	case "strip", "rstrip", "lstrip", "trim", "trimEnd", "trimStart", "chomp", "to_s", "toString", "format_map":
		if len(a.pos) > 0 && (m == "rstrip" || m == "lstrip" || m == "strip" || m == "chomp") {
			cut := a.pos[0].s
			switch m {
			case "rstrip", "chomp":
				v.s = strings.TrimRight(v.s, cut)
			case "lstrip":
				v.s = strings.TrimLeft(v.s, cut)
			default:
				v.s = strings.Trim(v.s, cut)
			}
			return v, true
		}
		if m == "strip" || m == "trim" || m == "rstrip" || m == "chomp" || m == "trimEnd" {
			v.s = strings.TrimRight(v.s, " \n\t")
		}
		return v, true
	case "format":
		// "{}/projects/{}".format(a, b): positional and named fields.
		return braceFormat(v, a), true
	case "join":
		return unknownVal("join"), true
	}
	return sval{}, false
}

// braceFormat substitutes str.format fields.
func braceFormat(f sval, a args) sval {
	out := sval{set: true, unk: append([]string(nil), f.unk...)}
	var b strings.Builder
	s, n := f.s, 0
	for i := 0; i < len(s); i++ {
		if s[i] != '{' {
			b.WriteByte(s[i])
			continue
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		field := fstringExpr(s[i+1 : i+j])
		var v sval
		var ok bool
		if field == "" {
			v, ok = a.arg(n)
			n++
		} else if isDigits(field) {
			v, ok = a.arg(int(field[0] - '0'))
		} else {
			v, ok = a.arg(-1, field)
		}
		if !ok || !v.set || v.obj != nil || v.isMap {
			v = unknownVal(field)
		}
		b.WriteString(v.s)
		out.unk = append(out.unk, v.unk...)
		i += j
	}
	out.s = b.String()
	return out
}

// urlEncode is what quote(x, safe="") and encodeURIComponent do to a
// project path: "/" becomes "%2F".
func urlEncode(v sval) sval {
	if !v.set || v.obj != nil {
		return unknownVal("encoded")
	}
	v.s = strings.ReplaceAll(v.s, "/", "%2F")
	return v
}
