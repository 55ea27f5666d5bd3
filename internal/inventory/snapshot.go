package inventory

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/tokenscope/tokenscope/internal/diag"
	"github.com/tokenscope/tokenscope/internal/limits"
)

// MaxFileSize is the largest project file tokenscope reads by default
// (limits.FileSize; LoadOptions.MaxFileSize raises it). GitLab itself
// refuses CI configuration above 2 MB after parsing; anything four times
// that is hostile or generated, and reading it would only cost memory.
const MaxFileSize = 8 << 20

// MaxInventorySize is the largest inventory.yaml Load reads by default
// (limits.InventorySize; LoadOptions.MaxInventorySize raises it): a listing of
// about two million projects (a project takes ~140 bytes). It is larger
// than MaxFileSize because the listing grows with the org, not with one
// repository; Write refuses to write a bigger one, so that snapshot never
// writes what scan would refuse.
const MaxInventorySize = 256 << 20

// ErrTooLarge is returned (wrapped) for files above MaxFileSize.
var ErrTooLarge = errors.New("file too large")

// ErrNoProject is returned (wrapped) when a project is unknown or its files
// are not in the snapshot.
var ErrNoProject = errors.New("project files not in the snapshot")

// maxDepth bounds the folder walk: GitLab allows 20 levels of nested groups.
const maxDepth = 24

// Files gives read access to the repository files of the projects in a
// snapshot. Paths are slash-separated and relative to the project root.
// Implementations must be safe for concurrent use.
type Files interface {
	// ReadFile returns the content of name in project. It wraps
	// fs.ErrNotExist when the file is missing, ErrNoProject when the
	// project's files are not available and ErrTooLarge for huge files.
	ReadFile(project, name string) ([]byte, error)
	// Glob returns the files of project matching pattern, sorted. Besides
	// path.Match syntax, "**" matches any number of path segments (as in
	// GitLab's include:local).
	Glob(project, pattern string) ([]string, error)
	// HasFiles reports whether the project's repository files are present.
	HasFiles(project string) bool
}

// Snapshot is a loaded snapshot directory: the inventory and the project
// folders. Projects found only as folders are added to the inventory with
// what their path tells.
type Snapshot struct {
	Dir       string
	Inventory *Inventory
	Index     *Index
	root      *os.Root
	hasFiles  map[string]string // lower-case path -> folder path relative to Dir
	listings  sync.Map          // folder -> *listing
	maxFile   int64             // LoadOptions.MaxFileSize
}

// listing is the set of files in one project folder, read once. Detectors
// probe many files that do not exist (Dockerfile, .npmrc, pom.xml, ...);
// answering those from the listing saves a chain of openat calls each
// (os.Root opens path components one by one).
type listing struct {
	once     sync.Once
	files    map[string]bool
	symlinks []string // symbolic links: reads below them go to the disk
	special  []string // named pipes, devices, sockets: never read (readLimited)
	err      error
}

// maxListing bounds a project's listing; past it, reads go to the disk.
const maxListing = 200_000

// LoadOptions tune Load.
type LoadOptions struct {
	// ServerURL is used when the inventory does not set server_url.
	ServerURL string
	// Registry (host[:port]) is used when the inventory does not set
	// registry.
	Registry string
	// MaxFileSize and MaxInventorySize bound the repository files and the
	// inventory.yaml read (0: limits.FileSize, limits.InventorySize).
	MaxFileSize, MaxInventorySize int64
}

