//go:build !unix

package atomicfile

import "testing"

func mkfifo(t *testing.T, _ string) { t.Skip("no FIFOs on this system") }

func mknodNull(t *testing.T, _ string) { t.Skip("no device nodes on this system") }
