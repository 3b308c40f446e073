package wait

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/nonroot-init/nonroot-init/internal/emu"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

// fast polls often and reports progress often, so that the tests see
// several attempts and progress lines in little time.
func fast() params {
	return params{progress: 100 * time.Millisecond, minBackoff: 10 * time.Millisecond, maxBackoff: 50 * time.Millisecond, attempt: 2 * time.Second}
}

// deps parses NONROOT_WAIT items as the config package does.
func deps(t *testing.T, items ...string) []config.Dependency {
	t.Helper()
	d, err := config.ParseWait(strings.Join(items, ","))
	if err != nil {
		t.Fatalf("ParseWait(%q): %v", items, err)
	}
	return d
}

// syncBuf is a log destination safe for concurrent writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLog() (*slog.Logger, *syncBuf) {
	b := &syncBuf{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

// freePort returns a loopback TCP port nothing listens on (yet).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// run waits with the fast parameters, failing the test if the call
// itself does not return within a bound far above what it needs.
func run(t *testing.T, ctx context.Context, d []config.Dependency, timeout time.Duration, log *slog.Logger, p params) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- all(ctx, d, timeout, log, p) }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout + time.Minute):
		t.Fatalf("all(%v) did not return within its timeout %v plus a minute", d, timeout)
		return nil
	}
}

func TestTCPListenerStartedLater(t *testing.T) {
	port := freePort(t)
	var accepted atomic.Int32
	started := make(chan struct{})
	go func() {
		time.Sleep(300 * time.Millisecond)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Error(err)
			close(started)
			return
		}
		t.Cleanup(func() { l.Close() })
		close(started)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	log, logs := testLog()
	err := run(t, context.Background(), deps(t, fmt.Sprintf("tcp://127.0.0.1:%d", port)), 30*time.Second, log, fast())
	if err != nil {
		t.Fatalf("all: %v\nlog:\n%s", err, logs)
	}
	<-started
	if !waitTrue(func() bool { return accepted.Load() >= 1 }) {
		t.Fatalf("ready without the listener accepting a connection; log:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "dependency ready") || !strings.Contains(logs.String(), "after=") {
		t.Errorf("no ready line with its duration in the log:\n%s", logs)
	}
}

// waitTrue polls cond for up to 10 s (an accept can be counted a little
// after the client's connect returned).
func waitTrue(cond func() bool) bool {
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func TestHTTP503Then200(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) <= 2 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	defer srv.Close()
	log, logs := testLog()
	if err := run(t, context.Background(), deps(t, srv.URL+"/healthz"), 30*time.Second, log, fast()); err != nil {
		t.Fatalf("all: %v\nlog:\n%s", err, logs)
	}
	// Two 503s, then the 200 ends the polling: no request after it.
	if n := requests.Load(); n != 3 {
		t.Errorf("server got %d requests, want 3 (503, 503, 200)", n)
	}
}

func TestHTTPRedirectIsReadyAndNotFollowed(t *testing.T) {
	var followed atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/login", http.StatusFound) })
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	log, logs := testLog()
	if err := run(t, context.Background(), deps(t, srv.URL+"/"), 30*time.Second, log, fast()); err != nil {
		t.Fatalf("a 302 is ready, got %v\nlog:\n%s", err, logs)
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times, want 0", n)
	}
}

func TestHTTP4xxIsNotReady(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	log, _ := testLog()
	err := run(t, context.Background(), deps(t, srv.URL+"/missing"), 2*time.Second, log, fast())
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("all = %v, want a timeout naming the 404", err)
	}
}

func TestHTTPPasswordNeverShown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://probe:s3cr3t@", 1) + "/"
	tok := strings.Replace(srv.URL, "http://", "http://t0ken@", 1) + "/health?key=qu3ry"
	log, logs := testLog()
	p := fast()
	err := run(t, context.Background(), deps(t, u, tok), 500*time.Millisecond, log, p)
	if err == nil {
		t.Fatal("all = nil, want a timeout")
	}
	for what, s := range map[string]string{"error": err.Error(), "log": logs.String()} {
		for _, secret := range []string{"s3cr3t", "t0ken", "qu3ry"} {
			if strings.Contains(s, secret) {
				t.Errorf("the %s shows the URL's secret %q: %s", what, secret, s)
			}
		}
	}
	for _, shown := range []string{"probe:xxxxx@", "//xxxxx@", "/health?key=xxxxx"} {
		if !strings.Contains(err.Error(), shown) {
			t.Errorf("error %q does not name the URLs with their secrets redacted (%s)", err, shown)
		}
	}
}