// Load reads the snapshot directory dir. It returns an error only when the
// snapshot as a whole cannot be read (dir missing, inventory.yaml invalid);
// problems with single projects are diagnostics.
func Load(dir string, opts LoadOptions) (*Snapshot, diag.List, error) {
	var diags diag.List
	st, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read snapshot %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, nil, fmt.Errorf("read snapshot %s: not a directory (give a snapshot directory: one folder per project, optional %s)", dir, FileName)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read snapshot %s: %w", dir, err)
	}
	inv := &Inventory{Version: Version}
	data, err := readLimitedTo(root, FileName, limits.Or(opts.MaxInventorySize, limits.InventorySize), limits.InventorySize)
	switch {
	case err == nil:
		var pd diag.List
		inv, pd, err = Parse(path.Join(dir, FileName), data)
		diags = append(diags, pd...)
		if err != nil {
			root.Close()
			return nil, nil, err
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		root.Close()
		return nil, nil, fmt.Errorf("read %s: %w", path.Join(dir, FileName), err)
	}
	if inv.ServerURL == "" {
		inv.ServerURL = opts.ServerURL
	}
	if inv.Registry == "" {
		inv.Registry = opts.Registry
	}
	s := &Snapshot{Dir: dir, Inventory: inv, root: root, hasFiles: map[string]string{}, maxFile: limits.Or(opts.MaxFileSize, limits.FileSize)}
	folders, walkDiags := findProjectFolders(root.FS())
	diags = append(diags, walkDiags...)
	known := map[string]bool{}
	for _, p := range inv.Projects {
		known[strings.ToLower(p.Path)] = true
	}
	for _, f := range folders {
		// A folder name is as hostile as a file: one GitLab could not
		// hold as a project path is reported and never becomes a project.
		if err := CheckProjectPath(f); err != nil {
			diags.Errorf("", QuoteName(f), 0, "project folder: %v; skipped", err)
			continue
		}
		s.hasFiles[strings.ToLower(f)] = f
		if !known[strings.ToLower(f)] {
			inv.Projects = append(inv.Projects, &Project{Path: f})
			known[strings.ToLower(f)] = true
		}
	}
	// A folder of a project the inventory lists holds its files even without
	// .gitlab-ci.yml (a custom CI configuration path, or only package
	// files): snapshot writes such folders.
	for _, p := range inv.Projects {
		if _, ok := s.hasFiles[strings.ToLower(p.Path)]; ok {
			continue
		}
		if _, err := cleanRel(p.Path); err != nil {
			continue
		}
		if st, err := root.Stat(p.Path); err == nil && st.IsDir() {
			s.hasFiles[strings.ToLower(p.Path)] = p.Path
		}
	}
	diags = append(diags, s.refuseNested()...)
	slices.SortFunc(inv.Projects, func(a, b *Project) int { return strings.Compare(a.Path, b.Path) })
	diags = append(diags, s.specialFiles()...)
	s.Index = NewIndex(inv)
	if len(inv.Projects) == 0 {
		diags.Warnf("", dir, 0, "no projects found: no folder holds a .gitlab-ci.yml or .git, and there is no %s", FileName)
	}
	return s, diags, nil
}

// refuseNested drops the project folders that lie inside another
// project's folder, with an error naming both: a GitLab path is a project
// or a namespace, never both (a project cannot contain a project), so an
// inventory that lists g/a and g/a/b as projects is wrong, and reading
// both would read g/a/b's files twice, once as g/a's.
func (s *Snapshot) refuseNested() diag.List {
	var diags diag.List
	dirs := make([]string, 0, len(s.hasFiles))
	for _, d := range s.hasFiles {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	for _, d := range dirs {
		for anc := path.Dir(d); anc != "." && anc != "/"; anc = path.Dir(anc) {
			if outer, ok := s.hasFiles[strings.ToLower(anc)]; ok {
				diags.Errorf("", QuoteName(d), 0, "project folder inside the folder of project %s: a GitLab project cannot contain a project, so one of the two is not a project (fix %s, or move the folder); its files are not read as %s's", QuoteName(outer), FileName, QuoteName(d))
				delete(s.hasFiles, strings.ToLower(d))
				break
			}
		}
	}
	return diags
}

// specialFiles lists every project folder (the listing every scan reads
// anyway, done here in parallel) and reports the named pipes, devices and
// sockets in them: they are never opened, and a detector that finds one
// where it looks for a Dockerfile or .npmrc would otherwise skip it
// without a word.
func (s *Snapshot) specialFiles() diag.List {
	dirs := make([]string, 0, len(s.hasFiles))
	for _, d := range s.hasFiles {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	lists := make([]*listing, len(dirs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(runtime.GOMAXPROCS(0), 1))
	for i, d := range dirs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			lists[i] = s.listing(d)
			<-sem
		}()
	}
	wg.Wait()
	var diags diag.List
	for i, l := range lists {
		for k, p := range l.special {
			if k == maxSpecialDiags {
				diags.Warnf("", dirs[i], 0, "%d more named pipes, devices or sockets: skipped, never opened", len(l.special)-k)
				break
			}
			name := path.Join(dirs[i], p)
			kind := "special file"
			if st, err := s.root.Lstat(name); err == nil {
				kind = fileKind(st.Mode())
			}
			diags.Warnf("", name, 0, "%s: skipped, never opened: only regular files inside the snapshot are read", kind)
		}
	}
	return diags
}

// maxSpecialDiags bounds the special files reported one by one per project.
const maxSpecialDiags = 20

// Close releases the snapshot directory.
func (s *Snapshot) Close() error { return s.root.Close() }

// findProjectFolders walks the snapshot for folders holding .gitlab-ci.yml
// or .git. It does not descend into a project folder (GitLab projects cannot
// contain projects), into hidden folders, or through symbolic links.
func findProjectFolders(fsys fs.FS) ([]string, diag.List) {
	var out []string
	var diags diag.List
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			diags.Warnf("", dir, 0, "cannot list folder: %v", err)
			return
		}
		if dir != "." {
			for _, e := range entries {
				if e.Name() == ".gitlab-ci.yml" || e.Name() == ".git" {
					out = append(out, dir)
					return
				}
			}
		}
		if depth >= maxDepth {
			diags.Warnf("", dir, 0, "folder nesting deeper than %d levels; not searched for projects", maxDepth)
			return
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") || strings.HasPrefix(e.Name(), "_") {
				continue
			}
			if e.Type()&fs.ModeSymlink != 0 {
				symlinkDiag(fsys, path.Join(dir, e.Name()), &diags)
				continue
			}
			if !e.IsDir() {
				continue
			}
			walk(path.Join(dir, e.Name()), depth+1)
		}
	}
	walk(".", 0)
	slices.Sort(out)
	return out, diags
}

