package shell

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/loc"
)

// jobEnv is a job environment as discovery builds it (inventory
// predefined variables; the token is inventory.JobToken's marker).
func jobEnv() MapEnv {
	const tok = "__CI_JOB_TOKEN__"
	return MapEnv{
		"CI_JOB_TOKEN":           tok,
		"CI_REGISTRY_PASSWORD":   tok,
		"CI_REGISTRY_USER":       "gitlab-ci-token",
		"CI_REGISTRY":            "registry.example.org",
		"CI_SERVER_HOST":         "git.example.org",
		"CI_SERVER_URL":          "https://git.example.org",
		"CI_API_V4_URL":          "https://git.example.org/api/v4",
		"CI_PROJECT_PATH":        "acme/app-core",
		"CI_PROJECT_NAMESPACE":   "acme",
		"CI_PROJECT_NAME":        "app-core",
		"CI_PROJECT_ID":          "42",
		"CI_PROJECT_DIR":         "/builds/acme/app-core",
		"CI_REPOSITORY_URL":      "https://gitlab-ci-token:" + tok + "@git.example.org/acme/app-core.git",
		"CI_COMMIT_REF_NAME":     "main",
		"CI_DEFAULT_BRANCH":      "main",
		"SERVICES_GROUP":         "platform/services",
		"CI_DEPENDENCY_PROXY_PW": tok,
	}
}

// render shows a command as "line: arg arg ..."; arguments with blanks
// or empty ones are quoted, and an argument with unknown parts is
// followed by ?{names}.
func render(c *Command) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d:", c.Pos.Line)
	for _, a := range c.Args {
		sb.WriteByte(' ')
		if a.Value == "" || strings.ContainsAny(a.Value, " \t\n\"") {
			fmt.Fprintf(&sb, "%q", a.Value)
		} else {
			sb.WriteString(a.Value)
		}
		if len(a.Unknown) > 0 {
			sb.WriteString("?{" + strings.Join(a.Unknown, ",") + "}")
		}
	}
	return sb.String()
}

func renderAll(cs []*Command) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = render(c)
	}
	return out
}

// script is a single literal block starting at line 10 of .gitlab-ci.yml.
func script(text string) []Source {
	return []Source{{Text: text, Pos: loc.Pos{Project: "acme/app-core", File: ".gitlab-ci.yml", Line: 10}, LineStep: 1, Section: "script"}}
}

