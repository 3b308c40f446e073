package reload

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The debounce of these tests: long enough that two swaps made one after
// the other fall inside it on a loaded machine, short enough to keep the
// tests quick. Timings are never asserted, only counts.
const testDebounce = 2 * time.Second

// waitLong bounds the wait for an expected change; it is no speed claim.
const waitLong = 30 * time.Second

// configMap lays dir out as the kubelet does for a ConfigMap volume:
// the data in a timestamped directory, the ..data link to it, and one
// top-level link per key into ..data. It returns the timestamped name.
func configMap(t *testing.T, dir, stamp string, files map[string]string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Join(dir, stamp), 0o755))
	for name, content := range files {
		must(t, os.WriteFile(filepath.Join(dir, stamp, name), []byte(content), 0o644))
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); os.IsNotExist(err) {
			must(t, os.Symlink(filepath.Join("..data", name), link))
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "..data")); os.IsNotExist(err) {
		must(t, os.Symlink(stamp, filepath.Join(dir, "..data")))
	}
}

// swap is the kubelet's atomic update: a new timestamped directory,
// ..data_tmp linked to it and renamed over ..data, the old one removed.
func swap(t *testing.T, dir, oldStamp, newStamp string, files map[string]string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Join(dir, newStamp), 0o755))
	for name, content := range files {
		must(t, os.WriteFile(filepath.Join(dir, newStamp, name), []byte(content), 0o644))
	}
	must(t, os.Symlink(newStamp, filepath.Join(dir, "..data_tmp")))
	must(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	must(t, os.RemoveAll(filepath.Join(dir, oldStamp)))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newWatcher(t *testing.T, srcs ...string) (*Watcher, *bytes.Buffer) {
	t.Helper()
	var logb bytes.Buffer
	w, err := New(srcs, testDebounce, slog.New(slog.NewTextHandler(&logb, nil)))
	if err != nil {
		t.Fatalf("New(%v) = %v", srcs, err)
	}
	t.Cleanup(func() { w.Close() })
	return w, &logb
}

// changes counts the changes reported until quiet has passed without one
// (after at least one, or waitLong without any).
func changes(w *Watcher, quiet time.Duration) int {
	n := 0
	limit := waitLong
	for {
		select {
		case <-w.C():
			n++
			limit = quiet
		case <-time.After(limit):
			return n
		}
	}
}

// TestKubeletSwapSeen: a ConfigMap directory SRC whose ..data link is
// swapped reports one change.
func TestKubeletSwapSeen(t *testing.T) {
	dir := t.TempDir()
	configMap(t, dir, "..2026_12_03_10_00_00.1", map[string]string{"app.conf.tmpl": "one"})
	w, _ := newWatcher(t, dir)
	swap(t, dir, "..2026_12_03_10_00_00.1", "..2026_12_03_10_01_00.2", map[string]string{"app.conf.tmpl": "two"})
	if n := changes(w, 2*testDebounce); n != 1 {
		t.Fatalf("after one ..data swap of %s: %d changes; want 1", dir, n)
	}
}

// TestDebounceTwoSwaps: two swaps in quick succession give one change.
func TestDebounceTwoSwaps(t *testing.T) {
	dir := t.TempDir()
	configMap(t, dir, "..a", map[string]string{"x": "one"})
	w, _ := newWatcher(t, dir)
	swap(t, dir, "..a", "..b", map[string]string{"x": "two"})
	// Apart enough that the first swap's events were read alone, well
	// inside the debounce.
	time.Sleep(testDebounce / 8)
	swap(t, dir, "..b", "..c", map[string]string{"x": "three"})
	if n := changes(w, 2*testDebounce); n != 1 {
		t.Fatalf("after two quick swaps: %d changes; want 1", n)
	}
}

// TestSingleFileSwap: a file SRC that is a ConfigMap key (a ..data/x
// link, never written itself) reports the swap, through its parent.
func TestSingleFileSwap(t *testing.T) {
	dir := t.TempDir()
	configMap(t, dir, "..a", map[string]string{"x.tmpl": "one", "y": "other"})
	w, _ := newWatcher(t, filepath.Join(dir, "x.tmpl"))
	swap(t, dir, "..a", "..b", map[string]string{"x.tmpl": "two", "y": "other"})
	if n := changes(w, 2*testDebounce); n != 1 {
		t.Fatalf("after a swap under file SRC %s: %d changes; want 1", filepath.Join(dir, "x.tmpl"), n)
	}
}

// TestPlainFileWrite: a plain file SRC written in place reports a change;
// a write to another file of its directory does not.
func TestPlainFileWrite(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "app.tmpl")
	must(t, os.WriteFile(src, []byte("one"), 0o644))
	w, _ := newWatcher(t, src)
	must(t, os.WriteFile(filepath.Join(dir, "unrelated"), []byte("x"), 0o644))
	select {
	case <-w.C():
		t.Fatalf("a write to %s/unrelated was reported as a change of %s", dir, src)
	case <-time.After(2 * testDebounce):
	}
	must(t, os.WriteFile(src, []byte("two"), 0o644))
	if n := changes(w, 2*testDebounce); n != 1 {
		t.Fatalf("after writing %s: %d changes; want 1", src, n)
	}
}

