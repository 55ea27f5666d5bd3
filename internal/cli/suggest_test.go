package cli

import (
	"slices"
	"testing"
)

func TestSuggest(t *testing.T) {
	known := []string{"apps/web", "apps/api", "apps/api-protocol", "libs/web", "platform/build-scripts"}
	for _, c := range []struct {
		name string
		want []string
	}{
		{"web", []string{"apps/web", "libs/web"}}, // a short path for a full one
		{"apps/wbe", []string{"apps/web"}},        // a typo
		{"platform/build-script", []string{"platform/build-scripts"}},
		{"zzz/qqq", nil},                   // nothing near
		{"APPS/API", []string{"apps/api"}}, // case
	} {
		if got := suggest(c.name, known); !slices.Equal(got, c.want) {
			t.Errorf("suggest(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}
