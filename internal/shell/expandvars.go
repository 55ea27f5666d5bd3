package shell

import "strings"

// ExpandVars expands $VAR and ${VAR} the way the GitLab runner expands
// variable values and image names (one pass, no shell syntax); unknown
// variables are kept as written and listed in Unknown.
//
// The runner expands with Go's os.Expand and JobVariables.Get
// (gitlab-runner common/variables.go), whose mapping returns "$" for the
// name "$", so $$ gives a literal $ (GitLab issues 16442 and 321997),
// and "" for the shell's special parameters ($1, $*, $#, $?...). This
// function follows os.Expand's scanning exactly, including its handling
// of bad syntax ("${}" and an unterminated "${" are dropped).
//
// The value is bounded: a reference whose value would make it longer than
// maxValueLen bytes stays as written and is listed in Unknown.
func ExpandVars(s string, env Env) Word {
	w := Word{Raw: s, Value: s}
	if !strings.Contains(s, "$") {
		return w
	}
	var buf strings.Builder
	buf.Grow(len(s))
	i := 0
	for j := 0; j < len(s); j++ {
		if s[j] != '$' || j+1 >= len(s) {
			continue
		}
		buf.WriteString(s[i:j])
		name, n := shellName(s[j+1:])
		switch {
		case name == "" && n > 0:
			// Bad syntax: os.Expand eats it.
		case name == "":
			buf.WriteByte('$')
		case name == "$":
			buf.WriteByte('$')
		case len(name) == 1 && isSpecialVar(name[0]):
			// Nothing can define $1, $*, $?... for the runner.
		default:
			v, ok := "", false
			if env != nil {
				v, ok = env.Get(name)
			}
			// A value that would push the result past maxValueLen is left
			// as written and counted unknown, as an assignment of such a
			// value is (newVar). Values referencing values nest
			// (JobEnv), so without this a chain of variables each
			// naming the previous one ten times ("billion laughs")
			// multiplies memory tenfold per link. No URL, path or
			// token a detector looks for is that long.
			if ok && buf.Len()+len(v) <= maxValueLen {
				buf.WriteString(v)
			} else {
				buf.WriteString(s[j : j+1+n])
				w.Unknown = addName(w.Unknown, name)
			}
		}
		j += n
		i = j + 1
	}
	buf.WriteString(s[i:])
	w.Value = buf.String()
	return w
}

// shellName is os.getShellName: the name after a $ and the bytes it
// takes.
func shellName(s string) (string, int) {
	if s[0] == '{' {
		if len(s) > 2 && isSpecialVar(s[1]) && s[2] == '}' {
			return s[1:2], 3
		}
		for i := 1; i < len(s); i++ {
			if s[i] == '}' {
				if i == 1 {
					return "", 2
				}
				return s[1:i], i + 1
			}
		}
		return "", 1
	}
	if isSpecialVar(s[0]) {
		return s[0:1], 1
	}
	i := 0
	for i < len(s) && isAlnum(s[i]) {
		i++
	}
	return s[:i], i
}

func isSpecialVar(c byte) bool {
	return strings.IndexByte("*#$@!?-0123456789", c) >= 0
}

func isAlnum(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
