package shell

import (
	"regexp"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/loc"
)

// PowerShell jobs (a runner whose shell is pwsh or powershell, pwsh -c
// 'code', .ps1 files). There is no PowerShell parser in Go; this is a
// conservative scanner, not an interpreter, that finds what matters for
// the job token:
//
//	Invoke-RestMethod -Headers @{ "JOB-TOKEN" = $env:CI_JOB_TOKEN } -Uri "$env:CI_API_V4_URL/projects/42/packages/generic/x/1/x.zip" -InFile x.zip -Method Put
//	git clone "https://gitlab-ci-token:$($env:CI_JOB_TOKEN)@gitlab.example.com/acme/lib.git"
//
// Rules (tested in powershell_test.go):
//   - Statements end at newlines, ; and the braces of script blocks
//     (if/try bodies are read inline, every branch); a line ending in a
//     backtick continues; pipelines are split at |. Keyword headers
//     (if (...), while (...)) are skipped; foreach ($x in 'a', 'b') runs
//     its block once per literal item (else once with $x unknown), within
//     the loop budget of shell scripts.
//   - $env:NAME, ${env:NAME} and $($env:NAME) read the job's variables;
//     $name reads what "$name = ..." assigned earlier (a string, a
//     concatenation with +, or a hashtable @{ k = v; ... }); anything
//     else stays unknown as ${NAME}, as in shell scripts. Double-quoted
//     strings and bare arguments expand variables; single-quoted ones
//     do not.
//   - Invoke-RestMethod, Invoke-WebRequest (irm, iwr, and curl/wget
//     written with their parameters) are returned as the equivalent curl
//     command line (-X method, -H "Name: value" per header from -Headers
//     @{...}, a hashtable variable or a splatted @params, -T for -InFile,
//     -o for -OutFile), so the web-request detectors read them; the Raw
//     of each word is the PowerShell text.
//   - Every other command is returned with its arguments expanded (git,
//     docker login, curl.exe ...); & and . before a command are dropped;
//     a .ps1 file of the repository run with & ./x.ps1, ./x.ps1 or pwsh
//     -File x.ps1 is read the same way.
//   - Anything the scanner cannot follow is left out, with one warning per
//     script saying the job was read as PowerShell.

// psVerbs are PowerShell's approved verbs that jobs use: a statement
// starting with Verb-Noun is a cmdlet call.
var psVerbs = map[string]bool{"Get": true, "Set": true, "New": true, "Remove": true, "Invoke": true, "Write": true,
	"Add": true, "Copy": true, "Move": true, "Test": true, "Start": true, "Stop": true, "Out": true, "Import": true,
	"Export": true, "Expand": true, "Compress": true, "Select": true, "Where": true, "ForEach": true, "Join": true,
	"Split": true, "Resolve": true, "ConvertTo": true, "ConvertFrom": true, "Push": true, "Pop": true,
	"Install": true, "Register": true, "Read": true, "Clear": true, "Rename": true}

// isPowerShell reports whether script text is PowerShell rather than
// shell: it reads $env:NAME or ${env:NAME}, or starts a statement (after
// an optional "$x = ") with a Verb-Noun cmdlet. Neither appears in shell
// scripts that run. It is on the path of every script, so it scans by
// hand (a regular expression doubled the analysis time).
func isPowerShell(text string) bool {
	for i := 0; i < len(text); i++ {
		if text[i] == '$' && i+5 < len(text) {
			t := text[i+1:]
			if t[0] == '{' {
				t = t[1:]
			}
			if len(t) >= 4 && strings.EqualFold(t[:4], "env:") {
				return true
			}
		}
	}
	for len(text) > 0 {
		line := text
		if j := strings.IndexByte(text, '\n'); j >= 0 {
			line, text = text[:j], text[j+1:]
		} else {
			text = ""
		}
		if psCmdletLine(line) {
			return true
		}
	}
	return false
}

// psCmdletLine reports whether a line starts with a cmdlet call.
func psCmdletLine(line string) bool {
	line = strings.TrimLeft(line, " \t")
	if strings.HasPrefix(line, "$") {
		// $r = Invoke-RestMethod ...
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			return false
		}
		line = strings.TrimLeft(line[eq+1:], " \t")
	}
	dash := strings.IndexByte(line, '-')
	if dash <= 0 || dash > 12 || !psVerbs[line[:dash]] || dash+1 >= len(line) {
		return false
	}
	c := line[dash+1]
	return c >= 'A' && c <= 'Z'
}

