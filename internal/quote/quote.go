package quote

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// OneLine makes s safe on one line of a line comment (bash, HCL and YAML
// "#"), a plain-text table or a terminal: every control character, the
// Unicode line and paragraph separators and invalid UTF-8 become visible
// escapes (\n, \x1b, \u2028), so that text from a name can neither end the
// comment and start a command nor move the cursor.
func OneLine(s string) string {
	if !strings.ContainsFunc(s, UnsafeRune) && utf8.ValidString(s) {
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
		case UnsafeRune(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case UnsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

// UnsafeRune reports the runes OneLine escapes: C0 and C1 controls, DEL, what YAML and terminals take for
// line breaks or invisible marks, and the bidirectional overrides and
// isolates that make text display in another order than it runs
// (CVE-2021-42574, "Trojan Source").
func UnsafeRune(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == utf8.RuneError ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// MarkdownCode writes s as a Markdown code span that stays one span in a table
// cell or a list item: on one line (OneLine), "|" escaped (GitHub and
// GitLab split table cells on it even inside code), and fenced with one
// backtick more than the longest run of backticks in s
// (https://spec.commonmark.org/0.31.2/#code-spans).
func MarkdownCode(s string) string {
	if s == "" {
		return "" // an empty span is not one in CommonMark; an empty cell is
	}
	s = strings.ReplaceAll(OneLine(s), "|", `\|`)
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

// MermaidLabel makes s safe inside a quoted Mermaid label ("..."): names
// come from repositories and are hostile. Mermaid decodes entity codes
// (#quot;, #35; ...) in labels (https://mermaid.js.org/syntax/flowchart.html#entity-codes-to-escape-characters),
// so every character that could end the string, start an entity, a
// Markdown string (a backtick) or HTML is written as one; "#" first, so
// that a name holding "#quot;" stays literal. Line breaks and other
// control characters become spaces: a label is one line.
func MermaidLabel(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '#':
			b.WriteString("#35;")
		case r == '"':
			b.WriteString("#quot;")
		case r == '|', r == '<', r == '>', r == '`', r == '&':
			fmt.Fprintf(&b, "#%d;", r)
		case r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029 || r == 0x85:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// CSVCell defuses spreadsheet formula injection: evidence is text copied
// from repositories, and a cell starting with = + - @ would be evaluated.
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
