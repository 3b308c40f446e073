// Package render turns the SRC:DST pairs of NONROOT_TEMPLATES into files:
// sources ending in .tmpl are rendered with text/template, other files are
// copied byte for byte, so that a read-only ConfigMap becomes a writable
// copy. Render does everything in memory and writes nothing; Write then
// writes each file atomically. A caller that gets an error from Render
// writes nothing at all.
package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/errlist"
	"github.com/nonroot-init/nonroot-init/internal/fsx"
	"github.com/nonroot-init/nonroot-init/internal/host"
)

// User is the .User of a template.
type User struct {
	Name string
	UID  int
	GID  int
	Home string
}

// Data is what a template sees: .Env (COMMAND's environment), .User and
// .Ports (each name of NONROOT_PORTS to its resolved port).
type Data struct {
	Env   map[string]string
	User  User
	Ports map[string]int
	// Secrets are the values NONROOT_FILE_ENV set: a rendered file
	// whose output holds one is written owner-only (File.Secret).
	// Templates do not see this field's name in any function.
	Secrets []string
}

// File is one file to write.
type File struct {
	// Dir is the directory the file goes in as configured: DST, or DST's
	// parent when DST names the file. A symbolic link in it is followed
	// only when root or our effective UID owns it: another owner could
	// point it anywhere, at /etc for one.
	Dir string
	// Rel is the path below Dir. Every component of it is created and
	// opened without following symbolic links, so a link planted in DST
	// cannot redirect a write.
	Rel string
	// Source is the file it came from, as the user named it (through a
	// ConfigMap's top-level links, not ..data).
	Source   string
	Mode     fs.FileMode
	Content  []byte
	Rendered bool // a .tmpl rendered, rather than a copy
	// Secret is a rendered file holding secret material: its template
	// called file, or its output holds a value of Data.Secrets. Its Mode
	// is then owner-only (secretMode).
	Secret bool
}

// Path is the file's destination.
func (f File) Path() string { return filepath.Join(f.Dir, f.Rel) }

// Render renders and copies every pair in memory and checks that each
// destination can be written: its directories are directories, reached
// only through symbolic links owned by root or by us (none below DST),
// and writable. It returns every problem at once, each
// naming the file (and for a template, the line), and writes nothing.
//
// Its bounds: a source (copied or template) of at most MaxFileSize, an
// output of at most MaxOutput per template, at most MaxTotal read and
// rendered together, and one Budget for the whole step.
func Render(pairs []config.Template, data Data) ([]File, error) {
	return render(pairs, data, defaultLimits())
}

func render(pairs []config.Template, data Data, l limits) ([]File, error) {
	ctx, cancel := context.WithTimeout(context.Background(), l.budget)
	defer cancel()
	s := &session{ctx: ctx, limits: l}
	var errs []error
	var read []File
	for _, p := range pairs {
		got, problems := s.renderPair(p)
		read = append(read, got...)
		errs = append(errs, problems...)
	}
	files, problems := s.renderAll(read, data)
	errs = append(errs, problems...)
	slices.SortStableFunc(files, func(a, b File) int { return strings.Compare(a.Path(), b.Path()) })
	for i := range files {
		if i > 0 && files[i].Path() == files[i-1].Path() {
			errs = append(errs, fmt.Errorf("%s and %s would both be written to %s; give them different DSTs", files[i-1].Source, files[i].Source, files[i].Path()))
		}
	}
	for _, f := range files {
		if err := checkDest(f); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, &Error{Problems: errs}
	}
	return files, nil
}

// Error is every problem Render found; nothing was written.
type Error struct {
	Problems []error
}

func (e *Error) Error() string {
	return "NONROOT_TEMPLATES: nothing was written: " + errlist.Format(e.Problems)
}

func (e *Error) Unwrap() []error { return e.Problems }