// psSession reports whether the sources of a session are PowerShell: an
// item reads as PowerShell without naming pwsh or powershell (a shell
// job running pwsh -Command '...' stays a shell job). Jobs are written
// in one language; a PowerShell job's simple lines (git clone ...) also
// parse as shell, so the whole session goes one way.
func (a *analyzer) psSession(sources []Source) bool {
	for _, s := range sources {
		if isPowerShell(s.Text) {
			lower := strings.ToLower(s.Text)
			if !strings.Contains(lower, "pwsh") && !strings.Contains(lower, "powershell") {
				return true
			}
		}
	}
	return false
}

// psState is the scanner's state for one PowerShell session.
type psState struct {
	a      *analyzer
	st     *shState
	tables map[string][]psEntry // hashtable variables, by lower-case name
	depth  int                  // .ps1 files and pwsh -Command strings being read
	nest   int                  // expression nesting being evaluated
}

// maxPSNest bounds nested hashtables and parentheses in one expression
// (hostile input: each level rescans its text).
const maxPSNest = 16

type psEntry struct {
	key string
	val Word
	sub []psEntry // a nested hashtable (Headers = @{...} in splatted parameters)
}

// maxPSDepth bounds .ps1 files running .ps1 files.
const maxPSDepth = 8

// powershell analyses a session of PowerShell sources.
func (a *analyzer) powershell(st *shState, sources []Source) {
	ps := &psState{a: a, st: st, tables: map[string][]psEntry{}}
	for i := range sources {
		src := &sources[i]
		step := src.LineStep
		if step < 0 || step > 1 {
			step = 1
		}
		ctx := &srcCtx{text: src.Text, project: src.Pos.Project, file: src.Pos.File, line: max(src.Pos.Line, 1), step: step, section: src.Section}
		if i == 0 {
			a.diags = append(a.diags, diag.Diagnostic{Severity: diag.Warning, Pos: loc.Pos{Project: ctx.project, File: ctx.file, Line: ctx.line},
				Summary: "the job's script was read as PowerShell",
				Detail:  "only web requests (Invoke-RestMethod, Invoke-WebRequest) and the arguments of commands such as git were followed"})
		}
		ps.text(ctx, src.Text)
		if a.halted {
			return
		}
	}
}

// text scans one piece of PowerShell.
func (ps *psState) text(ctx *srcCtx, text string) {
	ps.stmts(ctx, psStatements(text))
}

func (ps *psState) stmts(ctx *srcCtx, list []psStmt) {
	for i := 0; i < len(list); i++ {
		if ps.a.halted {
			return
		}
		s := list[i]
		if name, items, ok := ps.foreach(s.text); ok {
			// The body: the statements in the blocks that follow.
			j := i + 1
			for j < len(list) && list[j].block > s.block {
				j++
			}
			body := list[i+1 : j]
			if len(items) > maxLoopItems {
				items = items[:maxLoopItems]
			}
			if !ps.a.unrollAllowed(ctx, syntax.NewPos(0, uint(max(s.line, 1)), 1), len(items)) {
				items = nil // nested loops past the budget: once, unknown
			}
			for _, it := range items {
				ps.st.setVar("ps:"+strings.ToLower(name), &variable{value: it.Value, unknown: it.Unknown})
				ps.stmts(ctx, body)
			}
			if len(items) == 0 {
				ps.st.setVar("ps:"+strings.ToLower(name), unknownVar(name))
				ps.stmts(ctx, body)
			}
			i = j - 1
			continue
		}
		for _, part := range psSplit(s.text, '|') {
			ps.statement(ctx, s.line, strings.TrimSpace(part))
		}
	}
}

var psForeach = regexp.MustCompile(`(?i)^foreach\s*\(\s*\$(\w+)\s+in\s+(.*)\)$`)