// certFile writes srv's certificate as PEM and returns its path.
func certFile(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHTTPSSelfSignedFailsVerification(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	log, _ := testLog()
	err := run(t, context.Background(), deps(t, srv.URL+"/"), 2*time.Second, log, fast())
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("all = %v, want a timeout naming the certificate that failed verification", err)
	}
}

// TestHTTPSTrustedThroughSSLCertFile runs the wait in a child test
// process whose SSL_CERT_FILE names the server's certificate: Go reads
// the system roots once per process, so the variable must be set before
// the process starts, as it is for the init in a container.
func TestHTTPSTrustedThroughSSLCertFile(t *testing.T) {
	if url := os.Getenv("WAIT_TEST_HTTPS_URL"); url != "" {
		log, logs := testLog()
		if err := run(t, context.Background(), deps(t, url), 30*time.Second, log, fast()); err != nil {
			t.Fatalf("all with SSL_CERT_FILE=%s: %v\nlog:\n%s", os.Getenv("SSL_CERT_FILE"), err, logs)
		}
		return
	}
	var requests atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }))
	defer srv.Close()
	args := []string{os.Args[0], "-test.run=^TestHTTPSTrustedThroughSSLCertFile$", "-test.count=1"}
	if qemu, under := emu.QEMU(); under {
		// A foreign test binary runs only through qemu: binfmt_misc
		// need not be registered (it is not on CI).
		args = append([]string{qemu}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "WAIT_TEST_HTTPS_URL="+srv.URL+"/ready", "SSL_CERT_FILE="+certFile(t, srv))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child test with SSL_CERT_FILE: %v\n%s", err, out)
	}
	if requests.Load() < 1 {
		t.Fatalf("the server got no request; child output:\n%s", out)
	}
}

func TestUnixSocketStartedLater(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "app.sock")
	var accepted atomic.Int32
	go func() {
		time.Sleep(300 * time.Millisecond)
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Error(err)
			return
		}
		t.Cleanup(func() { l.Close() })
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	log, logs := testLog()
	if err := run(t, context.Background(), deps(t, "unix://"+sock), 30*time.Second, log, fast()); err != nil {
		t.Fatalf("all: %v\nlog:\n%s", err, logs)
	}
	if !waitTrue(func() bool { return accepted.Load() >= 1 }) {
		t.Fatal("ready without the socket accepting a connection")
	}
}

func TestUnixPathNotASocketIsNotReady(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	log, _ := testLog()
	if err := run(t, context.Background(), deps(t, "unix://"+path), 300*time.Millisecond, log, fast()); err == nil {
		t.Fatal("a plain file counted as a listening socket")
	}
}

func TestFileCreatedLater(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ready")
	go func() {
		time.Sleep(300 * time.Millisecond)
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Error(err)
		}
	}()
	log, logs := testLog()
	if err := run(t, context.Background(), deps(t, "file://"+path), 30*time.Second, log, fast()); err != nil {
		t.Fatalf("all: %v\nlog:\n%s", err, logs)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("ready before the file existed: %v", err)
	}
}

func TestFileDanglingSymlinkIsNotReady(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "link")
	target := filepath.Join(dir, "target")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	log, _ := testLog()
	err := run(t, context.Background(), deps(t, "file://"+link), 300*time.Millisecond, log, fast())
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("all = %v, want a timeout: the link points nowhere", err)
	}
	// Once its target exists, the link is ready.
	go func() {
		time.Sleep(200 * time.Millisecond)
		if err := os.WriteFile(target, nil, 0o644); err != nil {
			t.Error(err)
		}
	}()
	if err := run(t, context.Background(), deps(t, "file://"+link), 30*time.Second, log, fast()); err != nil {
		t.Fatalf("all after the target was created: %v", err)
	}
}

