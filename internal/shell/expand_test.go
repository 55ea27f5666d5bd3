package shell

import (
	"slices"
	"testing"
)

// lastArgs analyses src and returns the arguments (after the name) of
// its last command.
func lastArgs(t *testing.T, src string, env Env) []Word {
	t.Helper()
	r := Analyze(script(src), env, Options{})
	if len(r.Diags) > 0 {
		t.Errorf("%q: diagnostics %v", src, r.Diags)
	}
	if len(r.Commands) == 0 {
		t.Fatalf("%q: no command", src)
	}
	return r.Commands[len(r.Commands)-1].Args[1:]
}

func TestExpansion(t *testing.T) {
	env := MapEnv{
		"URL":   "https://git.example.org/acme/app-core.git",
		"NAME":  "App-Core",
		"EMPTY": "",
		"HOME":  "/root",
		"LIST":  "billing  mailer",
		"N":     "3",
	}
	tests := []struct {
		src     string
		want    []string // values of the arguments after the command name
		unknown [][]string
	}{
		// Quoting.
		{`echo 'a $URL' "b $NAME" c\ d "e\"f" 'g'"h"`, []string{"a $URL", "b App-Core", "c d", `e"f`, "gh"}, nil},
		{`echo $'tab\there' $'nl\n' $'\x41\u00e9\101'`, []string{"tab\there", "nl\n", "Aé" + "A"}, nil},
		{`echo "a\$b" "c\\d" "e\zf" a\$b`, []string{"a$b", `c\d`, `e\zf`, "a$b"}, nil},
		{"echo \"multi\\\nline\"", []string{"multiline"}, nil},
		// Field splitting of unquoted expansions; "$@"-like quoting keeps one field.
		{`echo $LIST "$LIST"`, []string{"billing", "mailer", "billing  mailer"}, nil},
		{`echo $EMPTY "" "$EMPTY"`, []string{"", ""}, nil},
		// Parameter operators.
		{`echo ${MISSING:-def} ${EMPTY:-def} ${EMPTY-def} ${URL:-def}`, []string{"def", "def", "https://git.example.org/acme/app-core.git"}, nil},
		{`echo ${MISSING:+x} ${URL:+x} ${EMPTY+set} ${EMPTY:+nonnull}`, []string{"x", "set"}, nil},
		{`echo ${URL#https://} ${URL##*/} ${URL%.git} ${URL%%/*} ${URL%/*}`,
			[]string{"git.example.org/acme/app-core.git", "app-core.git", "https://git.example.org/acme/app-core", "https:", "https://git.example.org/acme"}, nil},
		{`echo ${URL/app-core/app-protocol} ${URL//a/A} ${URL/#https/ssh} ${URL/%.git/} ${URL/gitlab*org/x}`,
			[]string{"https://git.example.org/acme/app-protocol.git", "https://git.exAmple.org/Acme/App-core.git", "ssh://git.example.org/acme/app-core.git", "https://git.example.org/acme/app-core", "https://git.example.org/acme/app-core.git"}, nil},
		{`echo ${URL/git.*org/HOST}`, []string{"https://HOST/acme/app-core.git"}, nil},
		{`echo ${#NAME} ${NAME^^} ${NAME,,} ${NAME,} ${EMPTY^}`, []string{"8", "APP-CORE", "app-core", "app-Core"}, nil},
		{`echo ${NAME:4} ${NAME:0:3} ${NAME: -4} ${NAME:1:-1}`, []string{"Core", "App", "Core", "pp-Cor"}, nil},
		{`echo ${NAME@U} ${NAME@L}`, []string{"APP-CORE", "app-core"}, nil},
		{`X=NAME; echo ${!X}`, []string{"App-Core"}, nil},
		// Assignment forms.
		{`echo ${NEW:=assigned}; echo $NEW`, []string{"assigned"}, nil},
		{`A=1; A+=2; echo $A`, []string{"12"}, nil},
		{`arr=(one "two three"); arr+=(four); echo "${arr[@]}" ${#arr[@]} ${arr[1]} $arr ${arr[-1]}`,
			[]string{"one", "two three", "four", "3", "two", "three", "one", "four"}, nil},
		// Positional parameters (none at job level), set --, shift.
		{`echo "$#" "${1:-gitlab.com}"`, []string{"0", "gitlab.com"}, nil},
		{`set -- a "b c" d; shift; echo "$@" $# "$*"`, []string{"b c", "d", "2", "b c d"}, nil},
		// Arithmetic.
		{`i=2; echo $((i * N + 1)) $((i++)) $i $(( 7 / 2 )) $((1 << 4)) $((N > 2 ? 10 : 20))`, []string{"7", "2", "3", "3", "16", "10"}, nil},
		{`echo $((UNKNOWN + 1))`, []string{"$((UNKNOWN + 1))"}, [][]string{{"UNKNOWN"}}},
		{`echo $((1/0))`, []string{"$((1/0))"}, [][]string{{"$((...))"}}},
		// Tilde.
		{`echo ~/.netrc ~ "~/x" ~other/x`, []string{"/root/.netrc", "/root", "~/x", "~other/x"}, nil},
		// Unknown parts.
		{`echo $MISSING "${MISSING}" pre-${MISSING}-post`, []string{"${MISSING}", "${MISSING}", "pre-${MISSING}-post"},
			[][]string{{"MISSING"}, {"MISSING"}, {"MISSING"}}},
		{`echo ${MISSING#x} ${#MISSING} ${MISSING^^}`, []string{"${MISSING#x}", "${#MISSING}", "${MISSING^^}"},
			[][]string{{"MISSING"}, {"MISSING"}, {"MISSING"}}},
		{`echo "$(date)" x$(hostname)y`, []string{"$(...)", "x$(...)y"}, [][]string{{"$(...)"}, {"$(...)"}}},
		{`echo $$ $?`, []string{"${$}", "${?}"}, [][]string{{"$"}, {"?"}}},
		// Trivial command substitutions are evaluated.
		{`V=$(echo "x-$NAME"); echo $V "$(printf '%s/%d' a 5)" $(basename "$URL" .git) $(dirname a/b/c)`, []string{"x-App-Core", "a/5", "app-core", "a/b"}, nil},
		{`get() { echo "https://host/$1"; }; echo "$(get acme/x)"`, []string{"https://host/acme/x"}, nil},
		{"echo `echo back`", []string{"back"}, nil},
		// Text filters on known input inside $(...).
		{`TOK=$(echo "$URL" | cut -d/ -f3); echo "$TOK" "$(cut -d. -f1 <<< "$TOK")"`, []string{"git.example.org", "git"}, nil},
		{`echo "$(echo "$URL" | sed 's|https://||; s/\.git$//')" "$(echo $URL | sed -E 's#https://([^/]+)/.*#\1#')"`,
			[]string{"git.example.org/acme/app-core", "git.example.org"}, nil},
		{`echo $(echo "$NAME" | tr '[:upper:]' '[:lower:]') $(echo "$URL" | awk -F/ '{print $4}') $(printf 'a\nb\n' | tail -n 1)`,
			[]string{"app-core", "acme", "b"}, nil},
		{`echo "$(echo "$MISSING" | cut -d@ -f1)" "$(echo x | grep x)" "$(echo x | base64)"`,
			[]string{"$(...)", "$(...)", "$(...)"}, [][]string{{"$(...)"}, {"$(...)"}, {"$(...)"}}},
		// Brace expansion and globs stay literal.
		{`echo {a,b} *.sh`, []string{"{a,b}", "*.sh"}, nil},
	}
	for _, tt := range tests {
		args := lastArgs(t, tt.src, env)
		var got []string
		var unk [][]string
		anyUnknown := false
		for _, a := range args {
			got = append(got, a.Value)
			unk = append(unk, a.Unknown)
			anyUnknown = anyUnknown || len(a.Unknown) > 0
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s\n got  %q\n want %q", tt.src, got, tt.want)
		}
		if tt.unknown == nil {
			if anyUnknown {
				t.Errorf("%s: unexpected unknowns %q", tt.src, unk)
			}
		} else if !slices.EqualFunc(unk, tt.unknown, slices.Equal) {
			t.Errorf("%s: unknown %q, want %q", tt.src, unk, tt.unknown)
		}
	}
}

func TestDeclarations(t *testing.T) {
	tests := []struct{ src, want string }{
		{`f() { declare X=in; }; X=out; f; echo "$X"`, "out"},
		{`f() { declare -g X=in; }; X=out; f; echo "$X"`, "in"},
		{`f() { local -r X=in; echo "$X"; }; f`, "in"},
		{`readonly R=ro; typeset T=$R; echo "$T"`, "ro"},
		{`declare -a A=(x y); echo "${A[1]}"`, "y"},
		{`V=v; export "DYN=$V"; echo "$DYN"`, "v"},
		{`export X; X=later; bash -c 'echo "$X"'`, "later"},
		{`export X; echo "$X"`, "${X}"},
		{`Y=notexported; bash -c 'echo "[$Y]"'`, "[]"},
		{`export -n CI_PROJECT_PATH; bash -c 'echo "[$CI_PROJECT_PATH]"'`, "[]"},
	}
	for _, tt := range tests {
		args := lastArgs(t, tt.src, MapEnv{"CI_PROJECT_PATH": "acme/app"})
		if len(args) != 1 || args[0].Value != tt.want {
			t.Errorf("%s: got %+v, want %q", tt.src, args, tt.want)
		}
	}
}
