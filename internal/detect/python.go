package detect

import (
	"path"
	"strings"

	"github.com/tokenscope/tokenscope/internal/shell"
)

// Python tooling read by both families: "python -m MODULE" invocations,
// and pip requirements files (index options for the pip detector, VCS
// URLs for the git detector).

// pythonModule returns the module "python -m MODULE ARGS..." runs (also
// py, python3, python3.12) and its arguments; ok is false when the
// interpreter runs a script or -c code.
func pythonModule(ws []shell.Word) (module string, args []shell.Word, ok bool) {
	if name := cmdBase(ws[0].Value); name != "py" && !strings.HasPrefix(name, "python") {
		return "", nil, false
	}
	for i := 1; i < len(ws); i++ {
		switch v := ws[i].Value; {
		case v == "-m" && i+1 < len(ws):
			return ws[i+1].Value, ws[i+2:], true
		case v == "-W" || v == "-X":
			i++ // options with a value
		case v == "-c" || !strings.HasPrefix(v, "-"):
			return "", nil, false
		}
	}
	return "", nil, false
}

// maxRequirementLines bounds the lines read from one requirements file.
const maxRequirementLines = 10000

// reqLine is one logical line of a pip requirements file.
type reqLine struct {
	n    int    // its first line
	text string // continuation lines joined, comment removed
}

// requirementsLines splits a requirements file into logical lines:
// backslash continuations joined, comments and blank lines dropped (pip's
// "Requirements File Format").
func requirementsLines(s string) []reqLine {
	var out []reqLine
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines) && i < maxRequirementLines; i++ {
		line := strings.TrimSpace(lines[i])
		n := i + 1
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + strings.TrimSpace(lines[i])
		}
		if j := strings.Index(line, " #"); j >= 0 {
			line = strings.TrimSpace(line[:j])
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		out = append(out, reqLine{n: n, text: line})
	}
	return out
}

// maxRequirementDepth bounds nested -r/-c includes (and include cycles).
const maxRequirementDepth = 4

// requirementsInclude returns the file an "-r"/"-c" line of file
// includes, relative to file's folder as pip resolves it.
func requirementsInclude(file, line string) (string, bool) {
	f, ok := cutOption(line, "-r", "--requirement", "-c", "--constraint")
	if !ok || f == "" {
		return "", false
	}
	return path.Join(path.Dir(file), strings.Fields(f)[0]), true
}

// cutOption returns the value of a requirements-file option line
// ("--index-url URL", "-i=URL").
func cutOption(line string, names ...string) (string, bool) {
	for _, n := range names {
		if rest, ok := strings.CutPrefix(line, n); ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "=")) {
			return strings.TrimSpace(strings.TrimPrefix(rest, "=")), true
		}
	}
	return "", false
}
