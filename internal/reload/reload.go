// Package reload notices that a template source changed, for
// NONROOT_RELOAD_SIGNAL: it watches every SRC of NONROOT_TEMPLATES with
// inotify and reports one change on C once events have stopped for the
// debounce time (SPEC.md: 1 s). What to do about a change (re-render,
// check, signal) is the supervisor's and setup's.
//
// A ConfigMap volume is updated by the kubelet with an atomic swap: it
// creates a directory ..<timestamp>, links ..data_tmp to it, renames
// ..data_tmp over ..data and removes the old directory. The files are
// never written where the top-level links point, so a directory SRC is
// watched itself (the rename shows as IN_MOVED_TO ..data), and a file
// SRC (usually the link <key> -> ..data/<key>) through its parent
// directory, for events that name it or a ..-prefixed kubelet entry.
// A ConfigMap mounted with subPath is never updated by the kubelet: no
// watch can see a change there.
package reload

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nonroot-init/nonroot-init/internal/fsx"
)

// Debounce is how long a change waits after the last event (SPEC.md,
// Supervision, Reload): the kubelet's swap is several events, and two
// swaps in quick succession give one reload.
const Debounce = time.Second

// maxWaits bounds the debounce of a source that never stops changing (a
// file rewritten every few hundred milliseconds): the change is acted on
// at most maxWaits debounce times after the first event of the burst,
// rather than never.
const maxWaits = 10

// mask is what a watched directory reports: entries created, removed,
// renamed in or out, written and closed, or their mode changed; the
// directory itself removed or moved.
const mask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_CLOSE_WRITE | unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

// Watch is one directory watched for a SRC.
type Watch struct {
	Src string // the SRC as configured
	Dir string // the directory watched: SRC, a directory below it, or a file SRC's parent
	// Name is a file SRC's base name: only events naming it, or an entry
	// starting with ".." (the kubelet's), count. Empty for a directory
	// SRC, where every event counts.
	Name string
}

// relevant reports whether an event on the entry name of w's directory
// ("" for the directory itself) is a change of w's SRC.
func (w Watch) relevant(name string) bool {
	return w.Name == "" || name == "" || name == w.Name || strings.HasPrefix(name, "..")
}

// Plan is what to watch for srcs, the SRCs of NONROOT_TEMPLATES: a
// directory SRC and every directory below it (symbolic links and
// ..-prefixed entries are not entered: the kubelet's swap shows at the
// top), a file SRC's parent. A SRC that cannot be read is returned in
// the errors, naming it.
func Plan(srcs []string) ([]Watch, []error) {
	var ws []Watch
	var errs []error
	for _, src := range srcs {
		st, err := os.Stat(src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !st.IsDir() {
			ws = append(ws, Watch{Src: src, Dir: filepath.Dir(src), Name: filepath.Base(src)})
			continue
		}
		ws = append(ws, Watch{Src: src, Dir: src})
		ws = append(ws, subdirs(src, src)...)
	}
	return ws, errs
}

// subdirs lists the real directories below dir (no link followed, no
// ..-prefixed entry), as watches for src.
func subdirs(src, dir string) []Watch {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var ws []Watch
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), "..") {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		ws = append(ws, Watch{Src: src, Dir: sub})
		ws = append(ws, subdirs(src, sub)...)
	}
	return ws
}

// Watcher reports changes of the template sources on C.
type Watcher struct {
	fd       int // inotify, nonblocking
	wake     int // eventfd: Close wakes the reading goroutine
	srcs     []string
	debounce time.Duration
	log      *slog.Logger
	c        chan struct{}
	done     chan struct{}

	mu      sync.Mutex
	watches map[int][]Watch // by watch descriptor; several SRCs may share a directory
	closed  bool
}

// New watches srcs. A SRC that cannot be watched is warned about,
// naming it and saying that COMMAND keeps running without reloads for
// it; the others are watched. An error is returned only when inotify
// itself is not available, and then nothing is watched.
func New(srcs []string, debounce time.Duration, log *slog.Logger) (*Watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("NONROOT_RELOAD_SIGNAL: cannot watch the template sources: %w", &os.SyscallError{Syscall: "inotify_init1", Err: err})
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("NONROOT_RELOAD_SIGNAL: cannot watch the template sources: %w", &os.SyscallError{Syscall: "eventfd", Err: err})
	}
	w := &Watcher{fd: fd, wake: wake, srcs: srcs, debounce: debounce, log: log,
		c: make(chan struct{}, 1), done: make(chan struct{}), watches: map[int][]Watch{}}
	w.sync(true)
	go w.loop()
	return w, nil
}

// C receives one value per change, after the debounce; a change not yet
// taken is not repeated.
func (w *Watcher) C() <-chan struct{} { return w.c }

