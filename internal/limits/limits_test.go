package limits

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseValue(t *testing.T) {
	for _, c := range []struct {
		unit Unit
		in   string
		want int64
	}{
		{Bytes, "16MiB", 16 << 20},
		{Bytes, "16mib", 16 << 20},
		{Bytes, "512KiB", 512 << 10},
		{Bytes, "2GiB", 2 << 30},
		{Bytes, "16MB", 16_000_000},
		{Bytes, "16M", 16 << 20},
		{Bytes, "1048576", 1 << 20},
		{Bytes, "100b", 100},
		{Count, "200000", 200_000},
		{Count, "200_000", 200_000},
	} {
		got, err := ParseValue(c.unit, c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseValue(%s, %q) = %d, %v; want %d", c.unit, c.in, got, err, c.want)
		}
	}
	for _, c := range []struct {
		unit Unit
		in   string
	}{
		{Bytes, ""}, {Bytes, "0"}, {Bytes, "-1MiB"}, {Bytes, "MiB"}, {Bytes, "1.5MiB"}, {Bytes, "2TiB"},
		{Bytes, "99999999GiB"}, {Count, "10k"}, {Count, "16MiB"}, {Count, "0"}, {Count, "x"},
	} {
		if got, err := ParseValue(c.unit, c.in); err == nil {
			t.Errorf("ParseValue(%s, %q) = %d, want an error", c.unit, c.in, got)
		}
	}
}

func TestFormatRoundTrips(t *testing.T) {
	for _, l := range All() {
		s := Format(l.Unit, l.Default)
		got, err := ParseValue(l.Unit, s)
		if err != nil || got != l.Default {
			t.Errorf("%s: Format(%d) = %q reads back as %d, %v", l.Name, l.Default, s, got, err)
		}
	}
	if got := Format(Bytes, 8<<20); got != "8MiB" {
		t.Errorf("Format(8MiB) = %q", got)
	}
	if got := Format(Bytes, 1000); got != "1000" {
		t.Errorf("Format(1000 bytes) = %q", got)
	}
}

func TestValuesSet(t *testing.T) {
	v := Values{}
	if got := v.Get(FileSize); got != 8<<20 {
		t.Fatalf("default file-size = %d", got)
	}
	if err := v.Set("file-size=16MiB"); err != nil {
		t.Fatal(err)
	}
	if err := v.Set(" shell-steps = 200_000 "); err != nil {
		t.Fatal(err)
	}
	if v.Get(FileSize) != 16<<20 || v.Int(ShellSteps) != 200_000 || v.Get(Includes) != 150 {
		t.Fatalf("values %v", v)
	}
	var ue *UnknownError
	if err := v.Set("file-sise=1MiB"); !errors.As(err, &ue) || ue.Name != "file-sise" {
		t.Errorf("unknown name: %v", err)
	}
	for _, bad := range []string{"file-size", "=1", "file-size=", "file-size=lots"} {
		if err := v.Set(bad); err == nil || errors.As(err, &ue) {
			t.Errorf("Set(%q) = %v, want a value error", bad, err)
		}
	}
	err := v.Set("parse-nesting=2000")
	if err == nil || !strings.Contains(err.Error(), "fixed") || !strings.Contains(err.Error(), "stack") {
		t.Errorf("fixed limit: %v", err)
	}
	if _, ok := v[ParseNesting]; ok {
		t.Error("a fixed limit was recorded")
	}
}

func TestList(t *testing.T) {
	seen := map[Name]bool{}
	all := All()
	for i, l := range all {
		if seen[l.Name] {
			t.Errorf("%s listed twice", l.Name)
		}
		seen[l.Name] = true
		if l.Default <= 0 || l.Bounds == "" || (l.Unit != Bytes && l.Unit != Count) {
			t.Errorf("%s: incomplete %+v", l.Name, l)
		}
		if i > 0 && all[i-1].Fixed != "" && l.Fixed == "" {
			t.Errorf("%s: a raisable limit after a fixed one", l.Name)
		}
	}
	names := Names()
	if !slices.IsSorted(names) || slices.Contains(names, string(ParseNesting)) || !slices.Contains(names, string(FileSize)) {
		t.Errorf("Names() = %v", names)
	}
}

func TestRaise(t *testing.T) {
	if got, want := Raise(FileSize, 8<<20), "raise with --limit file-size=16MiB"; got != want {
		t.Errorf("Raise = %q, want %q", got, want)
	}
	if got, want := Raise(Includes, 150), "raise with --limit includes=300"; got != want {
		t.Errorf("Raise = %q, want %q", got, want)
	}
	if got, want := Raise(FileSize, 8<<20+3), "raise with --limit file-size=17MiB"; got != want {
		t.Errorf("Raise = %q, want %q", got, want)
	}
	if got := FixedNote(ParseNesting); !strings.Contains(got, "fixed") {
		t.Errorf("FixedNote = %q", got)
	}
	if got := Or(0, LogLine); got != 64<<10 {
		t.Errorf("Or(0) = %d", got)
	}
	if got := Or(int64(5), LogLine); got != 5 {
		t.Errorf("Or(5) = %d", got)
	}
}
