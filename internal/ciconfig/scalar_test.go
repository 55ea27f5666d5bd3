package ciconfig

import (
	"math"
	"regexp"
	"testing"
)

// Psych's YAML 1.1 typing of plain scalars, and Ruby's to_s of the result
// (https://docs.gitlab.com/ci/variables/ and GitLab's Psych loader: "VAR: 012345 becomes 5349").
func TestResolvePlain(t *testing.T) {
	tests := []struct {
		in         string
		null       bool
		typ        scalarType
		want       string
		disallowed string
	}{
		{in: "", null: true},
		{in: "~", null: true},
		{in: "null", null: true},
		{in: "NULL", null: true},
		{in: "yes", typ: tBool, want: "true"},
		{in: "Yes", typ: tBool, want: "true"},
		{in: "ON", typ: tBool, want: "true"},
		{in: "true", typ: tBool, want: "true"},
		{in: "no", typ: tBool, want: "false"},
		{in: "off", typ: tBool, want: "false"},
		{in: "False", typ: tBool, want: "false"},
		{in: "y", typ: tStr, want: "y"}, // not a boolean in Psych
		{in: "n", typ: tStr, want: "n"},
		{in: "nope", typ: tStr, want: "nope"},
		{in: "yes please", typ: tStr, want: "yes please"},
		{in: "012345", typ: tInt, want: "5349"}, // octal
		{in: "0755", typ: tInt, want: "493"},
		{in: "08", typ: tStr, want: "08"}, // not octal, not decimal
		{in: "00", typ: tInt, want: "0"},
		{in: "0x1A", typ: tInt, want: "26"},
		{in: "0b101", typ: tInt, want: "5"},
		{in: "-42", typ: tInt, want: "-42"},
		{in: "+7", typ: tInt, want: "7"},
		{in: "1_000", typ: tInt, want: "1000"},
		{in: "1,000", typ: tInt, want: "1000"},
		{in: "123456789012345678901234567890", typ: tInt, want: "123456789012345678901234567890"},
		{in: "1.10", typ: tFloat, want: "1.1"},
		{in: "3.0", typ: tFloat, want: "3.0"},
		{in: "1.", typ: tFloat, want: "1.0"},
		{in: "0.1", typ: tFloat, want: "0.1"},
		{in: "1.5e+3", typ: tFloat, want: "1500.0"},
		{in: "100000000000000000.0", typ: tFloat, want: "1.0e+17"},
		{in: "0.00001", typ: tFloat, want: "1.0e-05"},
		{in: "1e5", typ: tStr, want: "1e5"}, // YAML 1.1 floats need a dot
		{in: ".", typ: tStr, want: "."},
		{in: ".inf", typ: tFloat, want: "Infinity"},
		{in: "-.Inf", typ: tFloat, want: "-Infinity"},
		{in: ".NaN", typ: tFloat, want: "NaN"},
		{in: "1:20:30", typ: tInt, want: "4830"},
		{in: "1:20", typ: tInt, want: "4800"}, // Psych weights by 60**(e-2).abs
		{in: ":sym", typ: tStr, want: "sym"},
		{in: "2024-01-31", typ: tStr, want: "2024-01-31", disallowed: "Date"},
		{in: "2024-02-30", typ: tStr, want: "2024-02-30"}, // not a valid date: stays a string
		{in: "2001-12-14t21:59:43.10-05:00", typ: tStr, want: "2001-12-14t21:59:43.10-05:00", disallowed: "Time"},
		{in: "v1.2.3", typ: tStr, want: "v1.2.3"},
		{in: "1.2.3", typ: tStr, want: "1.2.3"},
		{in: "registry.example.com/g/app:1.0", typ: tStr, want: "registry.example.com/g/app:1.0"},
		{in: "$CI_JOB_TOKEN", typ: tStr, want: "$CI_JOB_TOKEN"},
		{in: "échec", typ: tStr, want: "échec"},
	}
	for _, tt := range tests {
		got := resolvePlain(tt.in)
		if got.null != tt.null || (!tt.null && (got.typ != tt.typ || got.str != tt.want)) || got.disallowed != tt.disallowed {
			t.Errorf("resolvePlain(%q) = %+v, want null=%v typ=%d %q disallowed=%q", tt.in, got, tt.null, tt.typ, tt.want, tt.disallowed)
		}
	}
}

func TestRubyFloat(t *testing.T) {
	tests := map[float64]string{
		1.1: "1.1", 100: "100.0", 1e15: "1000000000000000.0", 1e16: "1.0e+16", 0.0001: "0.0001",
		0.00012: "0.00012", 1.5e-7: "1.5e-07", -2.5: "-2.5", 0: "0.0", 123456.789: "123456.789",
		math.Inf(1): "Infinity",
	}
	for in, want := range tests {
		if got := rubyFloat(in); got != want {
			t.Errorf("rubyFloat(%v) = %q, want %q", in, got, want)
		}
	}
}

// Variable values go through the same typing: quoting keeps text as is,
// and the hash form's value is converted too.
func TestVariableScalars(t *testing.T) {
	cfg := loadApp(t, `
variables:
  OCTAL: 012345
  QUOTED: "012345"
  BOOL: yes
  SWITCH: off
  off: key typed too
  FLOAT: 1.10
  EMPTY:
  TILDE: ~
  HASH: {value: on, description: "x"}
  HASH_EMPTY: {description: "nothing"}
  BLOCK: |
    a
job:
  script: [echo]
`, nil)
	requireClean(t, cfg)
	equalMap(t, "variables", varMap(jobNamed(t, cfg, "job").Variables), map[string]string{
		"OCTAL": "5349", "QUOTED": "012345", "BOOL": "true", "SWITCH": "false", "FLOAT": "1.1",
		"false": "key typed too", // Psych types keys as well: `off:` is the boolean false
		"EMPTY": "", "TILDE": "", "HASH": "true", "HASH_EMPTY": "", "BLOCK": "a\n",
	})
}

// stringish is a hand-written form of Psych's regular expression; check
// it against the expression itself.
func TestStringishMatchesPsychRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[^\d.:-]?[\p{L}\p{Nl}_ \t\r\n\f\v!@#$%^&*(){}<>|/\\~;=]+`)
	inputs := []string{"", "a", "1", "-", "-a", ".a", ":a", "1a", "a1", "+a", "+1", "'a", "'1", "é", "1é",
		"Ⅻ", "~", "-~", "=x", "0x1A", "yes", " x", "\tx", "\vx", "\"x", "[a]", "{a", "%x", "12:30", "-.inf", "3.14", ",x"}
	for _, s := range inputs {
		if got, want := stringish(s), re.MatchString(s); got != want {
			t.Errorf("stringish(%q) = %v, regexp says %v", s, got, want)
		}
	}
}