// renderPair reads the sources of one SRC:DST. A directory SRC goes below DST. A
// file SRC goes to DST itself, or into DST when DST is an existing
// directory, as cp does. SRC is walked from "/" following only links
// owned by root or by us; inside a SRC directory, links are followed
// when they stay inside it. Each file is read through the descriptor
// of the directory the walk checked, opened without following links,
// and read only if it is the inode the walk saw.
func (s *session) renderPair(p config.Template) ([]File, []error) {
	if p.Dst == p.Src || strings.HasPrefix(p.Dst, strings.TrimSuffix(p.Src, "/")+"/") {
		return nil, []error{fmt.Errorf("%s:%s: DST is inside SRC, so every start would copy the previous output again; choose a DST outside SRC", p.Src, p.Dst)}
	}
	w, err := newWalker()
	if err != nil {
		return nil, []error{fmt.Errorf("%s: %w", p.Src, err)}
	}
	defer w.close()
	abs, err := filepath.Abs(p.Src)
	if err != nil {
		return nil, []error{fmt.Errorf("%s: %w", p.Src, err)}
	}
	l, err := w.walk(abs, walkOpts{leaf: true})
	if err != nil {
		return nil, []error{srcError(p.Src, err)}
	}
	if l == nil {
		var files []File
		errs := collect(w, p.Src, func(src source) error {
			f, err := s.readOne(src, p.Dst, outName(src.rel))
			if err == nil {
				files = append(files, f)
			}
			return err
		})
		return files, errs
	}
	if l.st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, []error{fmt.Errorf("%s is a %s, not a file or directory", p.Src, kind(modeOf(l.st.Mode)))}
	}
	src := source{path: p.Src, mode: modeOf(l.st.Mode), dirfd: w.fd(), leaf: l}
	dir, rel := filepath.Dir(p.Dst), filepath.Base(p.Dst)
	if st, err := os.Stat(p.Dst); err == nil && st.IsDir() {
		dir, rel = p.Dst, outName(filepath.Base(p.Src))
	}
	f, err := s.readOne(src, dir, rel)
	if err != nil {
		return nil, []error{err}
	}
	return []File{f}, nil
}

// srcError explains a failed walk to a source shown as path: the
// errno's explanation, or the walk's own message.
func srcError(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return sourceError(path, err)
	}
	return err
}

// readOne reads src into the File for dir/rel: the content of a copy,
// or the text of a template (a .tmpl), which renderAll executes.
func (s *session) readOne(src source, dir, rel string) (File, error) {
	if filepath.Base(src.path) == ".tmpl" {
		return File{}, fmt.Errorf("%s: a template needs a name before .tmpl", src.path)
	}
	if !filepath.IsLocal(rel) {
		return File{}, fmt.Errorf("%s: %q would leave DST %s", src.path, rel, dir)
	}
	if s.ctx.Err() != nil {
		return File{}, fmt.Errorf("%s: not read: the render budget of %v for all of NONROOT_TEMPLATES ran out first", src.path, s.limits.budget)
	}
	file, st, err := openLeaf(src.dirfd, src.leaf, src.path)
	if err != nil {
		return File{}, srcError(src.path, err)
	}
	defer file.Close()
	// Where fs.protected_hardlinks is 0, whoever writes SRC can give
	// /etc/shadow a second name there; root does not copy such a file.
	// Root is the effective UID read now, right before the read that
	// root's power would let through, not a value handed in.
	if st.Nlink > 1 && os.Geteuid() == 0 {
		return File{}, fmt.Errorf("%s has %d hard links; running as root, nonroot-init does not read a source with more than one, since another user may have linked a file only root can read into SRC: copy the file instead of linking it, or set NONROOT_RUN_AS", src.path, st.Nlink)
	}
	content, err := s.readSource(src.path, file)
	if err != nil {
		return File{}, err
	}
	return File{Dir: dir, Rel: rel, Source: src.path, Mode: outputMode(src.mode), Content: content, Rendered: strings.HasSuffix(src.path, ".tmpl")}, nil
}