func TestAnalyzeCommands(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{{
		name: "P01 token URL with braces",
		src:  `git clone --depth 1 https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/acme/tools/helpers.git`,
		want: []string{"10: git clone --depth 1 https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/tools/helpers.git"},
	}, {
		name: "P01 token URL without braces, quoted",
		src:  `git clone "https://gitlab-ci-token:$CI_JOB_TOKEN@$CI_SERVER_HOST/acme/tools/helpers.git" tools`,
		want: []string{"10: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/tools/helpers.git tools"},
	}, {
		name: "P02 loop over services",
		src:  `for svc in billing mailer; do git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/${SERVICES_GROUP}/$svc.git"; done`,
		want: []string{
			"10: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/platform/services/billing.git",
			"10: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/platform/services/mailer.git",
		},
	}, {
		name: "P04 CI_REPOSITORY_URL rewrite",
		src:  `git clone ${CI_REPOSITORY_URL/app-core/app-protocol}`,
		want: []string{"10: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/app-protocol.git"},
	}, {
		name: "P04 token cut out of CI_REPOSITORY_URL",
		src: `TOKEN_PART=$(echo $CI_REPOSITORY_URL | cut -d@ -f1)
git clone "${TOKEN_PART}@${CI_SERVER_HOST}/${USER_NS:-acme}/env-repo.git"`,
		want: []string{
			"10: echo https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/app-core.git",
			"10: cut -d@ -f1",
			"11: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/env-repo.git",
		},
	}, {
		name: "credential stripped from CI_REPOSITORY_URL (trap)",
		src:  `git remote set-url origin "${CI_REPOSITORY_URL/gitlab-ci-token*@/}"`,
		want: []string{"10: git remote set-url origin https://git.example.org/acme/app-core.git"},
	}, {
		name: "P05 insteadOf and P10 pip VCS URL",
		src: `git config --global url."https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/".insteadOf "git@git.example.org:"
pip install "git+https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/data/parser.git@main"`,
		want: []string{
			"10: git config --global url.https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/.insteadOf git@git.example.org:",
			"11: pip install git+https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/data/parser.git@main",
		},
	}, {
		name: "P15 double-quoted JSON loses its inner quotes (trap)",
		src:  `echo "{"auths":{"$CI_REGISTRY":{"password":"$CI_JOB_TOKEN"}}}" > /kaniko/.docker/config.json`,
		want: []string{"10: echo {auths:{registry.example.org:{password:__CI_JOB_TOKEN__}}}"},
	}, {
		name: "P32 trigger fan-out loop",
		src: `for t in 12 13; do
  curl -sS -X POST -F token=$CI_JOB_TOKEN -F ref=main "$CI_API_V4_URL/projects/${t}/trigger/pipeline"
done`,
		want: []string{
			"11: curl -sS -X POST -F token=__CI_JOB_TOKEN__ -F ref=main https://git.example.org/api/v4/projects/12/trigger/pipeline",
			"11: curl -sS -X POST -F token=__CI_JOB_TOKEN__ -F ref=main https://git.example.org/api/v4/projects/13/trigger/pipeline",
		},
	}, {
		name: "loop over an unknown list",
		src:  `for repo in $(cat repos.txt); do git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/$repo.git"; done`,
		want: []string{
			"10: cat repos.txt",
			"10: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/${repo}.git?{repo}",
		},
	}, {
		name: "P03 default if unset with [[ -z ]] &&",
		src: `[[ -z ${MANIFEST_URL:+x} ]] && MANIFEST_URL=https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/${CI_PROJECT_NAMESPACE}/manifest
git clone "$MANIFEST_URL"`,
		want: []string{"11: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/manifest"},
	}, {
		name: "default if unset keeps a known value",
		src: `if [ -z "$SERVICES_GROUP" ]; then SERVICES_GROUP=other; fi
git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/$SERVICES_GROUP/x.git`,
		want: []string{
			`10: [ -z platform/services ]`,
			"11: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/platform/services/x.git",
		},
	}, {
		name: "${V:-default} and ${1:-default}",
		src:  `GITHOST=${1:-"gitlab.com"}; git ls-remote https://gitlab-ci-token:${CI_JOB_TOKEN}@${GITHOST}/${TOOLS:-acme/tools}.git`,
		want: []string{"10: git ls-remote https://gitlab-ci-token:__CI_JOB_TOKEN__@gitlab.com/acme/tools.git"},
	}, {
		name: "single quotes stay literal",
		src:  `echo '//git.example.org/api/v4/packages/npm/:_authToken=${CI_JOB_TOKEN}' >> .npmrc`,
		want: []string{"10: echo //git.example.org/api/v4/packages/npm/:_authToken=${CI_JOB_TOKEN}"},
	}, {
		name: "commented-out lines",
		src: `# - curl --header "JOB-TOKEN: ${CI_JOB_TOKEN}" https://git.example.org/api/v4/projects/7/packages
#wget --header "JOB-TOKEN: $CI_JOB_TOKEN" x
curl --header "PRIVATE-TOKEN: ${PAT}" https://git.example.org/api/v4/projects/7 # trailing comment`,
		want: []string{`12: curl --header "PRIVATE-TOKEN: ${PAT}"?{PAT} https://git.example.org/api/v4/projects/7`},
	}, {
		name: "dead function and called function",
		src: `unused() { git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/never/called.git; }
clone() {
  git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/$1.git" "${2:-$(basename "$1")}"
}
clone acme/lib-a
clone acme/lib-b dest`,
		want: []string{
			"12: basename acme/lib-a",
			"12: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/lib-a.git lib-a",
			"12: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/lib-b.git dest",
		},
	}, {
		name: "exit makes the rest dead",
		src: `echo start
exit 0
git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/dead/code.git`,
		want: []string{"10: echo start", "11: exit 0"},
	}, {
		name: "conditional exit keeps the rest",
		src: `[ -n "$CI_JOB_TOKEN" ] || exit 1
git fetch https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/acme/x.git`,
		want: []string{
			"10: [ -n __CI_JOB_TOKEN__ ]",
			"10: exit 1",
			"11: git fetch https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/x.git",
		},
	}, {
		name: "bash -c and eval",
		src: `bash -c "git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/acme/a.git"
eval "git clone https://gitlab-ci-token:\${CI_JOB_TOKEN}@git.example.org/acme/b.git"`,
		want: []string{
			`10: bash -c "git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/a.git"`,
			"10: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/a.git",
			`11: eval "git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/acme/b.git"`,
			"11: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/b.git",
		},
	}, {
		name: "subshell, block, if/else, case, while",
		src: `(cd sub && git pull https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/a/b.git)
{ echo one; echo two; } > out.txt
if [ "$CI_COMMIT_REF_NAME" = main ]; then ENV=prod; else ENV=staging; fi
case "$ENV" in
  prod) helm repo add charts "${CI_API_V4_URL}/projects/7/packages/helm/stable" ;;
  *) echo none ;;
esac
while read -r line; do echo "$line"; done < list.txt`,
		want: []string{
			"10: cd sub",
			"10: git pull https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/a/b.git",
			"11: echo one",
			"11: echo two",
			"12: [ main = main ]",
			"14: helm repo add charts https://git.example.org/api/v4/projects/7/packages/helm/stable",
			"15: echo none",
			"17: read -r line",
			"17: echo ${line}?{line}",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(script(tt.src), jobEnv(), Options{})
			if len(r.Diags) > 0 {
				t.Errorf("diagnostics: %v", r.Diags)
			}
			got := renderAll(r.Commands)
			if !slices.Equal(got, tt.want) {
				t.Errorf("commands:\n got  %q\n want %q", got, tt.want)
			}
		})
	}
}

