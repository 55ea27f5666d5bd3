package ciconfig

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// GitLab loads CI YAML with Ruby's Psych, a YAML 1.1 loader, and turns
// variable values into strings with Ruby's to_s. The resolver below follows
// Psych::ScalarScanner#tokenize (psych 4/5, legacy integer mode) branch by
// branch so that `VAR: 012` becomes "10", `on` becomes "true" and `1.10`
// becomes "1.1", as they do on GitLab (GitLab's Psych loader, lib/gitlab/config/loader/yaml.rb).

// plainResult is a plain scalar after Psych's implicit typing.
type plainResult struct {
	null bool
	typ  scalarType
	str  string // Ruby to_s of the value
	// disallowed names the Ruby class GitLab's YAML.safe_load refuses for
	// this value ("Date", "Time"): GitLab rejects the whole file.
	disallowed string
}

var (
	reNull      = regexp.MustCompile(`(?i)^null$`)
	reTrue      = regexp.MustCompile(`(?i)^(yes|true|on)$`)
	reFalse     = regexp.MustCompile(`(?i)^(no|false|off)$`)
	reTime      = regexp.MustCompile(`^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|[ \t\r\n\f\v]+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:[ \t\r\n\f\v]*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$`)
	reDate      = regexp.MustCompile(`^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$`)
	rePosInf    = regexp.MustCompile(`(?i)^\+?\.inf$`)
	reNegInf    = regexp.MustCompile(`(?i)^-\.inf$`)
	reNaN       = regexp.MustCompile(`(?i)^\.nan$`)
	reSexInt    = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}$`)
	reSexFloat  = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}\.[0-9_]*$`)
	reFloat     = regexp.MustCompile(`^(?:[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$`)
	reDotOnly   = regexp.MustCompile(`^[-+]?\.$`)
	reIntLegacy = regexp.MustCompile(`^(?:[-+]?0b[0-1_,]+|[-+]?0[0-7_,]+|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)|[-+]?0x[0-9a-fA-F_,]+)$`)
	reDotExp    = regexp.MustCompile(`\.([Ee]|$)`)
)

// stringish is Psych's first test, /^[^\d.:-]?[[:alpha:]_\s!@#$%\^&*(){}<>|\/\\~;=]+/,
// written out: most scalars are words and take this branch, so it is hot.
// [[:alpha:]] in Ruby is Unicode-aware, and Ruby's \s includes \v.
func stringish(s string) bool {
	r0, n := utf8.DecodeRuneInString(s)
	if wordRune(r0) {
		return true
	}
	if (r0 >= '0' && r0 <= '9') || r0 == '.' || r0 == ':' || r0 == '-' || n >= len(s) {
		return false
	}
	r1, _ := utf8.DecodeRuneInString(s[n:])
	return wordRune(r1)
}

func wordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.IndexByte("_ \t\r\n\f\v!@#$%^&*(){}<>|/\\~;=", byte(r)) >= 0
	}
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r)
}

func str(s string) plainResult { return plainResult{typ: tStr, str: s} }