// symlinkDiag reports a symbolic link met while looking for project
// folders. Links are never followed: a link to a folder inside the snapshot
// would scan a project twice under two paths, and one leading out of it
// would read files that are not the snapshot's. A link to a file inside the
// snapshot is no project and is not worth a word.
func symlinkDiag(fsys fs.FS, p string, diags *diag.List) {
	st, err := fs.Stat(fsys, p)
	switch {
	case err != nil:
		diags.Warnf("", p, 0, "symbolic link that leads outside the snapshot (or is absolute, or dangles): not followed; copy the project folder into the snapshot instead")
	case st.IsDir():
		diags.Warnf("", p, 0, "symbolic link to a folder: not followed, so no project is read from it; copy the project folder into the snapshot instead")
	}
}

// HasFiles implements Files.
func (s *Snapshot) HasFiles(project string) bool {
	_, ok := s.hasFiles[strings.ToLower(project)]
	return ok
}

// ReadFile implements Files.
func (s *Snapshot) ReadFile(project, name string) ([]byte, error) {
	dir, ok := s.hasFiles[strings.ToLower(project)]
	if !ok {
		return nil, fmt.Errorf("%s: %w", project, ErrNoProject)
	}
	clean, err := cleanRel(name)
	if err != nil {
		return nil, err
	}
	if l := s.listing(dir); l.err == nil && l.files != nil && !l.files[clean] && !l.belowSymlink(clean) {
		return nil, &fs.PathError{Op: "open", Path: clean, Err: fs.ErrNotExist}
	}
	return readLimitedTo(s.root, path.Join(dir, clean), limits.Or(s.maxFile, limits.FileSize), limits.FileSize)
}

func (s *Snapshot) listing(dir string) *listing {
	v, _ := s.listings.LoadOrStore(dir, &listing{})
	l := v.(*listing)
	l.once.Do(func() {
		sub, err := fs.Sub(s.root.FS(), dir)
		if err != nil {
			l.err = err
			return
		}
		files := map[string]bool{}
		l.err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return nil
			case d.IsDir():
				if d.Name() == ".git" {
					return fs.SkipDir
				}
			case d.Type()&fs.ModeSymlink != 0:
				l.symlinks = append(l.symlinks, p)
				files[p] = true
			case !d.Type().IsRegular():
				l.special = append(l.special, p)
				files[p] = true
			default:
				files[p] = true
			}
			if len(files) > maxListing {
				return errListingTooLarge
			}
			return nil
		})
		if l.err == nil {
			l.files = files
		}
	})
	return l
}

var errListingTooLarge = errors.New("listing too large")

// belowSymlink reports whether name is a symbolic link or lies below one.
func (l *listing) belowSymlink(name string) bool {
	for _, s := range l.symlinks {
		if name == s || strings.HasPrefix(name, s+"/") {
			return true
		}
	}
	return false
}

// Glob implements Files.
func (s *Snapshot) Glob(project, pattern string) ([]string, error) {
	dir, ok := s.hasFiles[strings.ToLower(project)]
	if !ok {
		return nil, fmt.Errorf("%s: %w", project, ErrNoProject)
	}
	pattern = strings.TrimPrefix(pattern, "/")
	sub, err := fs.Sub(s.root.FS(), dir)
	if err != nil {
		return nil, err
	}
	return GlobFS(sub, pattern)
}