func TestAnalyzeUnknownParts(t *testing.T) {
	r := Analyze(script(`git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/$GROUP/x.git "$(git rev-parse HEAD)" ${UNSET_URL/a/b}`), jobEnv(), Options{})
	if len(r.Commands) != 2 || r.Commands[0].Name() != "git" || r.Commands[0].Args[1].Value != "rev-parse" {
		t.Fatalf("commands: %q", renderAll(r.Commands))
	}
	args := r.Commands[1].Args
	checks := []struct {
		i       int
		raw     string
		value   string
		unknown []string
	}{
		{2, "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/$GROUP/x.git",
			"https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/${GROUP}/x.git", []string{"GROUP"}},
		{3, `"$(git rev-parse HEAD)"`, "$(...)", []string{"$(...)"}},
		{4, "${UNSET_URL/a/b}", "${UNSET_URL/a/b}", []string{"UNSET_URL"}},
	}
	for _, c := range checks {
		a := args[c.i]
		if a.Raw != c.raw || a.Value != c.value || !slices.Equal(a.Unknown, c.unknown) {
			t.Errorf("arg %d = %+v, want raw %q value %q unknown %q", c.i, a, c.raw, c.value, c.unknown)
		}
	}
}

func TestAnalyzeHeredoc(t *testing.T) {
	src := `cat > .npmrc <<EOF
//git.example.org/api/v4/projects/31337/packages/npm/:_authToken=${CI_JOB_TOKEN}
EOF
cat <<'JSON' > ~/.docker/config.json
{"auths":{"$CI_REGISTRY":{"password":"$CI_JOB_TOKEN"}}}
JSON
	cat <<-EOT >> .netrc
	machine $CI_SERVER_HOST
	password $CI_JOB_TOKEN
	EOT`
	r := Analyze(script(src), jobEnv(), Options{})
	if len(r.Commands) != 3 {
		t.Fatalf("commands: %q", renderAll(r.Commands))
	}
	type hd struct {
		line              int
		target, body, raw string
	}
	want := []hd{
		{10, ".npmrc", "//git.example.org/api/v4/projects/31337/packages/npm/:_authToken=__CI_JOB_TOKEN__\n",
			"//git.example.org/api/v4/projects/31337/packages/npm/:_authToken=${CI_JOB_TOKEN}\n"},
		{13, "~/.docker/config.json", `{"auths":{"$CI_REGISTRY":{"password":"$CI_JOB_TOKEN"}}}` + "\n",
			`{"auths":{"$CI_REGISTRY":{"password":"$CI_JOB_TOKEN"}}}` + "\n"},
		{16, ".netrc", "machine git.example.org\npassword __CI_JOB_TOKEN__\n", "machine $CI_SERVER_HOST\npassword $CI_JOB_TOKEN\n"},
	}
	for i, w := range want {
		c := r.Commands[i]
		var h *Word
		target := ""
		for _, rd := range c.Redirects {
			if rd.Heredoc != nil {
				h = rd.Heredoc
			} else {
				target = rd.Target.Value
			}
		}
		if h == nil {
			t.Fatalf("command %d has no heredoc: %+v", i, c.Redirects)
		}
		if c.Pos.Line != w.line || target != w.target || h.Value != w.body || h.Raw != w.raw || len(h.Unknown) > 0 {
			t.Errorf("command %d: line %d target %q heredoc %+v; want line %d target %q body %q raw %q",
				i, c.Pos.Line, target, *h, w.line, w.target, w.body, w.raw)
		}
	}
}

func TestAnalyzePipeStdin(t *testing.T) {
	r := Analyze(script(`echo "$CI_REGISTRY_PASSWORD" | docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"`), jobEnv(), Options{})
	got := renderAll(r.Commands)
	want := []string{"10: echo __CI_JOB_TOKEN__", "10: docker login -u gitlab-ci-token --password-stdin registry.example.org"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q want %q", got, want)
	}
	if r.Commands[1].Stdin != r.Commands[0] || r.Commands[0].Stdin != nil {
		t.Errorf("docker login Stdin = %v, want the echo command", r.Commands[1].Stdin)
	}
}