// resolvePlain types an untagged plain scalar the way Psych does.
func resolvePlain(s string) plainResult {
	if s == "" {
		return plainResult{null: true}
	}
	if stringish(s) || strings.Contains(s, "\n") {
		if utf8.RuneCountInString(s) > 5 {
			return str(s)
		}
		switch c := s[0] | 0x20; {
		case c != 'y' && c != 't' && c != 'o' && c != 'n' && c != 'f' && s[0] != '~':
			return str(s)
		case s == "~" || reNull.MatchString(s):
			return plainResult{null: true}
		case reTrue.MatchString(s):
			return plainResult{typ: tBool, str: "true"}
		case reFalse.MatchString(s):
			return plainResult{typ: tBool, str: "false"}
		}
		return str(s)
	}
	switch {
	case reTime.MatchString(s):
		return plainResult{typ: tStr, str: s, disallowed: "Time"}
	case reDate.MatchString(s):
		if _, err := time.Parse("2006-1-2", s); err != nil {
			return str(s)
		}
		return plainResult{typ: tStr, str: s, disallowed: "Date"}
	case rePosInf.MatchString(s):
		return plainResult{typ: tFloat, str: "Infinity"}
	case reNegInf.MatchString(s):
		return plainResult{typ: tFloat, str: "-Infinity"}
	case reNaN.MatchString(s):
		return plainResult{typ: tFloat, str: "NaN"}
	case strings.HasPrefix(s, ":") && len(s) > 1:
		// A Symbol (GitLab permits the class); to_s drops the colon.
		sym := s[1:]
		if len(sym) >= 2 && (sym[0] == '"' || sym[0] == '\'') && sym[len(sym)-1] == sym[0] {
			sym = sym[1 : len(sym)-1]
		}
		return str(strings.TrimPrefix(sym, ":"))
	case reSexInt.MatchString(s):
		return sexagesimalInt(s)
	case reSexFloat.MatchString(s):
		return sexagesimalFloat(s)
	case reFloat.MatchString(s):
		if reDotOnly.MatchString(s) {
			return str(s)
		}
		clean := reDotExp.ReplaceAllString(strings.NewReplacer(",", "", "_", "").Replace(s), "$1")
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil && !isRangeErr(err) {
			return str(s)
		}
		return plainResult{typ: tFloat, str: rubyFloat(f)}
	case reIntLegacy.MatchString(s):
		if v, ok := rubyInteger(strings.NewReplacer(",", "", "_", "").Replace(s)); ok {
			return plainResult{typ: tInt, str: v}
		}
		return str(s)
	}
	return str(s)
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// sexagesimalInt mirrors Psych's base-60 branch, including its weighting
// by 60**(e-2).abs, so "1:20" is 4800 there, not 80.
func sexagesimalInt(s string) plainResult {
	total := new(big.Int)
	for e, part := range strings.Split(s, ":") {
		n := rubyToI(part)
		w := new(big.Int).Exp(big.NewInt(60), big.NewInt(int64(abs(e-2))), nil)
		total.Add(total, n.Mul(n, w))
	}
	return plainResult{typ: tInt, str: total.String()}
}

func sexagesimalFloat(s string) plainResult {
	total := 0.0
	for e, part := range strings.Split(s, ":") {
		f, _ := strconv.ParseFloat(rubyToFPrefix(part), 64)
		total += f * math.Pow(60, float64(abs(e-2)))
	}
	return plainResult{typ: tFloat, str: rubyFloat(total)}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// rubyToI is String#to_i: an optional sign and leading digits, underscores
// allowed between digits.
func rubyToI(s string) *big.Int {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case (c == '-' || c == '+') && i == 0, c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '_':
		default:
			i = len(s)
		}
	}
	n, ok := new(big.Int).SetString(b.String(), 10)
	if !ok {
		return new(big.Int)
	}
	return n
}

// rubyToFPrefix keeps the numeric prefix of s for String#to_f.
func rubyToFPrefix(s string) string {
	s = strings.ReplaceAll(s, "_", "")
	end := 0
	for end < len(s) && (s[end] == '-' || s[end] == '+' || s[end] == '.' || (s[end] >= '0' && s[end] <= '9')) {
		end++
	}
	return s[:end]
}

// rubyInteger is Kernel#Integer on a string without separators: 0b, 0x and
// a leading 0 (octal) select the base.
func rubyInteger(s string) (string, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10
	switch {
	case strings.HasPrefix(s, "0b") || strings.HasPrefix(s, "0B"):
		base, s = 2, s[2:]
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" {
		return "", false
	}
	n, ok := new(big.Int).SetString(s, base)
	if !ok {
		return "", false
	}
	if neg {
		n.Neg(n)
	}
	return n.String(), true
}

// rubyFloat renders f as Ruby's Float#to_s: the shortest round-trip digits,
// fixed notation for decimal exponents in (-4, 16], else d.ddde+XX.
func rubyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // e.g. "-1.2345e+06"
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1
	switch {
	case decpt > 0 && decpt <= 16:
		if len(digits) <= decpt {
			return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
		}
		return sign + digits[:decpt] + "." + digits[decpt:]
	case decpt <= 0 && decpt > -4:
		return sign + "0." + strings.Repeat("0", -decpt) + digits
	}
	frac := digits[1:]
	if frac == "" {
		frac = "0"
	}
	es := "+"
	if exp < 0 {
		es, exp = "-", -exp
	}
	return sign + digits[:1] + "." + frac + "e" + es + twoDigits(exp)
}

func twoDigits(n int) string {
	s := strconv.Itoa(n)
	if len(s) < 2 {
		return "0" + s
	}
	return s
}