// renderAll executes the templates among files, all under one budget,
// and returns the files with their output, without those that failed.
func (s *session) renderAll(files []File, data Data) ([]File, []error) {
	var jobs []*job
	for _, f := range files {
		if f.Rendered {
			jobs = append(jobs, &job{name: f.Source, text: f.Content})
		}
	}
	s.executeAll(jobs, data)
	var out []File
	var errs []error
	for _, f := range files {
		if f.Rendered {
			j := jobs[0]
			jobs = jobs[1:]
			content, err := s.result(j)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			f.Content = content
			if j.seesSecrets() || holdsAny(content, data.Secrets) {
				f.Secret, f.Mode = true, secretMode(f.Mode)
			}
		}
		out = append(out, f)
	}
	return out, errs
}

// outName is the name a source is written under: without .tmpl.
func outName(name string) string { return strings.TrimSuffix(name, ".tmpl") }

// outputMode keeps the source's permission bits, adds owner read-write
// (COMMAND must be able to rewrite its copy) and removes world-write.
func outputMode(src fs.FileMode) fs.FileMode {
	return (src.Perm() | 0o600) &^ 0o002
}

// secretMode is the mode of a rendered file that holds secret material:
// the source's, without any group or other bit, so that only the owner
// (the UID COMMAND and the hooks run as) can read it. A ConfigMap's 0644
// would let any UID read a password.
func secretMode(m fs.FileMode) fs.FileMode { return m &^ 0o077 }

// holdsAny reports whether b contains any of the non-empty values.
func holdsAny(b []byte, values []string) bool {
	for _, v := range values {
		if v != "" && bytes.Contains(b, []byte(v)) {
			return true
		}
	}
	return false
}

// source is one file found under SRC, valid while the walk that found
// it holds dirfd.
type source struct {
	path  string // SRC joined with rel: shown in messages
	rel   string // below SRC
	mode  fs.FileMode
	dirfd int   // the directory the walk checked
	leaf  *leaf // the file in it, as the walk saw it
}

// collect walks the directory w is in, shown as root, and calls visit
// with each file, in lexical order, while it holds the file's
// directory. Entries whose names start with ".." are skipped: they are
// the ..data link and the ..<timestamp> directory of a Kubernetes
// ConfigMap or Secret volume, whose files the top-level links already
// name. Symbolic links are followed as long as they stay inside root
// (the top-level names of a ConfigMap are links into ..data), whoever
// owns them: a link leading out of SRC would copy whatever it points
// at, say a service account token, into DST. A directory reached twice
// on one path is a loop.
func collect(w *walker, root string, visit func(source) error) []error {
	var errs []error
	var st unix.Stat_t
	if err := fsx.Fstat(w.fd(), &st); err != nil {
		return []error{fmt.Errorf("%s: %w", root, err)}
	}
	w.confine(insideLinks, root, root)
	var walk func(w *walker, rel string, seen []devIno)
	walk = func(w *walker, rel string, seen []devIno) {
		names, err := readDirNames(w.fd())
		if err != nil {
			errs = append(errs, sourceError(w.path(), err))
			return
		}
		for _, name := range names {
			if strings.HasPrefix(name, "..") {
				continue
			}
			path := filepath.Join(w.path(), name)
			r := filepath.Join(rel, name)
			at, err := w.clone()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", path, err))
				continue
			}
			l, err := at.walk(name, walkOpts{leaf: true})
			switch {
			case err != nil:
				errs = append(errs, srcError(path, err))
			case l == nil:
				var st unix.Stat_t
				if err := fsx.Fstat(at.fd(), &st); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", path, err))
					break
				}
				id := devIno{uint64(st.Dev), st.Ino}
				if slices.Contains(seen, id) {
					errs = append(errs, fmt.Errorf("%s: a symbolic link loop leads back to a directory above it", path))
					break
				}
				at.names[len(at.names)-1] = path
				walk(at, r, append(seen[:len(seen):len(seen)], id))
			case l.st.Mode&unix.S_IFMT == unix.S_IFREG:
				if err := visit(source{path: path, rel: r, mode: modeOf(l.st.Mode), dirfd: at.fd(), leaf: l}); err != nil {
					errs = append(errs, err)
				}
			default:
				errs = append(errs, fmt.Errorf("%s is a %s, not a file or directory", path, kind(modeOf(l.st.Mode))))
			}
			at.close()
		}
	}
	walk(w, "", []devIno{{uint64(st.Dev), st.Ino}})
	return errs
}