// GlobFS matches pattern against the files of fsys; "**" matches any
// number of path segments, including none. Hidden folders other than
// .gitlab are skipped to keep the walk small.
func GlobFS(fsys fs.FS, pattern string) ([]string, error) {
	if !strings.Contains(pattern, "**") {
		m, err := fs.Glob(fsys, pattern)
		if err != nil {
			return nil, fmt.Errorf("glob %q: %w", pattern, err)
		}
		return m, nil
	}
	re, err := globRegexp(pattern)
	if err != nil {
		return nil, err
	}
	var out []string
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") && d.Name() != ".gitlab" {
				return fs.SkipDir
			}
			return nil
		}
		if re.MatchString(p) {
			out = append(out, p)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

// MatchDoubleStar matches name against a glob in which "*" and "?" stay
// inside one path segment and "**" also matches across "/". GitLab:
// "configs/**.yml" matches every level, "configs/**/*.yml" only subfolders.
func MatchDoubleStar(pattern, name string) bool {
	re, err := globRegexp(pattern)
	return err == nil && re.MatchString(name)
}

func globRegexp(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			if i+1 < len(pattern) && pattern[i+1] == '*' {
				b.WriteString(".*")
				i++
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			j := strings.IndexByte(pattern[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("glob %q: unclosed [", pattern)
			}
			class := pattern[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

func cleanRel(name string) (string, error) {
	name = strings.TrimPrefix(name, "./")
	name = strings.TrimLeft(name, "/")
	c := path.Clean(name)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%s: path leaves the project folder", name)
	}
	return c, nil
}

// readLimited reads the regular file name under root. Snapshot files are
// written by whoever can push to a repository (or make the folder), so the
// file may be a named pipe, a device or a socket: opening a FIFO for reading
// blocks until a writer appears, and reading /dev/zero never ends. The file
// is checked with Lstat first and opened with O_NONBLOCK (a FIFO then opens
// at once), and the opened file is checked again, in case the path was
// replaced between the two. os.Root refuses symbolic links that leave the
// snapshot; that refusal is reported as such.
func readLimited(root *os.Root, name string) ([]byte, error) {
	return readLimitedTo(root, name, MaxFileSize, limits.FileSize)
}

// readLimitedTo is readLimited with another size limit, the limit named
// which (for the message saying how to raise it).
func readLimitedTo(root *os.Root, name string, limit int64, which limits.Name) ([]byte, error) {
	if err := checkRegular(root, name); err != nil {
		return nil, err
	}
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory", name)
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(name, st.Mode())
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes: %w (limit %s %s; %s)", name, st.Size(), ErrTooLarge, which, limits.Format(limits.Bytes, limit), limits.Raise(which, max(limit, st.Size())))
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w (limit %s %s; %s)", name, ErrTooLarge, which, limits.Format(limits.Bytes, limit), limits.Raise(which, limit))
	}
	return data, nil
}

// ReadRegular reads the file name under root the way Load and ReadFile do:
// only a regular file inside root, at most MaxFileSize bytes, without
// blocking on a named pipe or reading a device (ErrNotRegular). It is for
// other readers of a snapshot directory, such as the simulator's job logs.
func ReadRegular(root *os.Root, name string) ([]byte, error) {
	return readLimited(root, name)
}

// ErrNotRegular is returned (wrapped) for a path that is not a regular file
// (a named pipe, device or socket) or a symbolic link that leads out of the
// snapshot: such files are skipped, never opened or followed.
var ErrNotRegular = errors.New("skipped: only regular files inside the snapshot are read")

// checkRegular refuses name before it is opened when it is a special file
// or a symbolic link that resolves outside root (or not at all).
func checkRegular(root *os.Root, name string) error {
	lst, err := root.Lstat(name)
	if err != nil {
		return err
	}
	if lst.Mode()&fs.ModeSymlink != 0 {
		st, err := root.Stat(name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return err
		case err != nil:
			// os.Root refuses links that escape it or are absolute
			// ("path escapes from parent"); say so plainly.
			return fmt.Errorf("%s: symbolic link that leads outside the snapshot (or is absolute): %w", name, ErrNotRegular)
		}
		lst = st
	}
	if lst.IsDir() || lst.Mode().IsRegular() {
		return nil
	}
	return notRegular(name, lst.Mode())
}

func notRegular(name string, m fs.FileMode) error {
	return fmt.Errorf("%s: %s: %w", name, fileKind(m), ErrNotRegular)
}

// fileKind names the kind of a file that is not regular.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeIrregular != 0:
		return "irregular file"
	}
	return "special file"
}