func TestAnalyzeEnvState(t *testing.T) {
	src := `export NPM_URL="${CI_API_V4_URL}/projects/9/packages/npm/"
LOCAL_ONLY=1
TOKEN=$CI_JOB_TOKEN curl -H "JOB-TOKEN: $TOKEN" "$NPM_URL"
unset LOCAL_ONLY
echo done`
	r := Analyze(script(src), jobEnv(), Options{})
	if len(r.Commands) != 4 {
		t.Fatalf("commands: %q", renderAll(r.Commands))
	}
	curl := r.Commands[1]
	// The prefix assignment is for curl only, and $TOKEN in curl's own
	// arguments is expanded before it applies.
	if got := curl.Args[2].Value; got != "JOB-TOKEN: ${TOKEN}" {
		t.Errorf("curl header = %q", got)
	}
	if w, ok := curl.Assigns["TOKEN"]; !ok || w.Value != "__CI_JOB_TOKEN__" {
		t.Errorf("curl Assigns = %+v", curl.Assigns)
	}
	if v, ok := curl.Env.Get("TOKEN"); !ok || v != "__CI_JOB_TOKEN__" {
		t.Errorf("curl Env TOKEN = %q %v", v, ok)
	}
	if v, _ := curl.Env.Get("NPM_URL"); v != "https://git.example.org/api/v4/projects/9/packages/npm/" {
		t.Errorf("curl Env NPM_URL = %q", v)
	}
	last := r.Commands[3]
	if _, ok := last.Env.Get("TOKEN"); ok {
		t.Error("prefix assignment leaked past its command")
	}
	if _, ok := last.Env.Get("LOCAL_ONLY"); ok {
		t.Error("unset variable still set")
	}
	if v, _ := curl.Env.Get("LOCAL_ONLY"); v != "1" {
		t.Errorf("earlier command lost LOCAL_ONLY: %q", v)
	}
}

func TestAnalyzeScriptFiles(t *testing.T) {
	files := map[string]string{
		"ci/clone.sh": `#!/usr/bin/env bash
set -euo pipefail
repo="$1"
git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/${repo}.git" "${2:-src}"
echo "$NOT_EXPORTED"`,
		"ci/env.sh": `export TOOLS_PROJECT_ID=77
DEPLOY_HOST=deploy.example.org`,
		"build.py": `print("not shell")`,
	}
	read := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
	src := `NOT_EXPORTED=x
./ci/clone.sh acme/lib-a
bash ci/clone.sh acme/lib-b dst
$CI_PROJECT_DIR/ci/clone.sh acme/lib-c
source ci/env.sh
curl -H "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/$TOOLS_PROJECT_ID/packages/generic/t/1/t.tgz" -o "$DEPLOY_HOST"
./build.py
sh ci/missing.sh
. venv/bin/activate
sudo -E bash ci/clone.sh acme/lib-d
env -u X FOO=bar timeout 60 git fetch "https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/acme/w.git"`
	r := Analyze(script(src), jobEnv(), Options{ReadFile: read})
	want := []string{
		"11: ./ci/clone.sh acme/lib-a",
		"2: set -euo pipefail",
		"4: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/lib-a.git src",
		"5: echo \"\"",
		"12: bash ci/clone.sh acme/lib-b dst",
		"2: set -euo pipefail",
		"4: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/lib-b.git dst",
		"5: echo \"\"",
		"13: /builds/acme/app-core/ci/clone.sh acme/lib-c",
		"2: set -euo pipefail",
		"4: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/lib-c.git src",
		"5: echo \"\"",
		"14: source ci/env.sh",
		"1: export TOOLS_PROJECT_ID=77",
		"15: curl -H \"JOB-TOKEN: __CI_JOB_TOKEN__\" https://git.example.org/api/v4/projects/77/packages/generic/t/1/t.tgz -o deploy.example.org",
		"16: ./build.py",
		"17: sh ci/missing.sh",
		"18: . venv/bin/activate",
		"19: bash ci/clone.sh acme/lib-d",
		"2: set -euo pipefail",
		"4: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/lib-d.git src",
		"5: echo \"\"",
		"20: git fetch https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/w.git",
	}
	if got := renderAll(r.Commands); !slices.Equal(got, want) {
		t.Errorf("commands:\n got  %q\n want %q", got, want)
	}
	if last := r.Commands[len(r.Commands)-1]; last.Assigns["FOO"].Value != "bar" {
		t.Errorf("env FOO=bar not in Assigns: %+v", last.Assigns)
	} else if v, _ := last.Env.Get("FOO"); v != "bar" {
		t.Errorf("env FOO=bar not in Env: %q", v)
	}
	for _, c := range r.Commands {
		if c.Pos.File == "ci/clone.sh" && (c.Section != "ci/clone.sh" || c.Pos.Project != "acme/app-core") {
			t.Errorf("file command carries %+v section %q", c.Pos, c.Section)
		}
	}
	if len(r.Diags) != 1 || r.Diags[0].Severity != "warning" || r.Diags[0].Line != 17 || !strings.Contains(r.Diags[0].Summary, "ci/missing.sh") {
		t.Errorf("diags = %v, want one warning about ci/missing.sh at line 17", r.Diags)
	}
}

