package nearest

import "testing"

func TestDidYouMean(t *testing.T) {
	known := []string{"apps/web", "apps/api", "libs/web"}
	if got := DidYouMean("apps/wbe", known); got != "; did you mean apps/web?" {
		t.Errorf("DidYouMean(apps/wbe) = %q", got)
	}
	if got := DidYouMean("zzz/qqq", known); got != "" {
		t.Errorf("DidYouMean(zzz/qqq) = %q, want nothing", got)
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"web", "wbe", 2}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
