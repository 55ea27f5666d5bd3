package joblog

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/tokenscope/tokenscope/internal/access"
	"github.com/tokenscope/tokenscope/internal/limits"
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

// MaxMatchLine is how much of one log line is matched at its start and at
// its end. Job logs can hold lines of any length (minified output, a
// base64 blob, a progress bar overdrawn with carriage returns), and a
// failure message is never that long: the middle of a longer line is
// skipped without being kept, so that memory stays the same whatever the
// log (issue 10: a 1 MiB line stopped the read). It is the default of
// limits.LogLine (ReadOptions.MaxMatchLine).
const MaxMatchLine = 64 << 10

// MaxFailures bounds the failures kept from one log; a log that repeats a
// distinct failure millions of times (a hostile one, or a retry loop over
// many URLs) would otherwise grow the result without end. It is the
// default of limits.LogFailures (ReadOptions.MaxFailures).
const MaxFailures = 1000

// Result is what Read found in one log.
type Result struct {
	Failures []Failure
	// Notes say where the read was partial: a truncated line, the cap of
	// failures, the byte cap. They carry line numbers, never log text.
	Notes []string
	Lines int   // lines read
	Bytes int64 // bytes read
	// Truncated: the byte cap (ReadOptions.MaxBytes) stopped the read
	// before the end of the log.
	Truncated bool
}

// ReadOptions bound a read.
type ReadOptions struct {
	// MaxBytes stops the read after that many bytes (0: no limit); the
	// result says so (Truncated, a note).
	MaxBytes int64
	// MaxMatchLine and MaxFailures replace the defaults (0: MaxMatchLine,
	// MaxFailures; limits.LogLine, limits.LogFailures).
	MaxMatchLine, MaxFailures int
}

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
	// The regular expressions run only where they can match: most lines
	// of a long log have no marker.
	if strings.Contains(line, "section_") {
		line = sectionRE.ReplaceAllString(line, "")
	}
	if strings.IndexByte(line, 0x1b) >= 0 {
		line = ansiRE.ReplaceAllString(line, "")
	}
	if line != "" && line[0] >= '0' && line[0] <= '9' {
		line = timestampRE.ReplaceAllString(line, "")
	}
	return strings.TrimSpace(line)
}

// Parse reads a job log and returns the failures it holds, in log order
// (Read without a byte cap). On a read error the failures found before it
// are returned with the error.
func Parse(name string, r io.Reader) ([]Failure, error) {
	res, err := Read(name, r, ReadOptions{})
	return res.Failures, err
}

// Read streams a job log and returns the failures it holds, in log order.
// name labels the findings. A failure is reported once per (signature,
// callee) within the same command, since clients repeat errors.
//
// Memory stays bounded whatever the log: lines are read through a fixed
// buffer (a line longer than MaxMatchLine is matched on its first and its
// last MaxMatchLine bytes, with a note), nothing but the findings is kept, and
// at most MaxFailures of them. The log is read to its end, where a job's
// failure is, unless o.MaxBytes stops it first. On a read error the
// failures found before it are returned with the error.
func Read(name string, r io.Reader, o ReadOptions) (Result, error) {
	var res Result
	if o.MaxBytes > 0 {
		// One byte more than the cap tells a log of exactly MaxBytes
		// from a longer one.
		r = io.LimitReader(r, o.MaxBytes+1)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	seen := map[string]bool{}
	command := ""
	long, firstLong := 0, 0 // lines truncated, for one note
	lb := lineBuf{max: limits.Or(o.MaxMatchLine, limits.LogLine)}
	maxFailures := limits.Or(o.MaxFailures, limits.LogFailures)
	var err error
	for {
		var head, tail string
		var over bool
		var n int64
		head, tail, over, n, err = lb.readLine(br)
		if n == 0 {
			break
		}
		if o.MaxBytes > 0 && res.Bytes+n > o.MaxBytes {
			res.Bytes = o.MaxBytes
			res.Truncated = true
			res.Notes = append(res.Notes, fmt.Sprintf("%s: read stopped at the cap of %d bytes, after line %d: the rest of the log was not read", name, o.MaxBytes, res.Lines))
			err = nil
			break
		}
		res.Bytes += n
		res.Lines++
		if over {
			if long == 0 {
				firstLong = res.Lines
			}
			long++
		}
		full := false
		for _, part := range []string{head, tail} {
			if part == "" {
				continue
			}
			if f, ok := scanLine(part, &command, res.Failures); ok && f.Signature != "" {
				key := f.Command + "\x00" + f.Signature + "\x00" + f.CalleeRef
				if seen[key] {
					continue
				}
				if len(res.Failures) >= maxFailures {
					res.Notes = append(res.Notes, fmt.Sprintf("%s: more than %d failures (limit %s); the ones from line %d on are not reported; %s", name, maxFailures, limits.LogFailures, res.Lines, limits.Raise(limits.LogFailures, int64(maxFailures))))
					full = true
					break
				}
				seen[key] = true
				f.Log, f.Line = name, res.Lines
				res.Failures = append(res.Failures, f)
			}
		}
		if full {
			err = nil
			break
		}
		if err != nil {
			break
		}
	}
	if long > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%s: %d line(s) longer than %d bytes (the first is line %d) matched on their first and last %d bytes only (limit %s; %s)", name, long, lb.max, firstLong, lb.max, limits.LogLine, limits.Raise(limits.LogLine, int64(lb.max))))
	}
	if err != nil && err != io.EOF {
		return res, fmt.Errorf("read %s after line %d: %w", name, res.Lines, err)
	}
	return res, nil
}