// foreach recognises foreach ($x in LIST): the items of a literal list
// ('a', 'b' or @('a', 'b') or a variable holding one string), none when
// the list is not known (the body then runs once with $x unknown).
func (ps *psState) foreach(s string) (string, []Word, bool) {
	if len(s) < 7 || !strings.EqualFold(s[:7], "foreach") {
		return "", nil, false
	}
	m := psForeach.FindStringSubmatch(s)
	if m == nil {
		return "", nil, false
	}
	list := strings.TrimSpace(m[2])
	if strings.HasPrefix(list, "@(") && strings.HasSuffix(list, ")") {
		list = list[2 : len(list)-1]
	}
	var items []Word
	for _, it := range psSplit(list, ',') {
		it = strings.TrimSpace(it)
		if it == "" || !(it[0] == '\'' || it[0] == '"') {
			return m[1], nil, true
		}
		w := ps.arg(it)
		if !w.Known() {
			return m[1], nil, true
		}
		items = append(items, w)
	}
	return m[1], items, true
}

type psStmt struct {
	text  string
	line  int // 1-based line within the text
	block int // script blocks open around it
}

// psStatements splits PowerShell text into statements (see the rules
// above): hashtables @{...}, subexpressions $(...) and parentheses stay
// inside their statement; script-block braces separate statements.
func psStatements(text string) []psStmt {
	var out []psStmt
	var sb strings.Builder
	line, start := 1, 1
	var stack []byte // open brackets: '@' hashtable, '(' paren
	var quote byte
	block := 0 // open script blocks
	flush := func() {
		if t := strings.TrimSpace(sb.String()); t != "" {
			out = append(out, psStmt{t, start, block})
		}
		sb.Reset()
		start = line
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\n' {
			line++
		}
		if quote != 0 {
			sb.WriteByte(c)
			switch {
			case c == '`' && quote == '"' && i+1 < len(text):
				i++
				sb.WriteByte(text[i])
				if text[i] == '\n' {
					line++
				}
			case c == quote:
				quote = 0
			}
			continue
		}
		switch {
		case c == '\'' || c == '"':
			quote = c
			sb.WriteByte(c)
		case c == '#' && (i == 0 || text[i-1] == ' ' || text[i-1] == '\t' || text[i-1] == '\n' || text[i-1] == ';'):
			for i+1 < len(text) && text[i+1] != '\n' {
				i++
			}
		case c == '`' && i+1 < len(text) && (text[i+1] == '\n' || text[i+1] == '\r'):
			// Line continuation.
			for i+1 < len(text) && text[i+1] != '\n' {
				i++
			}
			i++
			line++
			sb.WriteByte(' ')
		case c == '@' && i+1 < len(text) && text[i+1] == '{':
			stack = append(stack, '@')
			sb.WriteString("@{")
			i++
		case c == '(':
			stack = append(stack, '(')
			sb.WriteByte(c)
		case c == ')' && len(stack) > 0 && stack[len(stack)-1] == '(':
			stack = stack[:len(stack)-1]
			sb.WriteByte(c)
		case c == '{' && len(stack) > 0:
			stack = append(stack, '{')
			sb.WriteByte(c)
		case c == '}' && len(stack) > 0:
			stack = stack[:len(stack)-1]
			sb.WriteByte(c)
		case len(stack) == 0 && (c == '\n' || c == ';' || c == '{' || c == '}'):
			flush()
			switch c {
			case '{':
				block++
			case '}':
				block = max(block-1, 0)
			}
		case len(stack) > 0 && c == '\n':
			if stack[len(stack)-1] == '@' {
				sb.WriteByte(';') // hashtable entries on their own lines
			} else {
				sb.WriteByte(' ')
			}
		case c == '<' && i+1 < len(text) && text[i+1] == '#':
			// <# block comment #>
			end := strings.Index(text[i:], "#>")
			if end < 0 {
				end = len(text) - i
			}
			line += strings.Count(text[i:i+end], "\n")
			i += end + 1
		default:
			sb.WriteByte(c)
		}
	}
	flush()
	return out
}

// psSplit splits s at sep outside quotes and brackets.
func psSplit(s string, sep byte) []string {
	var out []string
	depth, last := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			if c == '`' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			quote = c
		case '(', '{':
			depth++
		case ')', '}':
			depth--
		case sep:
			if depth == 0 {
				out = append(out, s[last:i])
				last = i + 1
			}
		}
	}
	return append(out, s[last:])
}

