package cli

import (
	"errors"
	"testing"
)

// --registry takes CI_REGISTRY's form, host[:port]; a URL is a usage
// error (exit 2) that says which form is expected.
func TestValidRegistry(t *testing.T) {
	for _, ok := range []string{"registry.example.com", "gitlab.example.com:5050", "registry.gitlab.com", "10.0.0.5:443"} {
		if err := validRegistry(ok); err != nil {
			t.Errorf("validRegistry(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"https://registry.example.com", "registry.example.com/path", ":5050", "h:0", "h:99999", "h:x", "a b"} {
		err := validRegistry(bad)
		var u *UsageError
		if err == nil || !errors.As(err, &u) {
			t.Errorf("validRegistry(%q) = %v, want a usage error", bad, err)
		}
	}
}