// Watches are the directories watched now.
func (w *Watcher) Watches() []Watch {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Watch
	seen := map[Watch]bool{}
	for _, ws := range w.watches {
		for _, x := range ws {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	sortWatches(out)
	return out
}

// Close stops watching; C is never sent on again.
func (w *Watcher) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	one := [8]byte{1}
	_, _ = unix.Write(w.wake, one[:])
	<-w.done
	return errors.Join(closeFD(w.fd), closeFD(w.wake))
}

func closeFD(fd int) error {
	if err := unix.Close(fd); err != nil {
		return &os.SyscallError{Syscall: "close", Err: err}
	}
	return nil
}

// sync adds a watch for every directory Plan lists now (adding one that
// is there already is harmless: the kernel returns its descriptor), so
// that a directory created below a SRC after the start is watched too.
// warn: log the sources that cannot be watched (the first time only;
// later a SRC that went away is the change itself).
func (w *Watcher) sync(warn bool) {
	ws, errs := Plan(w.srcs)
	if warn {
		for _, x := range ws {
			if x.Name != "" && SubPathMounted(x.Src) {
				w.log.Warn("NONROOT_RELOAD_SIGNAL: this template source is a file mounted on its own (a ConfigMap key mounted with subPath), which the kubelet never updates; mount the whole ConfigMap as a directory to have it reloaded", "src", x.Src)
			}
		}
		for _, err := range errs {
			w.log.Warn("NONROOT_RELOAD_SIGNAL: cannot watch a template source; COMMAND keeps running, and changes of it will not be reloaded (the other sources still are)", "err", err)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, x := range ws {
		wd, err := unix.InotifyAddWatch(w.fd, x.Dir, mask)
		if err != nil {
			if warn {
				w.log.Warn("NONROOT_RELOAD_SIGNAL: cannot watch a template source; COMMAND keeps running, and changes of it will not be reloaded (the other sources still are)",
					"src", x.Src, "dir", x.Dir, "err", &os.SyscallError{Syscall: "inotify_add_watch", Err: err})
			}
			continue
		}
		if !containsWatch(w.watches[wd], x) {
			w.watches[wd] = append(w.watches[wd], x)
		}
	}
}

func containsWatch(ws []Watch, x Watch) bool {
	for _, y := range ws {
		if y == x {
			return true
		}
	}
	return false
}

// loop reads events until Close, and sends one change on C when the
// debounce time has passed after the last relevant one, or maxWaits
// debounce times after the first one of a burst that goes on.
func (w *Watcher) loop() {
	defer close(w.done)
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	var due, first time.Time // zero: no change pending; the burst's first event
	for {
		timeout := -1
		if !due.IsZero() {
			timeout = max(0, int(time.Until(due).Milliseconds())+1)
		}
		fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}, {Fd: int32(w.wake), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, timeout)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			w.log.Warn("NONROOT_RELOAD_SIGNAL: watching the template sources failed; COMMAND keeps running without reloads", "err", &os.SyscallError{Syscall: "poll", Err: err})
			return
		}
		if fds[1].Revents != 0 {
			return
		}
		if n > 0 && fds[0].Revents != 0 {
			if w.read(buf) {
				now := time.Now()
				if due.IsZero() {
					first = now
				}
				due = now.Add(w.debounce)
				if limit := first.Add(maxWaits * w.debounce); due.After(limit) {
					due = limit
				}
			}
			continue
		}
		if !due.IsZero() && !time.Now().Before(due) {
			due = time.Time{}
			w.sync(false)
			select {
			case w.c <- struct{}{}:
			default: // one is waiting already
			}
		}
	}
}

// read drains the inotify descriptor and reports whether an event was a
// change of a SRC.
func (w *Watcher) read(buf []byte) bool {
	changed := false
	for {
		n, err := unix.Read(w.fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n <= 0 {
			return changed
		}
		w.mu.Lock()
		for _, ev := range parseEvents(buf[:n]) {
			if ev.mask&unix.IN_Q_OVERFLOW != 0 {
				changed = true // events were lost: assume a change
				continue
			}
			if ev.mask&unix.IN_IGNORED != 0 {
				delete(w.watches, ev.wd) // the directory went away
			}
			for _, x := range w.watches[ev.wd] {
				if x.relevant(ev.name) {
					changed = true
				}
			}
			if ev.mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0 && len(w.watches[ev.wd]) > 0 {
				changed = true
			}
		}
		w.mu.Unlock()
	}
}

// event is one inotify event.
type event struct {
	wd   int
	mask uint32
	name string
}

// parseEvents splits what read(2) returned on an inotify descriptor into
// events; a truncated record at the end is dropped.
func parseEvents(b []byte) []event {
	var out []event
	for len(b) >= unix.SizeofInotifyEvent {
		raw := (*unix.InotifyEvent)(unsafe.Pointer(&b[0]))
		end := unix.SizeofInotifyEvent + int(raw.Len)
		if end > len(b) {
			break
		}
		name := string(b[unix.SizeofInotifyEvent:end])
		if i := strings.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		out = append(out, event{wd: int(raw.Wd), mask: raw.Mask, name: name})
		b = b[end:]
	}
	return out
}

func sortWatches(ws []Watch) {
	slices.SortFunc(ws, func(a, b Watch) int {
		return cmp.Or(strings.Compare(a.Src, b.Src), strings.Compare(a.Dir, b.Dir))
	})
}

// SubPathMounted reports whether src is a file mounted on its own (a
// Kubernetes subPath mount: the file is the root of a mount). The
// kubelet never updates such a mount when its ConfigMap changes, so no
// watch can see a change of it.
func SubPathMounted(src string) bool {
	return fsx.IsMountRoot(unix.AT_FDCWD, src)
}