// psTokens splits a statement into tokens at spaces outside quotes and
// brackets.
func psTokens(s string) []string {
	var out []string
	var sb strings.Builder
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			sb.WriteByte(c)
			if c == '`' && quote == '"' && i+1 < len(s) {
				i++
				sb.WriteByte(s[i])
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch {
		case c == '\'' || c == '"':
			quote = c
			sb.WriteByte(c)
		case c == '(' || c == '{':
			depth++
			sb.WriteByte(c)
		case c == ')' || c == '}':
			depth--
			sb.WriteByte(c)
		case (c == ' ' || c == '\t' || c == '\r' || c == '\n') && depth <= 0:
			if sb.Len() > 0 {
				out = append(out, sb.String())
				sb.Reset()
			}
		default:
			sb.WriteByte(c)
		}
	}
	if sb.Len() > 0 {
		out = append(out, sb.String())
	}
	return out
}

var psKeywords = map[string]bool{"if": true, "elseif": true, "else": true, "foreach": true, "for": true, "while": true,
	"do": true, "until": true, "try": true, "catch": true, "finally": true, "switch": true, "function": true,
	"param": true, "begin": true, "process": true, "end": true, "trap": true, "filter": true}

var psAssign = regexp.MustCompile(`^(?:\[[^\]]*\]\s*)*\$(\{?(?:env:|global:|script:|local:)?[A-Za-z_][A-Za-z0-9_]*\}?)\s*(\+?=)\s*(.*)$`)

// statement handles one statement (one pipeline element).
func (ps *psState) statement(ctx *srcCtx, line int, s string) {
	if s == "" || !ps.a.step(ctx, syntax.NewPos(0, uint(max(line, 1)), 1)) {
		return
	}
	toks := psTokens(s)
	if len(toks) == 0 {
		return
	}
	first := strings.ToLower(toks[0])
	if i := strings.IndexByte(first, '('); i > 0 {
		first = first[:i]
	}
	if psKeywords[first] {
		return
	}
	if m := psAssign.FindStringSubmatch(s); m != nil && !strings.HasPrefix(m[3], "=") {
		ps.assign(strings.Trim(m[1], "{}"), m[2] == "+=", strings.TrimSpace(m[3]))
		if strings.HasPrefix(strings.TrimSpace(m[3]), "@{") || !psLooksCommand(m[3]) {
			return
		}
		toks = psTokens(strings.TrimSpace(m[3])) // $r = Invoke-RestMethod ...
	}
	if toks[0] == "&" || toks[0] == "." {
		toks = toks[1:]
	}
	if len(toks) == 0 {
		return
	}
	switch toks[0][0] {
	case '$', '(', '[', '@', '-', '\'', '"':
		if toks[0][0] != '"' && toks[0][0] != '\'' || !strings.HasSuffix(strings.ToLower(toks[0]), ".ps1"+toks[0][:1]) {
			return // an expression ($resp | ConvertTo-Json), not a command
		}
	}
	ps.command(ctx, line, toks)
}

// psLooksCommand reports whether the right side of an assignment runs a
// command (a bare word first) rather than computing a value.
func psLooksCommand(rhs string) bool {
	rhs = strings.TrimSpace(rhs)
	if rhs == "" {
		return false
	}
	switch rhs[0] {
	case '"', '\'', '$', '@', '(', '[', '-':
		return false
	}
	return !(rhs[0] >= '0' && rhs[0] <= '9')
}

func (ps *psState) assign(name string, add bool, rhs string) {
	lower := strings.ToLower(name)
	if strings.HasPrefix(rhs, "@{") {
		ps.tables[lower] = ps.table(rhs)
		return
	}
	var w Word
	if psLooksCommand(rhs) {
		w = Word{Value: "${" + name + "}", Unknown: []string{name}}
	} else {
		w = ps.expr(rhs)
	}
	for _, p := range []string{"global:", "script:", "local:"} {
		lower = strings.TrimPrefix(lower, p)
	}
	if env, ok := strings.CutPrefix(lower, "env:"); ok {
		name = name[len(name)-len(env):]
		if add {
			if old, ok := ps.st.env.lookup(name); ok {
				w = concat(old.word(), w)
			}
		}
		ps.st.setVar(name, &variable{value: w.Value, unknown: w.Unknown, exported: true})
		return
	}
	delete(ps.tables, lower)
	key := "ps:" + lower
	if add {
		if old, ok := ps.st.env.lookup(key); ok {
			w = concat(old.word(), w)
		}
	}
	ps.st.setVar(key, &variable{value: w.Value, unknown: w.Unknown})
}

