package setup

import (
	"bytes"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/identity"
	"github.com/nonroot-init/nonroot-init/internal/reload"
)

// TestReloadCheckLookedUpAtStart: a NONROOT_RELOAD_CHECK that is not in
// COMMAND's PATH is warned about at the start, not found out at the
// first reload; one that is found is not.
func TestReloadCheckLookedUpAtStart(t *testing.T) {
	src := t.TempDir()
	w, err := reload.New([]string{src}, time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Skipf("no inotify here: %v", err)
	}
	defer w.Close()
	for check, warned := range map[string]bool{"no-such-reload-check": true, "sh": false} {
		cfg := &config.Config{ReloadSignal: syscall.SIGHUP, ReloadCheck: []string{check, "-t"}, Templates: []config.Template{{Src: src, Dst: t.TempDir()}}}
		var buf bytes.Buffer
		ro := reloadOptions(cfg, w, NewEnv([]string{"PATH=/usr/bin:/bin"}), identity.User{}, nil, nil, slog.New(slog.NewTextHandler(&buf, nil)))
		if ro == nil {
			t.Fatal("reloadOptions = nil; want the reload options")
		}
		if got := strings.Contains(buf.String(), "NONROOT_RELOAD_CHECK cannot be run"); got != warned {
			t.Errorf("check %q: warned %v; want %v\nlog: %s", check, got, warned, buf.String())
		}
	}
}
