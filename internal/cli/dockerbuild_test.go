package cli

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// No Docker engine runs here, so the image is never built in CI; what its
// build stage does is: the Dockerfile's own go build command, run as the
// build stage runs it, must give a static binary (no ELF interpreter: the
// final stage has musl, not glibc) that starts and says its version.
func TestDockerfileBuildsStaticBinary(t *testing.T) {
	if testing.Short() || raceDetector {
		t.Skip("-short or -race: builds the binary (once, in the plain go test)")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// The RUN line with go build, its continuation lines joined.
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	var build string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "RUN ") && strings.Contains(l, "go build") {
			build = strings.TrimPrefix(l, "RUN ")
		}
	}
	if build == "" {
		t.Fatal("no RUN ... go build line in the Dockerfile")
	}
	out := t.TempDir()
	build = strings.ReplaceAll(build, "/out/tokenscope", filepath.Join(out, "tokenscope"))
	cmd := exec.Command("sh", "-c", build)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "VERSION=v0.0.0-test")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, b)
	}
	bin := filepath.Join(out, "tokenscope")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary is dynamically linked (has an ELF interpreter); the final stage would not run it")
		}
	}
	v, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(v), "v0.0.0-test") {
		t.Errorf("%s --version: %v %s", bin, err, v)
	}
}
