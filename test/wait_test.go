package test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// waitServers is the python3 program of the dependencies the wait tests
// start as root inside the init's network namespace, before the init. It
// appends one line per event to LOG, always BEFORE the event can be seen
// by the init (before listen(), before the answer is sent), so that a
// line written by COMMAND after it proves the order.
//
//	tcp PORT DELAY LOG      after DELAY s: "listening", listen, "accepted" per connection
//	unix PATH DELAY LOG     the same on a unix socket any UID may connect to
//	http PORT N503 LOG      "503" and a 503 for the first N503 requests, then "200" and a 200
//	https PORT CERT KEY LOG "200" and a 200 for every request, over TLS with CERT and KEY
//	pair PORTA PORTB LOG    two HTTP servers, each answering 503 until the OTHER got a request
const waitServers = `
import http.server, os, socket, sys, threading, time

mode, log = sys.argv[1], sys.argv[-1]
lock = threading.Lock()

def note(line):
    with lock, open(log, "a") as f:
        f.write(line + "\n")
        f.flush()

def accept_loop(s):
    while True:
        c, _ = s.accept()
        note("accepted")
        c.close()

if mode in ("tcp", "unix"):
    time.sleep(float(sys.argv[3]))
    if mode == "tcp":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(sys.argv[2])))
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(sys.argv[2])
        os.chmod(sys.argv[2], 0o777)
    note("listening")
    s.listen(16)
    accept_loop(s)
elif mode == "http":
    left = [int(sys.argv[3])]
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            code = 200
            if left[0] > 0:
                left[0] -= 1
                code = 503
            note(str(code))
            self.send_response(code)
            self.end_headers()
        def log_message(self, *a):
            pass
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[2])), H).serve_forever()
elif mode == "https":
    import ssl
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            note("200")
            self.send_response(200)
            self.end_headers()
        def log_message(self, *a):
            pass
    srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[2])), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()
elif mode == "pair":
    got = {"a": 0, "b": 0}
    def handler(me, other):
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with lock:
                    got[me] += 1
                    ready = got[other] > 0
                note(me + (" 200" if ready else " 503"))
                self.send_response(200 if ready else 503)
                self.end_headers()
            def log_message(self, *a):
                pass
        return H
    a = http.server.HTTPServer(("127.0.0.1", int(sys.argv[2])), handler("a", "b"))
    b = http.server.HTTPServer(("127.0.0.1", int(sys.argv[3])), handler("b", "a"))
    threading.Thread(target=a.serve_forever, daemon=True).start()
    b.serve_forever()
`

// waitFixture is a shared directory with the server program and LOG, a
// file any UID can append to.
type waitFixture struct {
	dir, script, log string
}

func newWaitFixture(t *testing.T) waitFixture {
	t.Helper()
	harness.NeedTool(t, "python3", "ip", "sh")
	dir := harness.SharedDir(t)
	f := waitFixture{dir: dir, script: filepath.Join(dir, "servers.py"), log: filepath.Join(dir, "log")}
	if err := os.WriteFile(f.script, []byte(waitServers), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.log, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f.log, 0o666); err != nil {
		t.Fatal(err)
	}
	return f
}

// prelude brings loopback up (as root) and starts the servers (each
// "MODE ARG..." line) in the background in the new namespaces, as the
// init's UID: as in a pod, the init may then end them when COMMAND
// exits.
func (f waitFixture) prelude(servers ...string) string {
	s := "ip link set lo up\n"
	for _, srv := range servers {
		s += fmt.Sprintf("setpriv --reuid %d --regid 0 --clear-groups python3 %s %s %s &\n", harness.OpenShiftUID, f.script, srv, f.log)
	}
	return s
}

// lines is LOG, one entry per line.
func (f waitFixture) lines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(f.log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(string(b), " ", "_"))
}

// command is COMMAND: it appends "command" to LOG.
func (f waitFixture) command() []string {
	return []string{"/bin/sh", "-c", "echo command >> " + f.log}
}

func indexOf(lines []string, s string) int {
	for i, l := range lines {
		if l == s {
			return i
		}
	}
	return -1
}

