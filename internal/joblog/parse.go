package joblog

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/redact"
)

// Failure is one job-token failure signature found in a job log.
type Failure struct {
	Log       string // the log's name, as given
	Line      int    // 1-based line in the log
	Signature string // signature id
	Kind      Kind
	Access    access.Kind // "" when the message does not tell
	Message   string      // the line, cleaned and redacted
	Command   string      // the script command the failure followed, redacted; "" when none
	// CallerRef and CalleeRef name the projects as the log does: a short
	// path ("vise-kit"), a full path, a URL, an image, or a numeric ID.
	CallerRef string
	CalleeRef string
	RefKind   RefKind
	Policy    string // the fine-grained policy the message says is required
	Explain   string // what the message means
	Do        string // what to do, when the signature alone tells (NotJobToken)
}

// RefKind says how CalleeRef names the callee.
type RefKind string

// Reference kinds.
const (
	RefShortPath RefKind = "short-path" // project.path, as GitLab's denial messages give it
	RefURL       RefKind = "url"
	RefImage     RefKind = "image"
	RefNone      RefKind = ""
)

// maxLine bounds one log line; job logs can hold megabyte-long lines of
// minified output, and a failure message is never that long.
const maxLine = 1 << 20

var (
	ansiRE      = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)
	sectionRE   = regexp.MustCompile(`section_(?:start|end):\d+:[A-Za-z0-9_.-]+(?:\[[^\]]*\])?`)
	timestampRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z \d\d[OE]\+? ?`)
	apiURLRE    = regexp.MustCompile(`(?:https?://|\$\{?CI_API_V4_URL\}?|\$\{?CI_SERVER_URL\}?)[^\s"'<>]*`)
	// varURLRE is a URL held by a job's variable ("${WEB_API}/jobs/..."),
	// which the caller's job environments expand.
	varURLRE = regexp.MustCompile(`\$(?:\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)/[^\s"'<>]*`)
)

// clean removes what the runner adds around a line: ANSI colours, section
// markers, carriage-return overdraws and timestamps (FF_TIMESTAMPS).
func clean(line string) string {
	line = strings.TrimRight(line, "\r\n")
	if i := strings.LastIndexByte(line, '\r'); i >= 0 && i < len(line)-1 {
		line = line[i+1:]
	}
	line = sectionRE.ReplaceAllString(line, "")
	line = ansiRE.ReplaceAllString(line, "")
	line = timestampRE.ReplaceAllString(line, "")
	return strings.TrimSpace(line)
}

// Parse reads a job log and returns the failures it holds, in log order.
// name labels the findings. A failure is reported once per (signature,
// callee) within the same command, since clients repeat errors.
func Parse(name string, r io.Reader) ([]Failure, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	var out []Failure
	seen := map[string]bool{}
	command := ""
	n := 0
	for sc.Scan() {
		n++
		line := clean(sc.Text())
		if line == "" {
			continue
		}
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			command = cmd
			continue
		}
		f, ok := match(line, command)
		if !ok {
			continue
		}
		if k := len(out) - 1; k >= 0 && out[k].Signature == "git-push-denied" && out[k].Command == redact.String(truncate(command, 400)) &&
			(f.Signature == "git-403" || f.Signature == "git-not-found-legacy") {
			// git prints the server's refusal, then its own 403 with the
			// URL: one failure, the push, about that repository.
			if out[k].RefKind == RefNone {
				out[k].CalleeRef, out[k].RefKind = f.CalleeRef, f.RefKind
			}
			continue
		}
		key := command + "\x00" + f.Signature + "\x00" + f.CalleeRef
		if seen[key] {
			continue
		}
		seen[key] = true
		f.Log, f.Line = name, n
		f.Message = redact.String(truncate(line, 400))
		f.Command = redact.String(truncate(command, 400))
		out = append(out, f)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}

// match tries every signature on line, most specific first.
func match(line, command string) (Failure, bool) {
	for _, sig := range signatures {
		m := sig.re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := Failure{Signature: sig.id, Kind: sig.kind, Access: sig.access, Explain: sig.explain, Do: sig.do}
		for i, g := range sig.re.SubexpNames() {
			switch g {
			case "caller":
				f.CallerRef = m[i]
			case "callee":
				f.CalleeRef, f.RefKind = strings.TrimSuffix(m[i], "."), RefShortPath
			case "url":
				f.CalleeRef, f.RefKind = m[i], RefURL
			case "image":
				f.CalleeRef, f.RefKind = m[i], RefImage
			case "policy":
				f.Policy = strings.TrimSpace(m[i])
			}
		}
		if sig.id == "http-error" {
			// A bare 403/404 counts only after a command that sent the job
			// token to GitLab's API: any other 404 in a log is noise.
			if !sendsJobToken(command) {
				return Failure{}, false
			}
			if u := apiURLRE.FindString(command); strings.Contains(u, "/projects/") || strings.Contains(u, "CI_API_V4_URL") {
				f.CalleeRef, f.RefKind = u, RefURL
			} else if u := varURLRE.FindString(command); u != "" && !strings.Contains(u, "/projects/") {
				f.CalleeRef, f.RefKind = u, RefURL
			}
		}
		if f.RefKind == RefNone && command != "" {
			// The message names no project: take the URL of the command.
			if u := apiURLRE.FindString(command); u != "" {
				f.CalleeRef, f.RefKind = u, RefURL
			}
		}
		return f, true
	}
	return Failure{}, false
}

// sendsJobToken reports whether a script command (as the runner echoes it:
// unexpanded) sends the job token.
func sendsJobToken(cmd string) bool {
	l := strings.ToLower(cmd)
	return strings.Contains(l, "ci_job_token") || strings.Contains(l, "job-token") || strings.Contains(l, "job_token") ||
		strings.Contains(l, "gitlab-ci-token") || strings.Contains(l, "ci_registry_password")
}
