package supervisor

import (
	"bufio"
	"os"
	"runtime"
	"testing"
	"time"
)

// A log writer that is never written to starts no goroutine (and so no
// thread of its own): a quiet init pays nothing for it. The first line
// starts it, and that line comes out.
func TestLogWriterStartsOnFirstLine(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	before := runtime.NumGoroutine()
	lw := NewLogWriter(w, nil)
	// More would be the writer's; fewer is another test's goroutine
	// ending meanwhile.
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after NewLogWriter, %d before; want no new one", n, before)
	}
	if !lw.Flush(time.Second) {
		t.Fatal("Flush of an unused writer reported lines not out")
	}
	if _, err := lw.Write([]byte("first line\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil || line != "first line\n" {
		t.Fatalf("read %q, %v; want the first line", line, err)
	}
	if !lw.Close(5 * time.Second) {
		t.Fatal("Close did not flush")
	}
}

func TestLogWriterUnusedCloses(t *testing.T) {
	_, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	lw := NewLogWriter(w, nil)
	if !lw.Close(time.Second) {
		t.Fatal("Close of an unused writer reported lines not out")
	}
	if _, err := lw.Write([]byte("after close\n")); err != nil {
		t.Fatal(err)
	}
	if lw.dropped.Load() != 1 {
		t.Fatalf("dropped %d after a line past Close; want 1", lw.dropped.Load())
	}
}
