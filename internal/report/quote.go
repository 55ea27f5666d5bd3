package report

import (
	"encoding/csv"
	"fmt"
	"github.com/tokenscope/tokenscope/internal/quote"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Quoting for each output language. Names are validated where they are
// read (inventory, gitlab), but a renderer must not depend on that: a name
// that reaches one is written so that it cannot end a comment, a string or
// a table cell, whatever it holds.

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
		case quote.UnsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	b.WriteByte('"')
	return b.String()
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
	return `"$GITLAB_URL"/` + shellQuote(quote.OneLine(p))
}

// csvWrite writes one CSV row with every cell defused (csvSafe): names of
// jobs, files and projects come from repositories as much as evidence
// does. encoding/csv quotes what would break the row.
func csvWrite(cw *csv.Writer, row []string) {
	for i := range row {
		row[i] = quote.CSVCell(row[i])
	}
	_ = cw.Write(row)
}

// needsEscapes reports whether s cannot be written raw on one line.
func needsEscapes(s string) bool {
	return strings.ContainsFunc(s, quote.UnsafeRune) || !utf8.ValidString(s)
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
		case quote.UnsafeRune(r):
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
