package report

import (
	"github.com/tokenscope/tokenscope/internal/quote"
	"strings"
	"unicode/utf8"
)

// tableWidth is the width the terminal formats wrap prose to by default:
// a 100-column terminal shows every line whole. Long words (paths, URLs)
// are never cut.
const tableWidth = 100

// style is how a terminal format looks: whether it colours status words
// and headers, and the width it wraps to. The command line decides both
// (colour on a terminal without NO_COLOR or --no-color); with colour off
// every method returns its text unchanged, so files and pipes never get
// escape codes.
type style struct {
	on    bool
	width int
}

func newStyle(h PlanHints) style {
	w := h.Width
	if w <= 0 {
		w = tableWidth
	}
	return style{on: h.Color, width: w}
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

func (s style) paint(code, text string) string {
	if !s.on || text == "" {
		return text
	}
	return code + text + ansiReset
}

// head is a section header.
func (s style) head(text string) string { return s.paint(ansiBold, text) }

// alarm is a banner that must not be missed.
func (s style) alarm(text string) string { return s.paint(ansiBold+ansiRed, text) }

// status colours a status or action word by what it means for the reader:
// green is access the plan gives, red is access it takes or refuses,
// yellow is a decision waiting for a human.
func (s style) status(word string) string {
	base, _, _ := strings.Cut(word, " ")
	switch base {
	case "add", "keep", "update", "enforce":
		return s.paint(ansiGreen, word)
	case "remove", "denied", "never":
		return s.paint(ansiRed, word)
	case "review", "stale", "unapproved", "advice":
		return s.paint(ansiYellow, word)
	case "open":
		return s.paint(ansiCyan, word)
	}
	return word
}

// width is the number of columns text takes (runes: the names are paths).
func width(text string) int { return utf8.RuneCountInString(text) }

// wrap breaks text into lines of at most max columns at spaces: the first
// line starts with first, the others with rest (a hanging indent). A word
// longer than a line is kept whole on its own line, and so is a command in
// backticks, so that it can be copied in one piece.
func wrap(text, first, rest string, max int) []string {
	// oneLine: names and evidence come from repositories; a newline or a
	// terminal escape in them must not start a line or repaint the screen.
	words := unbroken(strings.Fields(quote.OneLine(text)))
	if len(words) == 0 {
		return []string{strings.TrimRight(first, " ")}
	}
	var out []string
	line := first + words[0]
	for _, w := range words[1:] {
		if width(line)+1+width(w) > max {
			out = append(out, line)
			line = rest + w
			continue
		}
		line += " " + w
	}
	return append(out, line)
}

// unbroken joins the words of each backtick span into one.
func unbroken(words []string) []string {
	out := words[:0:0]
	open := false
	for _, w := range words {
		if open {
			out[len(out)-1] += " " + w
		} else {
			out = append(out, w)
		}
		if strings.Count(w, "`")%2 == 1 {
			open = !open
		}
	}
	return out
}

// columns lays rows out in columns padded to their widest cell, two spaces
// apart, and paints the cells of column painted with paint after padding
// (so escape codes never count as width). The last column is not padded.
func columns(rows [][]string, painted int, paint func(string) string) []string {
	if len(rows) == 0 {
		return nil
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			r[i] = quote.OneLine(c) // as in wrap
			widths[i] = max(widths[i], width(r[i]))
		}
	}
	out := make([]string, len(rows))
	for ri, r := range rows {
		var b strings.Builder
		for i, c := range r {
			cell := c
			if ri > 0 && i == painted && paint != nil {
				cell = paint(c)
			}
			b.WriteString(cell)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-width(c)+2))
			}
		}
		out[ri] = strings.TrimRight(b.String(), " ")
	}
	return out
}
