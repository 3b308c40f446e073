// Package wait is setup step 7: it waits for the dependencies of
// NONROOT_WAIT (a database, an API, a socket, a file another container
// writes) before COMMAND starts, as dockerize -wait and wait-for-it do.
//
// Every dependency is polled in its own goroutine with its own backoff,
// so one slow dependency never delays the others; NONROOT_WAIT_TIMEOUT
// bounds them all together. Every error is retried until then, including
// a name that does not resolve yet (a Service not created): in a pod that
// starts beside its dependencies, every error is at first a "not yet".
package wait

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/nonroot-init/nonroot-init/internal/config"
	"github.com/nonroot-init/nonroot-init/internal/errlist"
)

// params are the pacing of the polls; tests shorten them.
type params struct {
	progress   time.Duration // how often what is still awaited is logged
	minBackoff time.Duration // pause after the first failed attempt
	maxBackoff time.Duration // the pause doubles up to this
	attempt    time.Duration // bound of one attempt (also bounded by what is left)
}

// defaults: a first retry soon (a dependency that is nearly up costs
// 100 ms), then at most one attempt every 2 s, so a pod waiting a minute
// for its database opens about 35 connections, not thousands.
func defaults() params {
	return params{progress: 5 * time.Second, minBackoff: 100 * time.Millisecond, maxBackoff: 2 * time.Second, attempt: 5 * time.Second}
}

// next is the pause after an attempt that failed, given the previous
// pause (0 before the first).
func (p params) next(d time.Duration) time.Duration {
	if d <= 0 {
		return p.minBackoff
	}
	return min(2*d, p.maxBackoff)
}

// All waits until every dependency of deps is ready, or timeout has
// passed since the call, or ctx is cancelled (SIGTERM during setup). It
// returns nil when all are ready, ctx's error (wrapped) when ctx ended
// first, and on timeout an error naming each dependency still not ready
// with its last error. Progress is logged on log.
func All(ctx context.Context, deps []config.Dependency, timeout time.Duration, log *slog.Logger) error {
	return all(ctx, deps, timeout, log, defaults())
}

// dependency is the state of one poll, shared between its goroutine and
// the loop that reports progress.
type dependency struct {
	name  string // Raw, redacted (config.RedactURL): what logs and errors show
	probe func(ctx context.Context) error

	mu       sync.Mutex
	attempts int
	last     error // the last attempt's error; nil before one ended
}

func (d *dependency) record(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.attempts++
	d.last = err
}

func (d *dependency) state() (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.attempts, d.last
}

type ready struct {
	i     int
	after time.Duration
}

