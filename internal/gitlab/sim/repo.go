package sim

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"
)

// treeEntry is one row of a repository tree listing.
type treeEntry struct {
	name, path, kind, mode, id string // kind: "tree" or "blob"
}

// blobInfo is what GitLab reports about a file without its content.
type blobInfo struct {
	oid    string // git blob SHA-1
	sha256 string
	size   int
	binary bool
}

type blobKey struct {
	project int
	path    string
}

// refOK reports whether ref names the project's only commit: its default
// branch, HEAD, or the commit SHA the simulator reports.
func (p *project) refOK(ref string) bool {
	if p.files == nil {
		return false
	}
	return ref == "" || ref == "HEAD" || ref == p.defaultBranch || ref == "refs/heads/"+p.defaultBranch || ref == p.commitID()
}

// commitID is a stable fake commit SHA for the project's only commit.
func (p *project) commitID() string {
	h := sha1.Sum([]byte("commit\x00" + p.path))
	return hex.EncodeToString(h[:])
}

func (p *project) hasFile(name string) bool {
	_, ok := slices.BinarySearch(p.files, name)
	return ok
}

// tree lists the entries under dir (the root for ""), recursively or not:
// trees first, then blobs, each in path order.
func (p *project) tree(dir string, recursive bool) []treeEntry {
	dir = strings.Trim(dir, "/")
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	trees := map[string]bool{}
	var blobs []treeEntry
	for _, f := range p.files {
		if !strings.HasPrefix(f, prefix) {
			continue
		}
		rest := f[len(prefix):]
		segs := strings.Split(rest, "/")
		if recursive {
			for i := 1; i < len(segs); i++ {
				trees[prefix+strings.Join(segs[:i], "/")] = true
			}
			blobs = append(blobs, blobEntry(f))
			continue
		}
		if len(segs) > 1 {
			trees[prefix+segs[0]] = true
			continue
		}
		blobs = append(blobs, blobEntry(f))
	}
	out := make([]treeEntry, 0, len(trees)+len(blobs))
	for t := range trees {
		h := sha1.Sum([]byte("tree\x00" + p.path + "\x00" + t))
		out = append(out, treeEntry{name: path.Base(t), path: t, kind: "tree", mode: "040000", id: hex.EncodeToString(h[:])})
	}
	slices.SortFunc(out, func(a, b treeEntry) int { return strings.Compare(a.path, b.path) })
	return append(out, blobs...)
}

// blobEntry leaves id empty: it is the blob's SHA-1, which costs a read
// (state.withID).
func blobEntry(f string) treeEntry {
	return treeEntry{name: path.Base(f), path: f, kind: "blob", mode: "100644"}
}

// withID returns e with its blob SHA-1; a file that cannot be read gets
// a SHA-1 of its path so that the listing still works.
func (s *state) withID(p *project, e treeEntry) treeEntry {
	if e.kind != "blob" || e.id != "" {
		return e
	}
	if bi, err := s.blobInfo(p, e.path); err == nil {
		e.id = bi.oid
		return e
	}
	h := sha1.Sum([]byte("path\x00" + e.path))
	e.id = hex.EncodeToString(h[:])
	return e
}

// isDir reports whether dir is a folder of the repository.
func (p *project) isDir(dir string) bool {
	dir = strings.Trim(dir, "/")
	if dir == "" {
		return true
	}
	for _, f := range p.files {
		if strings.HasPrefix(f, dir+"/") {
			return true
		}
	}
	return false
}

// blobInfo returns a file's blob info, reading it only the first time.
func (s *state) blobInfo(p *project, name string) (blobInfo, error) {
	if bi, ok := s.blobs.Load(blobKey{p.id, name}); ok {
		return bi.(blobInfo), nil
	}
	_, bi, err := s.readBlob(p, name)
	return bi, err
}

// readBlob returns a file's content and blob info. The caller has checked
// that the file exists.
func (s *state) readBlob(p *project, name string) ([]byte, blobInfo, error) {
	data, err := s.files.ReadFile(p.path, name)
	if err != nil {
		return nil, blobInfo{}, fmt.Errorf("read %s in %s: %w", name, p.path, err)
	}
	k := blobKey{p.id, name}
	if bi, ok := s.blobs.Load(k); ok {
		return data, bi.(blobInfo), nil
	}
	bi := blobInfoOf(data)
	s.blobs.Store(k, bi)
	return data, bi, nil
}

func blobInfoOf(data []byte) blobInfo {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	sum := sha256.Sum256(data)
	head := data[:min(len(data), 8000)]
	return blobInfo{
		oid:    hex.EncodeToString(h.Sum(nil)),
		sha256: hex.EncodeToString(sum[:]),
		size:   len(data),
		// Git's (and GitLab's) binary test: a NUL in the first 8000 bytes.
		binary: bytes.IndexByte(head, 0) >= 0,
	}
}