// TestWaitTCPListenerLater: COMMAND starts only after a listener that
// appears 2 s after the init was reachable, and accepted the probe.
func TestWaitTCPListenerLater(t *testing.T) {
	f := newWaitFixture(t)
	cmd := rootPrelude(t, pidNetNS(), f.prelude("tcp 5432 2"), harness.OpenShiftUID, nil,
		[]string{"NONROOT_WAIT=tcp://127.0.0.1:5432", "NONROOT_WAIT_TIMEOUT=2m"}, f.command()...)
	r := harness.Wait(t, 3*time.Minute, cmd)
	if r.Code != 0 {
		t.Fatalf("exit %d, want 0\nstderr: %s", r.Code, r.Stderr)
	}
	l := f.lines(t)
	listening, command := indexOf(l, "listening"), indexOf(l, "command")
	if listening < 0 || command < listening || indexOf(l, "accepted") < 0 {
		t.Fatalf("events %v: want listening, then command, and the probe accepted\nstderr: %s", l, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "dependency ready") || !strings.Contains(r.Stderr, "tcp://127.0.0.1:5432") {
		t.Errorf("no ready line naming the dependency:\n%s", r.Stderr)
	}
}

// TestWaitHTTP503Then200: three 503s, then the 200, then COMMAND: nothing
// else, so COMMAND started only after the 200 and the polling stopped.
func TestWaitHTTP503Then200(t *testing.T) {
	f := newWaitFixture(t)
	cmd := rootPrelude(t, pidNetNS(), f.prelude("http 8080 3"), harness.OpenShiftUID, nil,
		[]string{"NONROOT_WAIT=http://127.0.0.1:8080/healthz", "NONROOT_WAIT_TIMEOUT=2m"}, f.command()...)
	r := harness.Wait(t, 3*time.Minute, cmd)
	if r.Code != 0 {
		t.Fatalf("exit %d, want 0\nstderr: %s", r.Code, r.Stderr)
	}
	if got, want := strings.Join(f.lines(t), " "), "503 503 503 200 command"; got != want {
		t.Fatalf("events %q, want %q\nstderr: %s", got, want, r.Stderr)
	}
}

func TestWaitUnixSocket(t *testing.T) {
	f := newWaitFixture(t)
	sock := filepath.Join(f.dir, "app.sock")
	cmd := rootPrelude(t, pidNetNS(), f.prelude("unix "+sock+" 1"), harness.OpenShiftUID, nil,
		[]string{"NONROOT_WAIT=unix://" + sock, "NONROOT_WAIT_TIMEOUT=2m"}, f.command()...)
	r := harness.Wait(t, 3*time.Minute, cmd)
	if r.Code != 0 {
		t.Fatalf("exit %d, want 0\nstderr: %s", r.Code, r.Stderr)
	}
	l := f.lines(t)
	if listening, command := indexOf(l, "listening"), indexOf(l, "command"); listening < 0 || command < listening {
		t.Fatalf("events %v: want listening, then command\nstderr: %s", l, r.Stderr)
	}
}

// TestWaitFile: COMMAND fails unless the file, created 1 s after the
// init started, exists when it runs.
func TestWaitFile(t *testing.T) {
	f := newWaitFixture(t)
	ready := filepath.Join(f.dir, "ready")
	prelude := f.prelude() + "(sleep 1; touch " + ready + ") &\n"
	cmd := rootPrelude(t, pidNetNS(), prelude, harness.OpenShiftUID, nil,
		[]string{"NONROOT_WAIT=file://" + ready, "NONROOT_WAIT_TIMEOUT=2m"}, "/bin/sh", "-c", "test -e "+ready)
	r := harness.Wait(t, 3*time.Minute, cmd)
	if r.Code != 0 {
		t.Fatalf("exit %d, want 0 (COMMAND found %s)\nstderr: %s", r.Code, ready, r.Stderr)
	}
}

// TestWaitInParallel: each server answers 200 only after the other one
// got a request, so waiting for one and then the other would time out.
func TestWaitInParallel(t *testing.T) {
	f := newWaitFixture(t)
	cmd := rootPrelude(t, pidNetNS(), f.prelude("pair 8081 8082"), harness.OpenShiftUID, nil,
		[]string{"NONROOT_WAIT=http://127.0.0.1:8081/,http://127.0.0.1:8082/", "NONROOT_WAIT_TIMEOUT=1m"}, f.command()...)
	r := harness.Wait(t, 3*time.Minute, cmd)
	if r.Code != 0 {
		t.Fatalf("exit %d, want 0\nevents: %v\nstderr: %s", r.Code, f.lines(t), r.Stderr)
	}
	l := f.lines(t)
	command := indexOf(l, "command")
	if a, b := indexOf(l, "a_200"), indexOf(l, "b_200"); a < 0 || b < 0 || command < a || command < b {
		t.Fatalf("events %v: want a 200 from each server before command\nstderr: %s", l, r.Stderr)
	}
}

// TestWaitTimeout: exit 78, the dependency and its last error named,
// COMMAND never started.
func TestWaitTimeout(t *testing.T) {
	f := newWaitFixture(t)
	cmd := rootPrelude(t, pidNetNS(), f.prelude(), harness.OpenShiftUID, nil,
		[]string{"NONROOT_WAIT=tcp://127.0.0.1:5433", "NONROOT_WAIT_TIMEOUT=2s"}, f.command()...)
	r := harness.Wait(t, 3*time.Minute, cmd)
	if r.Code != 78 {
		t.Fatalf("exit %d, want 78\nstderr: %s", r.Code, r.Stderr)
	}
	for _, want := range []string{"tcp://127.0.0.1:5433", "connection refused", "NONROOT_WAIT_TIMEOUT"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, r.Stderr)
		}
	}
	if l := f.lines(t); indexOf(l, "command") >= 0 {
		t.Errorf("COMMAND ran after the timeout: %v", l)
	}
}

