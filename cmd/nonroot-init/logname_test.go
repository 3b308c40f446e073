package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// TestLogNamesTheInit: every line of the init's log says it comes from
// nonroot-init, so that it can be told from COMMAND's in a pod's log: text
// lines start with "nonroot-init: ", JSON lines carry
// "logger":"nonroot-init". The dropped-lines notice, made by its own
// logger, says it too.
func TestLogNamesTheInit(t *testing.T) {
	write := func(l *slog.Logger) {
		l.Info("first", "a", 1)
		l.Warn("second\nwith a newline in it", "b", "x y")
		l.Debug("third")
		l.With("step", "ports").Error("fourth")
	}
	t.Run("text", func(t *testing.T) {
		var b bytes.Buffer
		cfg := &config.Config{LogLevel: slog.LevelDebug, LogFormat: config.LogText}
		write(newLogger(cfg, &b))
		b.Write(droppedNotice(cfg)(5))
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != 5 {
			t.Fatalf("got %d lines; want 5:\n%s", len(lines), b.String())
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, "nonroot-init: time=") {
				t.Errorf("text line %q does not start with %q", l, "nonroot-init: time=")
			}
		}
		if !strings.Contains(lines[4], "count=5") {
			t.Errorf("dropped notice %q lacks count=5", lines[4])
		}
	})
	t.Run("json", func(t *testing.T) {
		var b bytes.Buffer
		cfg := &config.Config{LogLevel: slog.LevelDebug, LogFormat: config.LogJSON}
		write(newLogger(cfg, &b))
		b.Write(droppedNotice(cfg)(5))
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != 5 {
			t.Fatalf("got %d lines; want 5:\n%s", len(lines), b.String())
		}
		for _, l := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Errorf("JSON line %q: %v", l, err)
				continue
			}
			if m["logger"] != "nonroot-init" {
				t.Errorf("JSON line %q: logger = %v; want nonroot-init", l, m["logger"])
			}
		}
	})
}
