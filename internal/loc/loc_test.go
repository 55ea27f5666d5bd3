package loc

import (
	"fmt"
	"testing"
)

func TestPlace(t *testing.T) {
	for _, tc := range []struct {
		p    Pos
		want string
	}{
		{Pos{}, ""},
		{Pos{File: "trust.yaml"}, "trust.yaml"},
		{Pos{File: "trust.yaml", Line: 3}, "trust.yaml:3"},
		{Pos{Project: "g/p", File: ".gitlab-ci.yml"}, "g/p/.gitlab-ci.yml"},
		{Pos{Project: "g/p", File: ".gitlab-ci.yml", Line: 12}, "g/p/.gitlab-ci.yml:12"},
	} {
		if got := tc.p.Place(); got != tc.want {
			t.Errorf("%#v.Place() = %q, want %q", tc.p, got, tc.want)
		}
	}
}

// A value that embeds Pos must still print all its fields.
func TestNotStringer(t *testing.T) {
	type note struct {
		Pos
		Detail string
	}
	if got := fmt.Sprintf("%v", note{Pos{File: "f", Line: 1}, "d"}); got != "{{ f 1} d}" {
		t.Errorf("fmt printed %q", got)
	}
}

func TestCompare(t *testing.T) {
	ps := []Pos{{Project: "a", File: "b", Line: 2}, {Project: "a", File: "b", Line: 10}, {Project: "a", File: "c"}, {Project: "b"}}
	for i := range ps {
		for j := range ps {
			got, want := Compare(ps[i], ps[j]), 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("Compare(%v, %v) = %d, want %d", ps[i], ps[j], got, want)
			}
		}
	}
}
