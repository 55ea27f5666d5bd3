package capability

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a GitLab release, major.minor. Patch levels and editions do
// not change the job token model, so they are dropped.
type Version struct{ Major, Minor int }

// ParseVersion reads "18.5", "18.5.2", "v18.5.2-ee" or "18.5.0-pre".
func ParseVersion(s string) (Version, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexAny(t, "-+ "); i >= 0 {
		t = t[:i]
	}
	parts := strings.Split(t, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Version{}, fmt.Errorf("GitLab version %q: want MAJOR.MINOR, such as 18.5", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return Version{}, fmt.Errorf("GitLab version %q: want MAJOR.MINOR, such as 18.5", s)
		}
		n[i] = v
	}
	if n[0] < 1 || n[0] > 99 {
		return Version{}, fmt.Errorf("GitLab version %q: major version %d is not a GitLab release", s, n[0])
	}
	return Version{Major: n[0], Minor: n[1]}, nil
}

// MustVersion is ParseVersion for constants; it panics on a bad literal
// (a programmer error).
func MustVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// IsZero reports whether v is the unknown version.
func (v Version) IsZero() bool { return v == Version{} }

// Compare returns -1, 0 or +1.
func (v Version) Compare(o Version) int {
	switch {
	case v.Major != o.Major:
		return cmpInt(v.Major, o.Major)
	default:
		return cmpInt(v.Minor, o.Minor)
	}
}

// AtLeast reports whether v is o or newer.
func (v Version) AtLeast(o Version) bool { return v.Compare(o) >= 0 }

// Before reports whether v is older than o.
func (v Version) Before(o Version) bool { return v.Compare(o) < 0 }

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