// lineBuf holds the parts of one line that are matched: its first
// MaxMatchLine bytes and, for a longer line, its last MaxMatchLine bytes,
// where a runner's carriage-return overdraws (progress bars) leave the
// text a terminal shows last. Both buffers are reused line after line.
type lineBuf struct {
	head, tail []byte
	max        int // bytes matched at each end (ReadOptions.MaxMatchLine)
}

// readLine reads one line, keeping its head and tail; over reports a line
// longer than MaxMatchLine, n the bytes consumed with the newline. err is
// the reader's (io.EOF after the last line).
func (lb *lineBuf) readLine(br *bufio.Reader) (head, tail string, over bool, n int64, err error) {
	lb.head, lb.tail = lb.head[:0], lb.tail[:0]
	var size int64 // bytes of the line without its newline
	for {
		chunk, e := br.ReadSlice('\n')
		n += int64(len(chunk))
		content := chunk
		if e == nil {
			content = chunk[:len(chunk)-1]
		}
		size += int64(len(content))
		if room := lb.max - len(lb.head); room > 0 {
			lb.head = append(lb.head, content[:min(room, len(content))]...)
		}
		if size > int64(lb.max) {
			lb.tail = append(lb.tail, content...)
			if len(lb.tail) > 2*lb.max {
				// Keep the last lb.max bytes: memory stays at two
				// buffers whatever the line.
				lb.tail = lb.tail[:copy(lb.tail, lb.tail[len(lb.tail)-lb.max:])]
			}
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		if size > int64(lb.max) {
			t := lb.tail[max(0, len(lb.tail)-lb.max):]
			return string(lb.head), string(t), true, n, e
		}
		return string(lb.head), "", false, n, e
	}
}

// scanLine handles one raw line: a "$ command" echo updates *command; a
// failure is returned (Signature "" for one merged into the last of
// prev, which it then completes).
func scanLine(raw string, command *string, prev []Failure) (Failure, bool) {
	line := clean(raw)
	if line == "" {
		return Failure{}, false
	}
	if cmd, ok := strings.CutPrefix(line, "$ "); ok {
		*command = cmd
		return Failure{}, false
	}
	f, ok := match(line, *command)
	if !ok {
		return Failure{}, false
	}
	if k := len(prev) - 1; k >= 0 && prev[k].Signature == "git-push-denied" && prev[k].Command == redact.String(truncate(*command, 400)) &&
		(f.Signature == "git-403" || f.Signature == "git-not-found-legacy") {
		// git prints the server's refusal, then its own 403 with the
		// URL: one failure, the push, about that repository.
		if prev[k].RefKind == RefNone {
			prev[k].CalleeRef, prev[k].RefKind = f.CalleeRef, f.RefKind
		}
		return Failure{}, true
	}
	f.Message = redact.String(truncate(line, 400))
	f.Command = redact.String(truncate(*command, 400))
	return f, true
}

func containsAny(s string, lits []string) bool {
	for _, l := range lits {
		if strings.Contains(s, l) {
			return true
		}
	}
	return false
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
		if !containsAny(line, sig.lits) {
			continue
		}
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