func TestExpandVars(t *testing.T) {
	env := MapEnv{"CI_REGISTRY": "registry.example.org", "TAG": "1.4", "EMPTY": ""}
	tests := []struct {
		in, want string
		unknown  []string
	}{
		{"$CI_REGISTRY/platform/ci-images/builder:1.4", "registry.example.org/platform/ci-images/builder:1.4", nil},
		{"${CI_REGISTRY}/x:${TAG}", "registry.example.org/x:1.4", nil},
		{"$$CI_REGISTRY", "$CI_REGISTRY", nil},
		{"a${EMPTY}b", "ab", nil},
		{"$UNKNOWN/x:${OTHER}", "$UNKNOWN/x:${OTHER}", []string{"UNKNOWN", "OTHER"}},
		{"price: 5$", "price: 5$", nil},
		{"${CI_REGISTRY:-x}", "${CI_REGISTRY:-x}", []string{"CI_REGISTRY:-x"}},
		{"a${}b", "ab", nil},
		{"x$1y${*}z$?", "xyz", nil},
	}
	for _, tt := range tests {
		got := ExpandVars(tt.in, env)
		if got.Value != tt.want || got.Raw != tt.in || !slices.Equal(got.Unknown, tt.unknown) {
			t.Errorf("ExpandVars(%q) = %+v, want %q unknown %q", tt.in, got, tt.want, tt.unknown)
		}
	}
}

func TestAnalyzeSessionAndPositions(t *testing.T) {
	const file = ".gitlab-ci.yml"
	srcs := []Source{
		// before_script: - export REPO=acme/lib   (line 5)
		{Text: "export REPO=acme/lib", Pos: loc.Pos{Project: "acme/app-core", File: file, Line: 5}, LineStep: 1, Section: "before_script"},
		// script: - |   (block starts on line 8)
		{Text: "git clone \\\n  --depth 1 \\\n  \"https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/$REPO.git\"\n" +
			"curl -H \"JOB-TOKEN: $CI_JOB_TOKEN\" \\\n  \"$CI_API_V4_URL/projects/$PID/jobs/artifacts/main/download?job=build\"\n",
			Pos: loc.Pos{Project: "acme/app-core", File: file, Line: 8}, LineStep: 1, Section: "script"},
		// A plain scalar folded by YAML over lines 14-15 (P26): one line of text.
		{Text: `helm repo add --username gitlab-ci-token --password ${CI_JOB_TOKEN} charts "${CI_API_V4_URL}/projects/7/packages/helm/stable"`,
			Pos: loc.Pos{Project: "acme/app-core", File: file, Line: 14}, LineStep: 0, Section: "script"},
		// - > folded block (lines 17-19) keeping a newline between two commands.
		{Text: "echo first\necho second $REPO\n", Pos: loc.Pos{Project: "acme/app-core", File: file, Line: 17}, LineStep: 0, Section: "script"},
		// An item that does not parse (line 21), then one that does (line 22).
		{Text: `echo "unterminated`, Pos: loc.Pos{Project: "acme/app-core", File: file, Line: 21}, LineStep: 1, Section: "script"},
		{Text: `echo after`, Pos: loc.Pos{Project: "acme/app-core", File: file, Line: 22}, LineStep: 1, Section: "script"},
	}
	r := Analyze(srcs, jobEnv(), Options{})
	want := []string{
		"5: export REPO=acme/lib",
		"8: git clone --depth 1 https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/lib.git",
		"11: curl -H \"JOB-TOKEN: __CI_JOB_TOKEN__\" https://git.example.org/api/v4/projects/${PID}/jobs/artifacts/main/download?job=build?{PID}",
		"14: helm repo add --username gitlab-ci-token --password __CI_JOB_TOKEN__ charts https://git.example.org/api/v4/projects/7/packages/helm/stable",
		"17: echo first",
		"17: echo second acme/lib",
		"22: echo after",
	}
	if got := renderAll(r.Commands); !slices.Equal(got, want) {
		t.Errorf("commands:\n got  %q\n want %q", got, want)
	}
	sections := []string{"before_script", "script", "script", "script", "script", "script", "script"}
	for i, c := range r.Commands {
		if i < len(sections) && c.Section != sections[i] {
			t.Errorf("command %d section %q, want %q", i, c.Section, sections[i])
		}
	}
	if len(r.Diags) != 1 || r.Diags[0].Severity != "error" || r.Diags[0].Line != 21 || r.Diags[0].File != file {
		t.Errorf("diags = %v, want one error at %s:21", r.Diags, file)
	}
}

