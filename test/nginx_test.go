package test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// TestNginxEndToEnd is the nginx example of templates/README.md: the init
// as PID 1, UID 1000680000 GID 0, in fresh PID and network namespaces,
// renders templates/nginx.conf.tmpl with PORTS=HTTP_PORT=80, so nginx
// listens on 8080 and answers 200; SIGTERM, rewritten to SIGQUIT, stops
// nginx gracefully and the init exits 0.
func TestNginxEndToEnd(t *testing.T) {
	harness.NeedRoot(t)
	harness.NeedTool(t, "nginx", "unshare", "setpriv", "nsenter", "ip", "busybox")
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(root, "templates", "nginx.conf.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	base := tmplBase(t)
	src := filepath.Join(base, "config")
	tmplConfigMap(t, src, map[string]string{"nginx.conf.tmpl": string(tmpl)})
	html := filepath.Join(base, "html")
	tmplMust(t, os.Mkdir(html, 0o755))
	const page = "hello from nginx under nonroot-init\n"
	tmplMust(t, os.WriteFile(filepath.Join(html, "index.html"), []byte(page), 0o644))
	run := tmplWritableDir(t, filepath.Join(base, "run"))
	conf := filepath.Join(run, "nginx", "nginx.conf")

	nginx, err := exec.LookPath("nginx")
	if err != nil {
		t.Fatal(err)
	}
	cmd := rootPrelude(t, pidNetNS(), "ip link set lo up", harness.OpenShiftUID, nil, []string{
		"NONROOT_PORTS=HTTP_PORT=80",
		"NONROOT_TEMPLATES=" + src + ":" + filepath.Dir(conf),
		"NONROOT_REWRITE_SIGNALS=TERM:QUIT",
		"NGINX_RUN_DIR=" + run,
		"NGINX_ROOT=" + html,
		"NGINX_WORKER_PROCESSES=2",
	}, "--", nginx, "-c", conf, "-g", "daemon off;")
	// nginx reopens /dev/stdout for its access log, which checks the
	// pipe's owner: give it to the UID, as runc does for a container's
	// stdio (fixStdioPermissions).
	var stdout, stderr harness.SyncBuffer
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	tmplMust(t, pw.Chown(harness.OpenShiftUID, 0))
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(&stdout, pr)
	}()
	cmd.Stdout, cmd.Stderr = pw, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})

	// wget from inside the namespace: the unshare process itself lives
	// in the new network namespace (only its child is in the new PID one).
	netns := "--net=/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/net"
	get := func(path string) (string, error) {
		out, err := exec.Command("nsenter", netns, "busybox", "wget", "-S", "-q", "-O", "-", "http://127.0.0.1:8080"+path).CombinedOutput()
		return string(out), err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var body string
	gone := func() bool { _, err := os.Stat(netns[len("--net="):]); return err != nil }
	if !harness.WaitFor(ctx, func() bool { body, err = get("/"); return err == nil || gone() }) || err != nil {
		t.Fatalf("nginx did not answer on 127.0.0.1:8080: %v %s\nstdout: %s\nstderr: %s", err, body, stdout.String(), stderr.String())
	}
	if !strings.Contains(body, "HTTP/1.1 200 OK") || !strings.HasSuffix(body, page) {
		t.Errorf("GET / = %q; want 200 and %q", body, page)
	}
	if health, err := get("/healthz"); err != nil || !strings.Contains(health, "200 OK") || !strings.HasSuffix(health, "ok\n") {
		t.Errorf("GET /healthz = %q, %v; want 200 ok", health, err)
	}
	if _, err := get("/nonexistent"); err == nil {
		t.Errorf("GET /nonexistent succeeded; want 404")
	}

	initPID, _ := harness.ChildPID(cmd.Process.Pid)
	status, err := os.ReadFile("/proc/" + strconv.Itoa(initPID) + "/status")
	if initPID == 0 || err != nil || !strings.Contains(string(status), "Name:\tnonroot-init\n") ||
		!strings.Contains(string(status), "Uid:\t1000680000\t1000680000") || !strings.Contains(string(status), "NSpid:\t"+strconv.Itoa(initPID)+"\t1\n") {
		t.Fatalf("init (host pid %d) is not nonroot-init as PID 1 and uid 1000680000: %v\n%s", initPID, err, status)
	}
	if err := syscall.Kill(initPID, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	killed = true
	r := harness.Wait(t, 30*time.Second, cmd)
	<-copied
	log := stderr.String()
	if r.Code != 0 {
		t.Errorf("after SIGTERM the init exited %d; want 0\nstderr: %s", r.Code, log)
	}
	if !strings.Contains(log, "signal 3 (SIGQUIT) received") || !strings.Contains(log, "gracefully shutting down") {
		t.Errorf("nginx did not get SIGQUIT and stop gracefully:\n%s", log)
	}
	if !strings.Contains(log, "HTTP_PORT=8080 (80 is below net.ipv4.ip_unprivileged_port_start (1024)") {
		t.Errorf("the init did not log the port decision:\n%s", log)
	}
	if !strings.Contains(stdout.String(), `"GET / HTTP/1.1" 200`) {
		t.Errorf("no access log line on stdout:\n%s", stdout.String())
	}
}