// readDirNames lists the directory fd (an O_PATH descriptor) in
// lexical order.
func readDirNames(fd int) ([]string, error) {
	d, err := fsx.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(d), ".")
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}

type devIno struct{ dev, ino uint64 }

// readSource reads a regular file of at most the size limit, counted
// against the total. Its size is checked on the open descriptor before
// anything is read, so a large (or sparse) file costs nothing; the read
// itself stops one byte past the limit, which catches a file that grows
// meanwhile, or whose size fstat does not tell (a /proc file says 0).
// f is the file, opened by openLeaf.
func (s *session) readSource(path string, f *os.File) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is a %s, not a file", path, kind(info.Mode()))
	}
	limit := s.limits.fileSize
	const fix = "copy it at build time, or mount it where COMMAND reads it"
	if info.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, above the limit of %s for a file in NONROOT_TEMPLATES; %s", path, info.Size(), size(limit), fix)
	}
	if err := s.hold(info.Size()); err != nil {
		return nil, fmt.Errorf("%s (%d bytes): %w", path, info.Size(), err)
	}
	b := bytes.NewBuffer(make([]byte, 0, info.Size()+1))
	if _, err := b.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(b.Len()) > limit {
		return nil, fmt.Errorf("%s grew above the limit of %s while it was read; %s", path, size(limit), fix)
	}
	if extra := int64(b.Len()) - info.Size(); extra > 0 {
		if err := s.hold(extra); err != nil {
			return nil, fmt.Errorf("%s (%d bytes): %w", path, b.Len(), err)
		}
	}
	return b.Bytes(), nil
}

// sourceError explains why a source cannot be used. An unreadable source
// is most often a Secret mounted with mode 0400 for root and no fsGroup.
func sourceError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist (a broken symbolic link, or a volume that is not mounted)", path)
	case errors.Is(err, fs.ErrPermission):
		// Who the kernel has just refused, read once for the message.
		who := host.ReadCreds()
		return fmt.Errorf("%s is not readable by uid %d (gid %d, groups %v)%s; set fsGroup in the pod's securityContext, or defaultMode 0440 (or 0444) on the Secret or ConfigMap volume",
			path, who.EUID, who.EGID, who.Groups, ownerMode(path))
	}
	return fmt.Errorf("%s: %w", path, err)
}

// ownerMode describes the owner and mode of a path (of its target, for a
// ConfigMap's top-level link), or nothing when even that cannot be read.
func ownerMode(path string) string {
	info, err := os.Stat(path)
	if err != nil {
		if info, err = os.Lstat(path); err != nil {
			return ""
		}
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf(": owner %d:%d mode %04o", st.Uid, st.Gid, info.Mode().Perm())
}

// kind names what a mode that is not a symbolic link's is.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	case m.IsDir():
		return "directory"
	}
	return "special file"
}

// Execute parses and runs one template with missingkey=error and the
// functions of Funcs, under the limits of Render. name is the file it
// came from: errors read "name:line: message" (or name:line:column for
// execution errors).
func Execute(name string, text []byte, data Data) ([]byte, error) {
	return execute(name, text, data, defaultLimits())
}

func execute(name string, text []byte, data Data, l limits) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), l.budget)
	defer cancel()
	s := &session{ctx: ctx, limits: l}
	j := &job{name: name, text: text}
	s.executeAll([]*job{j}, data)
	return s.result(j)
}

// templateError makes text/template's messages read "file:line: ...":
// it drops the "template: " prefix and the repeated `executing "file"`.
func templateError(name string, err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "template: ")
	msg = strings.Replace(msg, fmt.Sprintf("executing %q at ", name), "at ", 1)
	if !strings.HasPrefix(msg, name) {
		msg = name + ": " + msg
	}
	return errors.New(msg)
}