// TestNestedDirWrite: a write in a subdirectory of a plain directory SRC
// is seen.
func TestNestedDirWrite(t *testing.T) {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "conf.d"), 0o755))
	w, _ := newWatcher(t, dir)
	must(t, os.WriteFile(filepath.Join(dir, "conf.d", "a.conf"), []byte("x"), 0o644))
	if n := changes(w, 2*testDebounce); n != 1 {
		t.Fatalf("after a write in %s/conf.d: %d changes; want 1", dir, n)
	}
}

// TestMissingSourceWarns: a SRC whose watch cannot be set up is warned
// about, naming it, and the other sources are still watched.
func TestMissingSourceWarns(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "gone", "x.tmpl")
	good := filepath.Join(dir, "good")
	must(t, os.Mkdir(good, 0o755))
	w, logb := newWatcher(t, missing, good)
	if !strings.Contains(logb.String(), "level=WARN") || !strings.Contains(logb.String(), missing) {
		t.Errorf("no warning naming %s:\n%s", missing, logb)
	}
	if got := w.Watches(); len(got) != 1 || got[0].Src != good {
		t.Errorf("Watches() = %+v; want only %s", got, good)
	}
	must(t, os.WriteFile(filepath.Join(good, "f"), []byte("x"), 0o644))
	if n := changes(w, 2*testDebounce); n != 1 {
		t.Fatalf("after a write in %s: %d changes; want 1", good, n)
	}
}

// TestRelevant is the name filter of a watch.
func TestRelevant(t *testing.T) {
	file := Watch{Src: "/cm/x.tmpl", Dir: "/cm", Name: "x.tmpl"}
	dir := Watch{Src: "/cm", Dir: "/cm"}
	for _, c := range []struct {
		w    Watch
		name string
		want bool
	}{
		{file, "x.tmpl", true},
		{file, "..data", true},
		{file, "..data_tmp", true},
		{file, "..2026_12_03_10_00_00.123", true},
		{file, "y.tmpl", false},
		{file, "x.tmpl.swp", false},
		{file, "", true}, // the directory itself
		{dir, "anything", true},
		{dir, "", true},
	} {
		if got := c.w.relevant(c.name); got != c.want {
			t.Errorf("%+v.relevant(%q) = %v; want %v", c.w, c.name, got, c.want)
		}
	}
}

// TestDebounceBounded: a source that never stops changing (written every
// fifth of the debounce) is still reported, within maxWaits debounce times of
// its first change, not only once it stops.
func TestDebounceBounded(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.conf.tmpl")
	if err := os.WriteFile(file, []byte("0"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A short debounce of its own, so that maxWaits of them is 3 s.
	const debounce = 300 * time.Millisecond
	w, err := New([]string{dir}, debounce, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(debounce / 5):
				_ = os.WriteFile(file, []byte(fmt.Sprint(i)), 0o644)
			}
		}
	}()
	select {
	case <-w.C():
	case <-time.After(2 * maxWaits * debounce):
		t.Fatalf("no change reported within %v while %s kept changing; want one within %v of the first", 2*maxWaits*debounce, file, maxWaits*debounce)
	}
}