func all(ctx context.Context, deps []config.Dependency, timeout time.Duration, log *slog.Logger, p params) error {
	if len(deps) == 0 {
		return nil
	}
	start := time.Now()

	ds := make([]*dependency, len(deps))
	names := make([]string, len(deps))
	for i, dep := range deps {
		ds[i] = &dependency{name: dep.Raw, probe: prober(dep)}
		names[i] = ds[i].name
	}
	log.Info("waiting for dependencies", "deps", strings.Join(names, ","), "timeout", timeout.String())

	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel() // ends every poll still running when All returns
	readyc := make(chan ready, len(ds))
	for i, d := range ds {
		go func() {
			if poll(wctx, d, p) {
				readyc <- ready{i: i, after: time.Since(start)}
			}
		}()
	}

	tick := time.NewTicker(p.progress)
	defer tick.Stop()
	done := make([]bool, len(ds))
	for left := len(ds); left > 0; {
		select {
		case r := <-readyc:
			done[r.i] = true
			left--
			n, _ := ds[r.i].state()
			log.Info("dependency ready", "dep", ds[r.i].name, "after", r.after.Round(time.Millisecond).String(), "attempts", n)
		case <-tick.C:
			for i, d := range ds {
				if done[i] {
					continue
				}
				n, last := d.state()
				log.Info("still waiting for dependency", "dep", d.name, "waited", time.Since(start).Round(time.Second).String(),
					"attempts", n, "last_err", describe(last))
			}
		case <-wctx.Done():
			if err := ctx.Err(); err != nil {
				// Stopped (SIGTERM): at once, without a report on what
				// was still awaited.
				return fmt.Errorf("waiting for NONROOT_WAIT stopped: %w", err)
			}
			return timedOut(ds, done, timeout)
		}
	}
	log.Info("dependencies ready", "deps", strings.Join(names, ","), "after", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// poll tries d until an attempt succeeds (true) or ctx ends (false).
func poll(ctx context.Context, d *dependency, p params) bool {
	var pause time.Duration
	for {
		err := attempt(ctx, d, p.attempt)
		if err == nil {
			// Ready, even if only just before the end of the wait.
			d.record(nil)
			return true
		}
		if ended(ctx) {
			// The attempt was cut by the end of the wait: its error
			// ("context deadline exceeded") says less than the one
			// before it, which stays the last error.
			if _, last := d.state(); last == nil {
				d.record(fmt.Errorf("no answer before NONROOT_WAIT_TIMEOUT ended: %w", err))
			}
			return false
		}
		d.record(err)
		if err == nil {
			return true
		}
		pause = p.next(pause)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// attempt runs one probe, bounded by limit and by what is left of ctx.
func attempt(ctx context.Context, d *dependency, limit time.Duration) error {
	actx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	err := d.probe(actx)
	if err != nil && !ended(ctx) && ended(actx) {
		return fmt.Errorf("no answer within %s: %w", limit, err)
	}
	return err
}

// ended reports whether ctx is done or its deadline has passed: a
// socket's deadline (set to the context's) can fire before the
// context's own timer marks it done, and the attempt it cut must count
// as cut.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// timedOut is the error of a wait that ran out of time: each dependency
// not ready, with its last error and how often it was tried.
func timedOut(ds []*dependency, done []bool, timeout time.Duration) error {
	var list *multierror.Error
	for i, d := range ds {
		if done[i] {
			continue
		}
		n, last := d.state()
		list = multierror.Append(list, fmt.Errorf("%s not ready after %d attempts: %s", d.name, n, describe(last)))
	}
	return fmt.Errorf("NONROOT_WAIT_TIMEOUT (%s) ended before every NONROOT_WAIT dependency was ready; check that each runs and is reachable from this pod, or raise NONROOT_WAIT_TIMEOUT: %w",
		timeout, errlist.OrNil(list))
}

func describe(err error) string {
	if err == nil {
		return "no attempt has ended yet"
	}
	return err.Error()
}

// prober returns the check of one dependency: nil means ready.
func prober(dep config.Dependency) func(context.Context) error {
	switch dep.Scheme {
	case "tcp", "unix":
		network := dep.Scheme
		return func(ctx context.Context) error {
			var dialer net.Dialer
			c, err := dialer.DialContext(ctx, network, dep.Addr)
			if err != nil {
				return err
			}
			return c.Close()
		}
	case "http", "https":
		return func(ctx context.Context) error { return getOK(ctx, dep.Addr) }
	case "file":
		return func(context.Context) error {
			// Stat follows a symbolic link, so one that points nowhere
			// (a ConfigMap's ..data before the swap) is not ready yet.
			// Only existence is read, never the file.
			_, err := os.Stat(dep.Addr)
			return err
		}
	}
	return func(context.Context) error {
		return fmt.Errorf("scheme %q is not one of tcp, http, https, unix, file", dep.Scheme)
	}
}

// maxStatusLine bounds what getOK reads of an answer's status line.
const maxStatusLine = 4096

// getOK is ready when a GET of rawURL answers 2xx or 3xx.
//
// It speaks the little of HTTP/1.1 a readiness check needs (one GET,
// Connection: close, the status line read and the rest dropped) rather
// than use net/http, which would more than double the size of a binary
// that sits in every image. Certificates are verified against the
// system roots, which Go reads from SSL_CERT_FILE and SSL_CERT_DIR when
// they are set (the way to trust a private CA). Redirects are not
// followed: a 3xx answer is itself ready. No proxy is used, whatever
// HTTP_PROXY says: it is set for COMMAND's traffic to the outside, and a
// proxy cannot reach, or would lie about, the Services of the pod's own
// cluster. Every phase (dial, TLS handshake, request, answer) is bounded
// by the attempt's context.
func getOK(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return errors.New("not a URL")
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// A cancelled context (SIGTERM) ends a read or write in flight.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if u.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		conn = tc
	}
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: nonroot-init-wait\r\nAccept: */*\r\nConnection: close\r\n", u.RequestURI(), u.Host)
	if u.User != nil {
		pw, _ := u.User.Password()
		fmt.Fprintf(&req, "Authorization: Basic %s\r\n", base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw)))
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return err
	}
	// A status line is short; one that does not end within 4 KiB is
	// not HTTP, and is not read on into memory.
	line, err := bufio.NewReaderSize(conn, maxStatusLine).ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("not an HTTP answer: no end of the status line within %d bytes: %q", maxStatusLine, truncate(string(line), 64))
	}
	if err != nil {
		return fmt.Errorf("no HTTP answer: %w", err)
	}
	code, status, err := parseStatusLine(string(line))
	if err != nil {
		return err
	}
	if code >= 200 && code < 400 {
		return nil
	}
	return fmt.Errorf("GET answered %s, want 2xx or 3xx", status)
}

// parseStatusLine reads "HTTP/1.1 503 Service Unavailable": the code and
// "503 Service Unavailable".
func parseStatusLine(line string) (int, string, error) {
	line = strings.TrimRight(line, "\r\n")
	proto, status, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/") || len(status) < 3 {
		return 0, "", fmt.Errorf("not an HTTP answer: %q", truncate(line, 64))
	}
	code, err := strconv.Atoi(status[:3])
	if err != nil || code < 100 || code > 999 || (len(status) > 3 && status[3] != ' ') {
		return 0, "", fmt.Errorf("not an HTTP status line: %q", truncate(line, 64))
	}
	return code, status, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
