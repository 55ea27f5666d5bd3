package discovery

import "github.com/tokenscope/tokenscope/internal/inventory"

// maxMemoBytes bounds what one project's scan keeps of the files it read.
const maxMemoBytes = 32 << 20

// memoFiles remembers the files one project's scan reads: hundreds of
// jobs source the same scripts/utils.sh or read the same Dockerfile, and
// each read through the snapshot costs several system calls. It is used
// by one goroutine (one project's scan) and dropped with it.
type memoFiles struct {
	inventory.Files
	m     map[[2]string]memoFile
	bytes int
}

type memoFile struct {
	data []byte
	err  error
}

func newMemoFiles(f inventory.Files) *memoFiles {
	return &memoFiles{Files: f, m: map[[2]string]memoFile{}}
}

// ReadFile implements inventory.Files. Callers do not modify the bytes.
func (f *memoFiles) ReadFile(project, name string) ([]byte, error) {
	k := [2]string{project, name}
	if r, ok := f.m[k]; ok {
		return r.data, r.err
	}
	data, err := f.Files.ReadFile(project, name)
	if f.bytes+len(data) <= maxMemoBytes {
		f.bytes += len(data)
		f.m[k] = memoFile{data, err}
	}
	return data, err
}