func TestAnalyzeExitInBeforeScriptStopsScript(t *testing.T) {
	srcs := []Source{
		{Text: "echo setup\nexit 0", Pos: loc.Pos{File: "ci.yml", Line: 3}, LineStep: 1, Section: "before_script"},
		{Text: "git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/a/b.git", Pos: loc.Pos{File: "ci.yml", Line: 6}, LineStep: 1, Section: "script"},
	}
	r := Analyze(srcs, jobEnv(), Options{})
	if got, want := renderAll(r.Commands), []string{"3: echo setup", "4: exit 0"}; !slices.Equal(got, want) {
		t.Errorf("got %q want %q", got, want)
	}
}

// TestConditionalAssignments pins the merge rule documented on Analyze.
func TestConditionalAssignments(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // value of $X at the end
	}{
		{"unset: && default applies", `[[ -z $X ]] && X=dflt; echo "$X"`, "dflt"},
		{"unset: if -z default applies", `if [ -z "${X:-}" ]; then X=dflt; fi; echo "$X"`, "dflt"},
		{"known: default ignored", `X=given; [ -n "$X" ] || X=dflt; echo "$X"`, "given"},
		{"job variable: default ignored", `[ -z "$KNOWN" ] && KNOWN=dflt; echo "$KNOWN"`, "from-yaml"},
		{"unknown value: default applies", `X=$(cat f); [ -z "$X" ] && X=dflt; echo "$X"`, "dflt"},
		{"if/else: first known branch", `if [ -n "$CUSTOM" ]; then X=$CUSTOM; else X=https://default; fi; echo "$X"`, "https://default"},
		{"if/else both known: first", `if [ "$A" = 1 ]; then X=one; else X=two; fi; echo "$X"`, "one"},
		{"branch that exits does not assign", `if [ -z "$T" ]; then X=bad; exit 1; fi; echo "$X"`, "${X}"},
		{"branch sees its own assignment", `[ -z "$X" ] && { X=inner; echo "$X"; }`, "inner"},
		{"case items", `case "$ENV" in prod) X=p ;; *) X=other ;; esac; echo "$X"`, "p"},
		{"while body", `while read -r l; do X=loop; done < f; echo "$X"`, "loop"},
		{"subshell does not leak", `(X=sub); echo "$X"`, "${X}"},
		{"pipeline does not leak", `echo v | read X; echo "$X"`, "${X}"},
		{"function local restored", `X=outer; f() { local X=inner; echo "$X"; }; f; echo "$X" end`, "outer"},
		{"function global persists", `f() { X=fromf; }; f; echo "$X"`, "fromf"},
	}
	env := MapEnv{"KNOWN": "from-yaml"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lastValues(t, tt.src, env)
			if len(got) == 0 || got[0] != tt.want {
				t.Errorf("X = %q, want %q first", got, tt.want)
			}
		})
	}
}

// lastValues returns the first argument of every command returned for the
// last statement (a command using a variable with alternatives is
// returned once per value, the primary value first).
func lastValues(t *testing.T, src string, env Env) []string {
	t.Helper()
	r := Analyze(script(src), env, Options{})
	if len(r.Diags) > 0 {
		t.Errorf("%q: diagnostics %v", src, r.Diags)
	}
	if len(r.Commands) == 0 {
		t.Fatalf("%q: no command", src)
	}
	last := r.Commands[len(r.Commands)-1]
	var out []string
	for _, c := range r.Commands {
		if c.Pos == last.Pos && c.Name() == last.Name() && len(c.Args) > 1 && c.Args[1].Raw == last.Args[1].Raw && len(c.Args) == len(last.Args) {
			out = append(out, c.Args[1].Value)
		}
	}
	return out
}