// TestWaitSIGTERM: SIGTERM during the wait ends the init with 143, long
// before WAIT_TIMEOUT, and COMMAND never starts.
func TestWaitSIGTERM(t *testing.T) {
	f := newWaitFixture(t)
	p := harness.StartCmd(t, rootPrelude(t, pidNetNS(), f.prelude(), harness.OpenShiftUID, nil,
		[]string{"NONROOT_WAIT=tcp://127.0.0.1:5434", "NONROOT_WAIT_TIMEOUT=10m"}, f.command()...), true)
	p.ExpectStderr(t, 2*time.Minute, "waiting for dependencies")
	p.Signal(t, syscall.SIGTERM)
	// Well under WAIT_TIMEOUT (10 minutes): the wait ended on the signal.
	if r := p.Wait(t, 2*time.Minute); r.Code != 143 {
		t.Fatalf("init ended with exit %d, want exit 143\nstderr: %s", r.Code, r.Stderr)
	}
	if l := f.lines(t); indexOf(l, "command") >= 0 {
		t.Errorf("COMMAND ran after SIGTERM: %v", l)
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// (PEM) into dir and returns their paths.
func selfSigned(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "wait-test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	// Readable by the servers' UID: a throwaway key of this test only.
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

// TestWaitHTTPSPrivateCA: a certificate of a private CA fails
// verification (exit 78, the error says so), and is trusted when
// SSL_CERT_FILE names the CA in the container's environment.
func TestWaitHTTPSPrivateCA(t *testing.T) {
	for _, trusted := range []bool{false, true} {
		t.Run(fmt.Sprintf("trusted=%v", trusted), func(t *testing.T) {
			f := newWaitFixture(t)
			cert, key := selfSigned(t, f.dir)
			env := []string{"NONROOT_WAIT=https://127.0.0.1:8443/healthz", "NONROOT_WAIT_TIMEOUT=3s"}
			if trusted {
				env = []string{"NONROOT_WAIT=https://127.0.0.1:8443/healthz", "NONROOT_WAIT_TIMEOUT=2m", "SSL_CERT_FILE=" + cert}
			}
			cmd := rootPrelude(t, pidNetNS(), f.prelude("https 8443 "+cert+" "+key), harness.OpenShiftUID, nil, env, f.command()...)
			r := harness.Wait(t, 3*time.Minute, cmd)
			l := f.lines(t)
			if !trusted {
				if r.Code != 78 || !strings.Contains(r.Stderr, "certificate signed by unknown authority") || indexOf(l, "command") >= 0 {
					t.Fatalf("untrusted CA: exit %d, events %v; want 78, the verification error, no command\nstderr: %s", r.Code, l, r.Stderr)
				}
				return
			}
			if r.Code != 0 || indexOf(l, "200") < 0 || indexOf(l, "command") < indexOf(l, "200") {
				t.Fatalf("SSL_CERT_FILE: exit %d, events %v; want 0, a 200 then command\nstderr: %s", r.Code, l, r.Stderr)
			}
		})
	}
}

// TestWaitSignalsBeforeCommandDoNotKillIt: SIGHUP and SIGUSR1 sent to
// the init while it waits are not forwarded to COMMAND when it starts
// (their default action would kill it before it can set up a handler):
// COMMAND runs to its end, and the log names each dropped signal. The
// SIGWINCH sent with them is harmless and is forwarded.
func TestWaitSignalsBeforeCommandDoNotKillIt(t *testing.T) {
	f := newWaitFixture(t)
	ready := filepath.Join(f.dir, "ready")
	p := harness.StartCmd(t, rootPrelude(t, pidNetNS(), f.prelude(), harness.OpenShiftUID, nil,
		[]string{"NONROOT_WAIT=file://" + ready, "NONROOT_WAIT_TIMEOUT=10m"},
		"/bin/sh", "-c", "sleep 0.5; echo command >> "+f.log), true)
	p.ExpectStderr(t, 2*time.Minute, "waiting for dependencies")
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGWINCH} {
		p.Signal(t, sig)
	}
	// The signals reach the init before the dependency is ready (the
	// warnings say so; the checks below say what became of them).
	for end := time.Now().Add(10 * time.Second); strings.Count(p.Stderr(), "not forwarded to COMMAND") < 2 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := p.Wait(t, 2*time.Minute)
	if r.Code != 0 {
		t.Fatalf("init ended with exit %d, want exit 0 (COMMAND killed by a signal sent before it started?)\nstderr: %s", r.Code, r.Stderr)
	}
	if l := f.lines(t); indexOf(l, "command") < 0 {
		t.Errorf("COMMAND did not run to its end: %v\nstderr: %s", l, r.Stderr)
	}
	for _, want := range []string{"signal=SIGHUP", "signal=SIGUSR1"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr does not name the dropped %s:\n%s", want, r.Stderr)
		}
	}
	if strings.Contains(r.Stderr, "signal=SIGWINCH") {
		t.Errorf("SIGWINCH was dropped; want it held for COMMAND:\n%s", r.Stderr)
	}
}

// TestSignalsDuringTemplatesBeforeCommand: the rules for signals before
// COMMAND exists hold for the steps before WAIT too: a SIGHUP that comes
// while the templates render is dropped with a warning (COMMAND runs to
// its end), and a SIGTERM then ends the start with 143 without COMMAND.
func TestSignalsDuringTemplatesBeforeCommand(t *testing.T) {
	for _, tc := range []struct {
		sig     syscall.Signal
		code    int
		command bool
	}{{syscall.SIGHUP, 0, true}, {syscall.SIGTERM, 143, false}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			f := newWaitFixture(t)
			src := filepath.Join(f.dir, "slow.conf.tmpl")
			// A render of a second or so: the signal lands in it.
			if err := os.WriteFile(src, []byte("{{ range 2000000 }}{{ end }}done\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			p := harness.StartCmd(t, rootPrelude(t, pidNetNS(), f.prelude(), harness.OpenShiftUID, nil,
				[]string{"NONROOT_TEMPLATES=" + src + ":" + filepath.Join(f.dir, "out.conf")},
				"/bin/sh", "-c", "sleep 0.5; echo command >> "+f.log), true)
			// Step 2 logs its line just before the templates render.
			p.ExpectStderr(t, time.Minute, "passwd entry")
			p.Signal(t, tc.sig)
			r := p.Wait(t, 2*time.Minute)
			code, stderr := r.Code, r.Stderr
			if !strings.Contains(stderr, "templates written") {
				t.Fatalf("the templates step did not finish; stderr: %s", stderr)
			}
			ran := indexOf(f.lines(t), "command") >= 0
			if code != tc.code || ran != tc.command {
				t.Errorf("exit %d, COMMAND ran to its end %v; want %d, %v\nstderr: %s", code, ran, tc.code, tc.command, stderr)
			}
		})
	}
}
