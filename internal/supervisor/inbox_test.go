package supervisor

import (
	"context"
	"errors"
	"os"
	"reflect"
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