func concat(a, b Word) Word {
	w := Word{Value: a.Value + b.Value}
	for _, u := range a.Unknown {
		w.Unknown = addName(w.Unknown, u)
	}
	for _, u := range b.Unknown {
		w.Unknown = addName(w.Unknown, u)
	}
	return w
}

// table parses a hashtable literal @{ k = v; k2 = v2 }.
func (ps *psState) table(s string) []psEntry {
	if ps.nest >= maxPSNest {
		return nil
	}
	ps.nest++
	defer func() { ps.nest-- }()
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "@{")
	s = strings.TrimSuffix(s, "}")
	var out []psEntry
	for _, item := range psSplit(strings.ReplaceAll(s, "\n", ";"), ';') {
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if len(k) >= 2 && (k[0] == '"' || k[0] == '\'') && k[len(k)-1] == k[0] {
			k = k[1 : len(k)-1]
		}
		if k == "" {
			continue
		}
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, "@{") {
			out = append(out, psEntry{key: k, sub: ps.table(v)})
			continue
		}
		if strings.HasPrefix(v, "$") && ps.tables[strings.ToLower(strings.Trim(v[1:], "{}"))] != nil {
			out = append(out, psEntry{key: k, sub: ps.tables[strings.ToLower(strings.Trim(v[1:], "{}"))]})
			continue
		}
		out = append(out, psEntry{key: k, val: ps.expr(v)})
	}
	return out
}

// expr evaluates an expression: strings, variables, and + of them.
func (ps *psState) expr(s string) Word {
	if ps.nest >= maxPSNest {
		return Word{Value: cmdSubstUnknown, Unknown: []string{cmdSubstUnknown}}
	}
	ps.nest++
	defer func() { ps.nest-- }()
	s = strings.TrimSpace(s)
	parts := psSplit(s, '+')
	if len(parts) > 1 {
		var w Word
		for _, p := range parts {
			w = concat(w, ps.expr(p))
		}
		return w
	}
	if len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' {
		return ps.expr(s[1 : len(s)-1])
	}
	return ps.arg(s)
}

// arg expands one argument token.
func (ps *psState) arg(s string) Word {
	switch {
	case len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'':
		return Word{Value: strings.ReplaceAll(s[1:len(s)-1], "''", "'")}
	case len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"':
		return ps.interpolate(s[1 : len(s)-1])
	}
	return ps.interpolate(s)
}

var psVarRef = regexp.MustCompile(`^\$(?:\{([^}]+)\}|((?:env:|global:|script:|local:)?[A-Za-z_][A-Za-z0-9_]*))`)

// interpolate expands variables and $(...) in a double-quoted string or
// a bare argument.
func (ps *psState) interpolate(s string) Word {
	var w Word
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '`' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				sb.WriteByte('\n')
			case 't':
				sb.WriteByte('\t')
			case 'r':
			default:
				sb.WriteByte(s[i])
			}
		case c == '$' && i+1 < len(s) && s[i+1] == '(':
			depth, j := 0, i+1
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
			inner := strings.TrimSpace(s[i+2 : min(j, len(s))])
			if psVarRef.FindString(inner) == inner && inner != "" {
				v := ps.ref(inner)
				sb.WriteString(v.Value)
				for _, u := range v.Unknown {
					w.Unknown = addName(w.Unknown, u)
				}
			} else {
				sb.WriteString(cmdSubstUnknown)
				w.Unknown = addName(w.Unknown, cmdSubstUnknown)
			}
			i = j
		case c == '$':
			m := psVarRef.FindString(s[i:])
			if m == "" {
				sb.WriteByte(c)
				continue
			}
			v := ps.ref(m)
			sb.WriteString(v.Value)
			for _, u := range v.Unknown {
				w.Unknown = addName(w.Unknown, u)
			}
			i += len(m) - 1
		default:
			sb.WriteByte(c)
		}
	}
	w.Value = sb.String()
	return w
}

