//go:build unix

package atomicfile

import (
	"syscall"
	"testing"
)

// mkfifo makes a named pipe at path. Writing to it the plain way would
// block until a reader came; replacing it would break whoever reads it.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

// mknodNull makes a character device at path, in the test's folder: only
// root (CAP_MKNOD) may, so others skip. The real /dev/null is never used,
// so a broken check cannot replace it; the device number (Linux's 1, 3)
// does not matter as the node is never opened.
func mknodNull(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mknod(path, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Skipf("mknod: %v", err)
	}
}
