package report

import (
	"encoding/csv"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Quoting for each output language. Names are validated where they are
// read (inventory, gitlab), but a renderer must not depend on that: a name
// that reaches one is written so that it cannot end a comment, a string or
// a table cell, whatever it holds.

// oneLine makes s safe on one line of a line comment (bash, HCL and YAML
// "#"), a plain-text table or a terminal: every control character, the
// Unicode line and paragraph separators and invalid UTF-8 become visible
// escapes (\n, \x1b, \u2028), so that text from a name can neither end the
// comment and start a command nor move the cursor.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unsafeRune) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case unsafeRune(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

// unsafeRune: C0 and C1 controls, DEL, what YAML and terminals take for
// line breaks or invisible marks, and the bidirectional overrides and
// isolates that make text display in another order than it runs
// (CVE-2021-42574, "Trojan Source").
func unsafeRune(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == utf8.RuneError ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// hclString quotes s as an HCL quoted template that is a literal: the
// escapes of the HCL native syntax (\n \r \t \" \\ \uNNNN), and "${" and
// "%{" written "$${" and "%%{" so that nothing in a name is interpolated
// or becomes a directive
// (https://github.com/hashicorp/hcl/blob/main/hclsyntax/spec.md#template-expressions).
// Go's %q is not HCL: it leaves "${" as is and writes \x and \a escapes
// that HCL does not know.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\ufffd`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case (r == '$' || r == '%') && strings.HasPrefix(s[i+1:], "{"):
			b.WriteRune(r)
			b.WriteRune(r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	b.WriteByte('"')
	return b.String()
}

// mdCode writes s as a Markdown code span that stays one span in a table
// cell or a list item: on one line (oneLine), "|" escaped (GitHub and
// GitLab split table cells on it even inside code), and fenced with one
// backtick more than the longest run of backticks in s
// (https://spec.commonmark.org/0.31.2/#code-spans).
func mdCode(s string) string {
	if s == "" {
		return "" // an empty span is not one in CommonMark; an empty cell is
	}
	s = strings.ReplaceAll(oneLine(s), "|", `\|`)
	run, longest := 0, 0
	for _, c := range []byte(s) {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+,-]+$`)

// shellWord writes s as one bash word: as is when it holds nothing the
// shell would expand or split, else single-quoted.
func shellWord(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return shellQuote(s)
}

// scriptServerURL sets GITLAB_URL in the script, to the environment's
// value or else def, without a trailing slash. def goes into a quoted
// assignment of its own: inside "${GITLAB_URL:-…}" it would be expanded.
func scriptServerURL(def string) string {
	if plainWord.MatchString(def) {
		return fmt.Sprintf("\nGITLAB_URL=\"${GITLAB_URL:-%s}\"\nGITLAB_URL=\"${GITLAB_URL%%/}\"\n", def)
	}
	return fmt.Sprintf("\nGITLAB_URL=\"${GITLAB_URL:-}\"\nif [ -z \"$GITLAB_URL\" ]; then GITLAB_URL=%s; fi\nGITLAB_URL=\"${GITLAB_URL%%/}\"\n", shellQuote(def))
}

// serverPath writes "$GITLAB_URL/path" for a command people paste: the
// path is quoted on its own when it holds anything the shell would expand
// (url.PathEscape leaves "$" as is), and kept on one line.
func serverPath(p string) string {
	if plainWord.MatchString(p) {
		return `"$GITLAB_URL/` + p + `"`
	}
	return `"$GITLAB_URL"/` + shellQuote(oneLine(p))
}

// csvWrite writes one CSV row with every cell defused (csvSafe): names of
// jobs, files and projects come from repositories as much as evidence
// does. encoding/csv quotes what would break the row.
func csvWrite(cw *csv.Writer, row []string) {
	for i := range row {
		row[i] = csvSafe(row[i])
	}
	_ = cw.Write(row)
}

// needsEscapes reports whether s cannot be written raw on one line.
func needsEscapes(s string) bool {
	return strings.ContainsFunc(s, unsafeRune) || !utf8.ValidString(s)
}

// ansiCQuote writes s as bash's $'…': backslash, quote and every byte
// that is not printable UTF-8 escaped (\n, \xHH), nothing expanded
// (https://www.gnu.org/software/bash/manual/bash.html#ANSI_002dC-Quoting).
// A NUL cannot be in a shell string at all; bash ends the string there.
func ansiCQuote(s string) string {
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case unsafeRune(r):
			for _, c := range []byte(string(r)) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		default:
			b.WriteRune(r)
		}
		i += n
	}
	b.WriteByte('\'')
	return b.String()
}
