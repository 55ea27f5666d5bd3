package shell

import (
	"slices"
	"strings"
	"testing"
)

func TestExpandWord(t *testing.T) {
	env := MapEnv{
		"CI_API_V4_URL":  "https://gitlab.example.com/api/v4",
		"CI_SERVER_HOST": "gitlab.example.com",
		"LIST":           "a  b",
		"N":              "3",
	}
	for _, tc := range []struct {
		text    string
		want    string
		unknown []string
		ok      bool
	}{
		{"plain", "plain", nil, true},
		{"", "", nil, true},
		{"${CI_API_V4_URL}/projects/42", "https://gitlab.example.com/api/v4/projects/42", nil, true},
		{"https://$CI_SERVER_HOST/g/p.git", "https://gitlab.example.com/g/p.git", nil, true},
		{"${MISSING:-https://$CI_SERVER_HOST}/g", "https://gitlab.example.com/g", nil, true},
		{"$LIST", "a  b", nil, true}, // no field splitting
		{"*.git ~", "*.git ~", nil, true},
		{"$((N+1))", "4", nil, true},
		{`say "hi"`, `say "hi"`, nil, true}, // quotes are ordinary characters
		{`a\$b \x`, `a$b \x`, nil, true},
		{"$TOKEN_URL/x", "${TOKEN_URL}/x", []string{"TOKEN_URL"}, true},
		{"$(printf x)", "$(printf x)", nil, false}, // runs a command
		{"`id`", "`id`", nil, false},
		{"$@", "$@", nil, false}, // no word
		{`x\`, `x\`, nil, false}, // escapes the closing quote
		{"${", "${", nil, false},
	} {
		w, ok := ExpandWord(tc.text, env)
		if w.Value != tc.want || ok != tc.ok || !slices.Equal(w.Unknown, tc.unknown) || w.Raw != tc.text {
			t.Errorf("ExpandWord(%q) = %+v, %v; want %q %q, %v", tc.text, w, ok, tc.want, tc.unknown, tc.ok)
		}
	}
}

// ExpandWord is the expansion Analyze gives the argument of echo "text":
// the same value, and not ok where that would not be the one argument of
// the only command. Text whose \" would close the quotes in the script is
// not one word, and ExpandWord refuses it.
func TestExpandWordMatchesAnalyze(t *testing.T) {
	env := MapEnv{"HOST": "h.example.com", "EMPTY": "", "P": "g/p"}
	for _, text := range []string{
		"x", "", "$HOST", "${HOST}/$P.git", "${UNSET:-d}", "${UNSET-}", "${EMPTY:+y}", "${P#g/}", "${P/p/q}",
		`"`, `a"b`, `a\"b`, `\\`, `\`, `a\`, "\\\n", "a\nb", "$'x'", "$(true)", "$(x=1)", "$(echo x)", "${P:?gone}",
		`";id;"`, `" "`, `\"&#`, `\" #`, `\"x\"`, "$@", "$*", "${#P}", "$((1/0))", "${HOST@Q}", "$$", "$?", "~/x", "{a,b}",
	} {
		checkExpandWord(t, text, env)
	}
}

func FuzzExpandWord(f *testing.F) {
	for _, s := range []string{"${HOST}/$P.git", `a"b\`, "$(echo $P)", "${P/#g/$HOST}"} {
		f.Add(s)
	}
	env := MapEnv{"HOST": "h.example.com", "P": "g/p"}
	f.Fuzz(func(t *testing.T, text string) { checkExpandWord(t, text, env) })
}

func checkExpandWord(t *testing.T, text string, env Env) {
	t.Helper()
	want, wantOK := text, false
	r := Analyze([]Source{{Text: `echo "` + strings.ReplaceAll(text, `"`, `\"`) + `"`}}, env, Options{})
	if len(r.Commands) == 1 && len(r.Commands[0].Args) == 2 {
		want, wantOK = r.Commands[0].Args[1].Value, true
	}
	w, ok := ExpandWord(text, env)
	switch {
	case !ok && wantOK && strings.Contains(text, `\"`):
		// In the script, text's \" closes the quotes and the rest is more
		// shell syntax; ExpandWord refuses text that is not one word.
	case w.Value != want || ok != wantOK:
		t.Errorf("ExpandWord(%q) = %q, %v; Analyze gives %q, %v", text, w.Value, ok, want, wantOK)
	}
}
