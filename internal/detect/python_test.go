package detect

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tokenscope/tokenscope/internal/shell"
)

func TestPythonModule(t *testing.T) {
	for in, want := range map[string]string{
		"python -m pip install x":        "pip",
		"python3.12 -u -W ignore -m pip": "pip",
		"py -m twine upload":             "twine",
		"python script.py -m pip":        "",
		"python -c 'import pip' -m pip":  "",
		"pip install x":                  "",
	} {
		var ws []shell.Word
		for _, f := range strings.Fields(in) {
			ws = append(ws, wd(f))
		}
		if m, _, _ := pythonModule(ws); m != want {
			t.Errorf("pythonModule(%q) = %q, want %q", in, m, want)
		}
	}
}

func TestRequirementsLines(t *testing.T) {
	got := requirementsLines("# comment\nrequests==2.31  # pinned\n--extra-index-url \\\n  https://h/simple\n\n-r sub/more.txt\n")
	want := []reqLine{{2, "requests==2.31"}, {3, "--extra-index-url https://h/simple"}, {6, "-r sub/more.txt"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("requirementsLines = %+v", got)
	}
	if f, ok := requirementsInclude("ci/requirements.txt", "--requirement=base.txt --no-deps"); !ok || f != "ci/base.txt" {
		t.Errorf("requirementsInclude = %q, %v", f, ok)
	}
}