// ref reads a variable reference ($env:X, ${env:X}, $x).
func (ps *psState) ref(m string) Word {
	name := strings.TrimPrefix(m, "$")
	name = strings.TrimSuffix(strings.TrimPrefix(name, "{"), "}")
	lower := strings.ToLower(name)
	for _, p := range []string{"global:", "script:", "local:"} {
		lower = strings.TrimPrefix(lower, p)
	}
	if env, ok := strings.CutPrefix(lower, "env:"); ok {
		n := name[len(name)-len(env):]
		if v, ok := ps.st.env.lookup(n); ok && v.state == varSet {
			return v.word()
		}
		return Word{Value: "${" + n + "}", Unknown: []string{n}}
	}
	switch lower {
	case "true", "false", "null":
		return Word{Value: ""}
	}
	if v, ok := ps.st.env.lookup("ps:" + lower); ok && v.state == varSet {
		return v.word()
	}
	return Word{Value: "${" + name + "}", Unknown: []string{name}}
}

// webCmdlets are the PowerShell web request commands and their aliases.
var webCmdlets = map[string]bool{"invoke-restmethod": true, "invoke-webrequest": true, "irm": true, "iwr": true}

func (ps *psState) command(ctx *srcCtx, line int, toks []string) {
	name := strings.ToLower(toks[0])
	base := name[strings.LastIndexAny(name, `/\`)+1:]
	switch {
	case webCmdlets[base] || (base == "curl" || base == "wget") && psHasParam(toks[1:], "uri", "headers", "method", "infile", "outfile"):
		ps.webRequest(ctx, line, toks)
		return
	case strings.HasSuffix(base, ".ps1"):
		ps.runFile(ctx, line, toks[0])
		return
	case base == "pwsh" || base == "pwsh.exe" || base == "powershell" || base == "powershell.exe":
		for i := 1; i < len(toks); i++ {
			t := strings.ToLower(toks[i])
			switch {
			case strings.HasPrefix("-file", t) && len(t) > 1 && i+1 < len(toks):
				ps.runFile(ctx, line, toks[i+1])
				return
			case (strings.HasPrefix("-command", t) && len(t) > 1) && i+1 < len(toks):
				code := ps.arg(toks[i+1])
				if code.Known() && ps.depth < maxPSDepth {
					ps.depth++
					defer func() { ps.depth-- }()
					ps.text(&srcCtx{text: code.Value, project: ctx.project, file: ctx.file, line: ctx.pos(syntax.NewPos(0, uint(line), 1)).Line, step: 0, section: ctx.section}, code.Value)
				}
				return
			}
		}
	}
	args := make([]Word, 0, len(toks))
	for _, t := range toks {
		w := ps.arg(t)
		w.Raw = t
		args = append(args, w)
	}
	args[0].Value = strings.TrimSuffix(args[0].Value, ".exe")
	ps.emit(ctx, line, args)
}

func (ps *psState) emit(ctx *srcCtx, line int, args []Word) {
	ps.a.emit(ps.st, ctx, syntax.NewPos(0, uint(max(line, 1)), 1), args, nil, ps.st.env.freeze(), nil)
}

// psHasParam reports whether toks hold one of the named parameters.
func psHasParam(toks []string, names ...string) bool {
	for _, t := range toks {
		if p, ok := psParam(t); ok {
			for _, n := range names {
				if strings.HasPrefix(n, p) {
					return true
				}
			}
		}
	}
	return false
}

// psParam returns the lower-case name of a -Parameter token.
func psParam(t string) (string, bool) {
	if len(t) < 2 || t[0] != '-' || !(t[1] >= 'A' && t[1] <= 'Z' || t[1] >= 'a' && t[1] <= 'z') {
		return "", false
	}
	t, _, _ = strings.Cut(t, ":")
	return strings.ToLower(t[1:]), true
}

// webRequest returns an Invoke-RestMethod/Invoke-WebRequest call as the
// equivalent curl command line.
func (ps *psState) webRequest(ctx *srcCtx, line int, toks []string) {
	var uri, method, infile, outfile, body *Word
	var headers []Word
	addTable := func(raw string, entries []psEntry) {
		for _, e := range entries {
			headers = append(headers, Word{Raw: raw, Value: e.key + ": " + e.val.Value, Unknown: e.val.Unknown})
		}
	}
	set := func(param string, raw string) {
		w := ps.arg(raw)
		w.Raw = raw
		switch {
		case strings.HasPrefix("uri", param):
			uri = &w
		case strings.HasPrefix("method", param) && len(param) >= 2:
			w.Value = strings.ToUpper(w.Value)
			method = &w
		case strings.HasPrefix("infile", param) && len(param) >= 2:
			infile = &w
		case strings.HasPrefix("outfile", param) && len(param) >= 2:
			outfile = &w
		case strings.HasPrefix("body", param) && len(param) >= 2:
			body = &w
		case strings.HasPrefix("headers", param) && len(param) >= 2:
			switch {
			case strings.HasPrefix(raw, "@{"):
				addTable(raw, ps.table(raw))
			case strings.HasPrefix(raw, "$"):
				addTable(raw, ps.tables[strings.ToLower(strings.Trim(raw[1:], "{}"))])
			}
		}
	}
	for i := 1; i < len(toks); i++ {
		t := toks[i]
		if strings.HasPrefix(t, "@") && !strings.HasPrefix(t, "@{") {
			// Splatting: @params holds the parameters.
			for _, e := range ps.tables[strings.ToLower(t[1:])] {
				p := strings.ToLower(e.key)
				if strings.HasPrefix("headers", p) && len(p) >= 2 {
					addTable(t, e.sub)
					continue
				}
				v := e.val
				v.Raw = t
				switch {
				case p == "uri":
					uri = &v
				case p == "method":
					v.Value = strings.ToUpper(v.Value)
					method = &v
				case p == "infile":
					infile = &v
				case p == "outfile":
					outfile = &v
				}
			}
			continue
		}
		if p, ok := psParam(t); ok {
			if _, v, inline := strings.Cut(t, ":"); inline {
				set(p, v)
				continue
			}
			if i+1 < len(toks) {
				if _, isParam := psParam(toks[i+1]); !isParam {
					set(p, toks[i+1])
					i++
				}
			}
			continue
		}
		if uri == nil {
			set("uri", t)
		}
	}
	if uri == nil {
		return
	}
	lit := func(raw, v string) Word { return Word{Raw: raw, Value: v} }
	args := []Word{lit(toks[0], "curl")}
	if method != nil {
		args = append(args, lit("-Method", "-X"), *method)
	}
	for _, h := range headers {
		args = append(args, lit("-Headers", "-H"), h)
	}
	if infile != nil {
		args = append(args, lit("-InFile", "-T"), *infile)
	}
	if outfile != nil {
		args = append(args, lit("-OutFile", "-o"), *outfile)
	}
	if body != nil {
		args = append(args, lit("-Body", "--data-raw"), *body)
	}
	args = append(args, *uri)
	ps.emit(ctx, line, args)
}

// runFile reads a .ps1 file of the repository the job runs.
func (ps *psState) runFile(ctx *srcCtx, line int, tok string) {
	w := ps.arg(tok)
	if !w.Known() || ps.a.opts.ReadFile == nil || ps.depth >= maxPSDepth {
		return
	}
	rel, ok := ps.a.repoPath(ps.st, strings.ReplaceAll(w.Value, `\`, "/"))
	if !ok {
		return
	}
	data, err := ps.a.opts.ReadFile(rel)
	if err != nil || len(data) > ps.a.opts.MaxScriptSize {
		return
	}
	ps.depth++
	defer func() { ps.depth-- }()
	text := strings.TrimPrefix(string(data), "\uFEFF")
	ps.text(&srcCtx{text: text, project: ps.a.project, file: rel, line: 1, step: 1, section: rel}, text)
}

// pwshCommand follows pwsh -Command 'code' and pwsh -File x.ps1 run from
// a shell script.
func (a *analyzer) pwshCommand(st *shState, ctx *srcCtx, c *Command) {
	ps := &psState{a: a, st: st.childShell(), tables: map[string][]psEntry{}}
	args := c.Args[1:]
	for i := 0; i < len(args); i++ {
		t := strings.ToLower(args[i].Value)
		if len(t) < 2 || t[0] != '-' || i+1 >= len(args) {
			continue
		}
		switch {
		case strings.HasPrefix("-file", t):
			if args[i+1].Known() {
				ps.runFile(ctx, 1, "'"+strings.ReplaceAll(args[i+1].Value, "'", "''")+"'")
			}
			return
		case strings.HasPrefix("-command", t):
			code := joinWords(args[i+1:], " ")
			if code.Known() || !slices.Contains(code.Unknown, cmdSubstUnknown) {
				ps.text(&srcCtx{text: code.Value, project: c.Pos.Project, file: c.Pos.File, line: c.Pos.Line, step: 0, section: c.Section}, code.Value)
			}
			return
		}
	}
}