func TestTimeoutNamesEachDependencyAndItsLastError(t *testing.T) {
	dir := t.TempDir()
	present := filepath.Join(dir, "present")
	if err := os.WriteFile(present, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	refused := fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))
	missing := "file://" + filepath.Join(dir, "missing")
	log, logs := testLog()
	err := run(t, context.Background(), deps(t, refused, "file://"+present, missing), 2*time.Second, log, fast())
	if err == nil {
		t.Fatal("all = nil, want a timeout")
	}
	msg := err.Error()
	for _, want := range []string{refused, "connection refused", missing, "no such file or directory", "NONROOT_WAIT_TIMEOUT"} {
		if !strings.Contains(msg, want) {
			t.Errorf("timeout error does not contain %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, present) {
		t.Errorf("timeout error names %s, which was ready:\n%s", present, msg)
	}
	if errors.Is(err, context.Canceled) {
		t.Errorf("a timeout is reported as a cancel: %v", err)
	}
	// Progress lines name what is still awaited and its last error.
	l := logs.String()
	if !strings.Contains(l, "still waiting") || !strings.Contains(l, refused) || !strings.Contains(l, "connection refused") {
		t.Errorf("no progress line naming %s and its error:\n%s", refused, l)
	}
}

// An unresolvable name (a Service not created yet) is retried like any
// other error, not a reason to give up at once.
func TestUnresolvableNameIsRetried(t *testing.T) {
	log, _ := testLog()
	err := run(t, context.Background(), deps(t, "tcp://no-such-service.invalid:5432"), time.Second, log, fast())
	if err == nil {
		t.Fatal("all = nil for a name that cannot resolve")
	}
	if !strings.Contains(err.Error(), "tcp://no-such-service.invalid:5432") {
		t.Errorf("error does not name the dependency: %v", err)
	}
	var n int
	if _, scanErr := fmt.Sscanf(err.Error()[strings.Index(err.Error(), "after ")+len("after "):], "%d attempts", &n); scanErr != nil || n < 2 {
		t.Errorf("error %q: want 2 or more attempts (%v)", err, scanErr)
	}
}

// Two dependencies that each become ready only after the other was probed
// once: waiting for them one after the other would time out.
func TestDependenciesArePolledInParallel(t *testing.T) {
	var a, b atomic.Int32
	handler := func(mine, other *atomic.Int32) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mine.Add(1)
			if other.Load() == 0 {
				http.Error(w, "waiting for the other", http.StatusServiceUnavailable)
			}
		}
	}
	sa := httptest.NewServer(handler(&a, &b))
	defer sa.Close()
	sb := httptest.NewServer(handler(&b, &a))
	defer sb.Close()
	log, logs := testLog()
	if err := run(t, context.Background(), deps(t, sa.URL+"/", sb.URL+"/"), 30*time.Second, log, fast()); err != nil {
		t.Fatalf("all: %v\nlog:\n%s", err, logs)
	}
}

func TestCancelReturnsAtOnce(t *testing.T) {
	// An endpoint that accepts and never answers: the attempt in flight
	// must be cut by the cancel, not run to its own timeout.
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)
	p := fast()
	p.attempt = 10 * time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	log, _ := testLog()
	done := make(chan error, 1)
	go func() {
		done <- all(ctx, deps(t, srv.URL+"/", fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))), 10*time.Minute, log, p)
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("all after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("all did not return within a minute of its context's cancel (attempt and wait timeouts are 10 minutes)")
	}
}

func TestNoDependencies(t *testing.T) {
	log, logs := testLog()
	if err := all(context.Background(), nil, time.Second, log, fast()); err != nil {
		t.Fatalf("all(nil) = %v", err)
	}
	if logs.String() != "" {
		t.Errorf("nothing to wait for, yet it logged:\n%s", logs)
	}
}

func TestBackoffDoublesToItsCap(t *testing.T) {
	p := defaults()
	got := []time.Duration{}
	d := time.Duration(0)
	for range 8 {
		d = p.next(d)
		got = append(got, d)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
		1600 * time.Millisecond, 2 * time.Second, 2 * time.Second, 2 * time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("backoff = %v, want %v", got, want)
	}
}

// TestHTTPProxyNotUsed: HTTP_PROXY is for COMMAND's traffic to the
// outside; the probe connects directly. A proxy that answers 200 for
// anything would otherwise make an unreachable name ready.
func TestHTTPProxyNotUsed(t *testing.T) {
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { proxied.Add(1) }))
	defer proxy.Close()
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	log, _ := testLog()
	err := run(t, context.Background(), deps(t, "http://no-such-service.invalid/healthz"), 500*time.Millisecond, log, fast())
	if err == nil {
		t.Fatal("all = nil: the unreachable name was made ready by the proxy")
	}
	if n := proxied.Load(); n != 0 {
		t.Errorf("the proxy got %d requests, want 0", n)
	}
}

// TestHTTPEndlessStatusLine: a server that answers with a status line
// that never ends is not HTTP; the check reads 4 KiB of it, not on until
// the attempt's deadline into memory, and says why it is not ready.
func TestHTTPEndlessStatusLine(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var sent atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				chunk := bytes.Repeat([]byte("A"), 64<<10)
				if _, err := c.Write([]byte("HTTP/1.1 200 ")); err != nil {
					return
				}
				for {
					n, err := c.Write(chunk)
					sent.Add(int64(n))
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	log, _ := testLog()
	p := fast()
	p.attempt = 30 * time.Second
	err = run(t, context.Background(), deps(t, "http://"+l.Addr().String()+"/"), 2*time.Second, log, p)
	if err == nil || !strings.Contains(err.Error(), "no end of the status line within 4096 bytes") {
		t.Fatalf("all = %v; want a timeout saying the status line did not end within 4096 bytes", err)
	}
}
