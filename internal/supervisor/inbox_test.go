package supervisor

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestInboxDuringStopsOnTerm(t *testing.T) {
	ch := make(chan os.Signal, 4)
	in := NewInbox(ch, nil)
	ch <- syscall.SIGUSR1
	ch <- syscall.SIGTERM
	sig, err := in.During(func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Second):
			return errors.New("not cancelled")
		}
	})
	if sig != syscall.SIGTERM || !errors.Is(err, context.Canceled) {
		t.Fatalf("During = %v, %v; want SIGTERM, context.Canceled", sig, err)
	}
	// SIGUSR1 would kill COMMAND at its start: dropped, not held.
	if want := []syscall.Signal{syscall.SIGUSR1}; len(in.Held()) != 0 || !reflect.DeepEqual(in.Dropped(), want) {
		t.Errorf("Held = %v, Dropped = %v; want none held, %v dropped", in.Held(), in.Dropped(), want)
	}
	// A later step does not run at all once the start was stopped.
	ran := false
	if sig, _ := in.During(func(context.Context) error { ran = true; return nil }); sig != syscall.SIGTERM || ran {
		t.Errorf("During after a stop = %v, ran %v; want SIGTERM, not run", sig, ran)
	}
}

func TestInboxDuringHoldsOthers(t *testing.T) {
	ch := make(chan os.Signal, 4)
	in := NewInbox(ch, nil)
	release := make(chan struct{})
	go func() {
		ch <- syscall.SIGHUP
		ch <- syscall.SIGURG // the runtime's own: dropped
		ch <- syscall.SIGWINCH
		for len(ch) > 0 {
			time.Sleep(time.Millisecond)
		}
		close(release)
	}()
	sig, err := in.During(func(context.Context) error { <-release; return nil })
	// The last signal may still be in flight in During's select when f
	// returns; wait for the channel to be drained by During's loop only.
	if sig != 0 || err != nil {
		t.Fatalf("During = %v, %v; want 0, nil", sig, err)
	}
	if want := []syscall.Signal{syscall.SIGWINCH}; !reflect.DeepEqual(in.Held(), want) {
		t.Errorf("Held = %v, want %v", in.Held(), want)
	}
	if want := []syscall.Signal{syscall.SIGHUP}; !reflect.DeepEqual(in.Dropped(), want) {
		t.Errorf("Dropped = %v, want %v", in.Dropped(), want)
	}
}

// TestInboxHoldsOneOfEach: a flood of SIGWINCH during setup is held as
// one (all there is to say), and a flood of dropped signals is warned
// about once per kind.
func TestInboxHoldsOneOfEach(t *testing.T) {
	var logs bytes.Buffer
	in := NewInbox(nil, slog.New(slog.NewTextHandler(&logs, nil)))
	for range 1000 {
		in.Hold(syscall.SIGWINCH)
		in.Hold(syscall.SIGHUP)
		in.Hold(syscall.SIGCONT)
	}
	in.Hold(syscall.SIGUSR1)
	if want := []syscall.Signal{syscall.SIGWINCH, syscall.SIGCONT}; !reflect.DeepEqual(in.Held(), want) {
		t.Errorf("Held = %v; want %v", in.Held(), want)
	}
	if n := len(in.Dropped()); n > 64 {
		t.Errorf("Dropped holds %d; want at most one of each of the 64 signals", n)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 2 {
		t.Errorf("%d warnings; want 2 (one for SIGHUP, one for SIGUSR1):\n%s", n, logs.String())
	}
}

// TestNotifyAllLeavesSIGURG: the runtime's preemption signal is not put
// on the channel (a long CPU-bound setup step would fill it with them,
// and a later SIGTERM would be dropped); another signal is.
func TestNotifyAllLeavesSIGURG(t *testing.T) {
	ch := make(chan os.Signal, 8)
	if err := NotifyAll(ch); err != nil {
		t.Logf("NotifyAll: %v", err)
	}
	defer signal.Reset()
	defer signal.Stop(ch)
	_ = syscall.Kill(os.Getpid(), syscall.SIGURG)
	_ = syscall.Kill(os.Getpid(), syscall.SIGWINCH)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case s := <-ch:
			if s == syscall.SIGURG {
				t.Fatal("SIGURG reached the channel")
			}
			if s == syscall.SIGWINCH {
				// Signals to a process arrive in order of number here
				// (SIGURG 23 before SIGWINCH 28): none came first.
				return
			}
		case <-deadline:
			t.Fatal("SIGWINCH did not reach the channel within 5 s")
		}
	}
}