// TestBranchAlternatives: every value a variable can hold after branches
// yields its command (shapes from real jobs choosing a target project or
// registry by branch).
func TestBranchAlternatives(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"if/else", `if [ "$CI_COMMIT_BRANCH" = main ]; then P=grp/prod; else P=grp/staging; fi; echo "$P"`,
			[]string{"grp/prod", "grp/staging"}},
		{"if/elif/else", `if [ "$A" = 1 ]; then P=a; elif [ "$A" = 2 ]; then P=b; else P=c; fi; echo "x/$P"`,
			[]string{"x/a", "x/b", "x/c"}},
		{"case", "case \"$CI_COMMIT_REF_NAME\" in\n  main) TARGET=ops/prod-config ;;\n  release/*) TARGET=ops/rc-config ;;\n  *) TARGET=ops/dev-config ;;\nesac\ngit clone \"https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/${TARGET}.git\"",
			[]string{"clone"}},
		{"derived variable carries them", `if [ -n "$PROD" ]; then H=prod.example.com; else H=dev.example.com; fi; URL="https://$H/api"; echo "$URL"`,
			[]string{"https://prod.example.com/api", "https://dev.example.com/api"}},
		{"correlated variables stay together", `if [ -n "$PROD" ]; then H=h1; P=p1; else H=h2; P=p2; fi; echo "$H/$P"`,
			[]string{"h1/p1", "h2/p2"}},
		{"script value before if is kept and alternative", `P=base; if [ -n "$B" ]; then P=other; fi; echo "$P"`,
			[]string{"base", "other"}},
		{"job variable default idiom: no alternative", `if [ -z "$KNOWN" ]; then KNOWN=dflt; fi; echo "$KNOWN"`,
			[]string{"from-yaml"}},
		{"&& default of a known value: no alternative", `X=given; [ -n "$X" ] || X=dflt; echo "$X"`,
			[]string{"given"}},
		{"unknown alternative dropped", `if [ -n "$B" ]; then P=known; else P=$(cat f); fi; echo "$P"`,
			[]string{"known"}},
		{"function argument", `if [ -n "$B" ]; then P=a; else P=b; fi; f() { echo "$1"; }; f "$P"`,
			[]string{"a", "b"}},
	}
	env := MapEnv{"KNOWN": "from-yaml", "CI_JOB_TOKEN": "[MASKED]"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lastValues(t, tt.src, env)
			if tt.want[0] == "clone" {
				r := Analyze(script(tt.src), env, Options{})
				got = nil
				for _, c := range r.Commands {
					if c.Name() == "git" {
						got = append(got, c.Args[2].Value)
					}
				}
				tt.want = []string{
					"https://gitlab-ci-token:[MASKED]@gitlab.example.com/ops/prod-config.git",
					"https://gitlab-ci-token:[MASKED]@gitlab.example.com/ops/rc-config.git",
					"https://gitlab-ci-token:[MASKED]@gitlab.example.com/ops/dev-config.git",
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAnalyzeConstructAcrossItems(t *testing.T) {
	// script:
	//   - if [ -n "$DEPLOY_TOKEN_OK" ]; then     (line 20)
	//   -   git clone https://...                (line 21)
	//   - fi                                     (line 22)
	//   - echo after                             (line 23)
	var srcs []Source
	for i, text := range []string{`if [ -n "$DEPLOY_TOKEN_OK" ]; then`,
		"git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@git.example.org/acme/x.git", "fi", "echo after"} {
		srcs = append(srcs, Source{Text: text, Pos: loc.Pos{File: "ci.yml", Line: 20 + i}, LineStep: 1, Section: "script"})
	}
	r := Analyze(srcs, jobEnv(), Options{})
	want := []string{"20: [ -n ${DEPLOY_TOKEN_OK}?{DEPLOY_TOKEN_OK} ]", "21: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/x.git", "23: echo after"}
	if got := renderAll(r.Commands); !slices.Equal(got, want) || len(r.Diags) > 0 {
		t.Errorf("got %q, diags %v\nwant %q", got, r.Diags, want)
	}
}

func TestAnalyzeScriptRelativePaths(t *testing.T) {
	files := map[string]string{
		"ci/deploy.sh": `#!/bin/bash
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$SCRIPT_DIR/lib.sh"
. "$(dirname "$0")/lib2.sh"
clone_repo tools`,
		"ci/lib.sh":   `clone_repo() { git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/acme/$1.git"; }`,
		"ci/lib2.sh":  `echo "lib2 in $PWD"`,
		"ci/build.sh": `echo build`,
	}
	read := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
	src := "cd ci && ./deploy.sh\nbash build.sh\ncd \"$CI_PROJECT_DIR\"\ncommand bash ci/build.sh 2>&1 >> log.txt\nexec ci/build.sh\necho dead"
	r := Analyze(script(src), jobEnv(), Options{ReadFile: read})
	want := []string{
		"10: cd ci",
		"10: ./deploy.sh",
		"2: dirname ./deploy.sh",
		"2: cd .",
		"2: pwd",
		"3: source /builds/acme/app-core/ci/lib.sh",
		"4: dirname ./deploy.sh",
		"4: . ./lib2.sh",
		"1: echo \"lib2 in /builds/acme/app-core/ci\"",
		"1: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/tools.git",
		"11: bash build.sh",
		"1: echo build",
		"12: cd /builds/acme/app-core",
		"13: bash ci/build.sh",
		"1: echo build",
		"14: ci/build.sh",
		"1: echo build",
	}
	if got := renderAll(r.Commands); !slices.Equal(got, want) || len(r.Diags) > 0 {
		t.Errorf("diags %v\n got  %q\n want %q", r.Diags, got, want)
	}
	files13 := r.Commands[13]
	if len(files13.Redirects) != 2 || files13.Redirects[0].N != "2" || files13.Redirects[0].Op != ">&" || files13.Redirects[0].Target.Value != "1" ||
		files13.Redirects[1].Op != ">>" || files13.Redirects[1].Target.Value != "log.txt" {
		t.Errorf("redirects = %+v", files13.Redirects)
	}
}

func TestAnalyzeRedirectTargets(t *testing.T) {
	src := `echo -e "machine ${CI_SERVER_HOST}\nlogin gitlab-ci-token\npassword ${CI_JOB_TOKEN}" > ~/.netrc
echo "//${CI_SERVER_HOST}/api/v4/projects/${NPM_PROJECT:-31337}/packages/npm/:_authToken=${CI_JOB_TOKEN}" >> "$CI_PROJECT_DIR/.npmrc"
docker login -u gitlab-ci-token --password-stdin "$CI_REGISTRY" <<< "$CI_JOB_TOKEN"`
	r := Analyze(script(src), jobEnv(), Options{})
	type rd struct{ op, target string }
	want := [][]rd{
		{{">", "~/.netrc"}},
		{{">>", "/builds/acme/app-core/.npmrc"}},
		{{"<<<", "__CI_JOB_TOKEN__"}},
	}
	if len(r.Commands) != len(want) {
		t.Fatalf("commands %q", renderAll(r.Commands))
	}
	for i, c := range r.Commands {
		var got []rd
		for _, x := range c.Redirects {
			got = append(got, rd{x.Op, x.Target.Value})
		}
		if !slices.Equal(got, want[i]) {
			t.Errorf("command %d redirects %v, want %v", i, got, want[i])
		}
	}
	if got := r.Commands[0].Args[2].Value; got != `machine git.example.org\nlogin gitlab-ci-token\npassword __CI_JOB_TOKEN__` {
		t.Errorf("netrc text %q", got)
	}
}

func TestAnalyzeReadLoops(t *testing.T) {
	files := map[string]string{
		"ci/repos.txt":  "acme/a main\nacme/b v1.2\n",
		"projects.csv":  "tools,77\ncharts,12\n",
		"VERSION":       "1.4.2\n",
		"ci/single.txt": "only",
	}
	read := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
	src := `while read -r svc; do git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/platform/$svc.git"; done <<EOF
billing
mailer
EOF
cat ci/repos.txt | while read -r repo ref; do git clone -b "$ref" "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/$repo.git"; done
while IFS=, read -r name id; do curl -H "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/$id/packages/generic/$name/$(cat VERSION)/$name.tgz"; done < projects.csv
while read -r x; do echo "$x"; done < missing.txt`
	r := Analyze(script(src), jobEnv(), Options{ReadFile: read})
	want := []string{
		"10: read -r svc",
		"10: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/platform/billing.git",
		"10: git clone https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/platform/mailer.git",
		"14: cat ci/repos.txt",
		"14: read -r repo ref",
		"14: git clone -b main https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/a.git",
		"14: git clone -b v1.2 https://gitlab-ci-token:__CI_JOB_TOKEN__@git.example.org/acme/b.git",
		"15: read -r name id",
		"15: cat VERSION",
		`15: curl -H "JOB-TOKEN: __CI_JOB_TOKEN__" https://git.example.org/api/v4/projects/77/packages/generic/tools/1.4.2/tools.tgz`,
		"15: cat VERSION",
		`15: curl -H "JOB-TOKEN: __CI_JOB_TOKEN__" https://git.example.org/api/v4/projects/12/packages/generic/charts/1.4.2/charts.tgz`,
		"16: read -r x",
		"16: echo ${x}?{x}",
	}
	if got := renderAll(r.Commands); !slices.Equal(got, want) || len(r.Diags) > 0 {
		t.Errorf("diags %v\n got  %q\n want %q", r.Diags, got, want)
	}
	// The piped loop body reads from cat: Stdin of read.
	if r.Commands[4].Stdin != r.Commands[3] {
		t.Errorf("read's Stdin = %v", r.Commands[4].Stdin)
	}
}
