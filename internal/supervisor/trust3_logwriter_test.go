package supervisor

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A log writer whose stderr does not take its lines drops what does not
// fit in its queue, never blocks Write, and says how many it dropped once
// stderr takes lines again; Flush then gets everything out.
func TestTrust3LogWriterDrops(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	lw := NewLogWriter(w, func(n uint64) []byte { return []byte(fmt.Sprintf("dropped %d\n", n)) })
	const lines = 1000
	line := "line " + strings.Repeat("x", 1000) + "\n"
	for i := 0; i < lines; i++ { // far more than the pipe and the queue hold
		if n, err := lw.Write([]byte(line)); n != len(line) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	got := make(chan [2]int, 1)
	go func() {
		written, dropped := 0, 0
		s := bufio.NewScanner(r)
		s.Buffer(nil, 1<<20)
		for s.Scan() {
			if strings.HasPrefix(s.Text(), "line ") {
				written++
			} else if n, ok := strings.CutPrefix(s.Text(), "dropped "); ok {
				d, _ := strconv.Atoi(n)
				dropped += d
			}
		}
		got <- [2]int{written, dropped}
	}()
	if _, err := lw.Write([]byte("line last\n")); err != nil {
		t.Fatal(err)
	}
	if !lw.Close(30 * time.Second) {
		t.Fatal("Close: the lines are not out after 30s with a reader")
	}
	w.Close()
	res := <-got
	if res[1] == 0 || res[0]+res[1] != lines+1 {
		t.Errorf("%d lines written and %d reported dropped; want some dropped and %d in all", res[0], res[1], lines+1)
	}
	if n, err := lw.Write([]byte("after close\n")); n != len("after close\n") || err != nil {
		t.Errorf("Write after Close = %d, %v; want it dropped without error", n, err)
	}
}
