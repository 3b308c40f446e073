package test

import (
	"context"
	"fmt"
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

// TestNginxReloadConfigMapSwap is README's live-reload example: nginx
// under the init as PID 1, UID 1000680000 GID 0, its nginx.conf rendered
// from a ConfigMap directory with NONROOT_RELOAD_SIGNAL=HUP and
// NONROOT_RELOAD_CHECK="nginx -t ...". A kubelet-style swap to a config
// whose root is another directory makes the running nginx, the same
// master process, serve the new page.
func TestNginxReloadConfigMapSwap(t *testing.T) {
	harness.NeedRoot(t)
	harness.NeedTool(t, "nginx", "unshare", "setpriv", "nsenter", "ip", "busybox")
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "templates", "nginx.conf.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := string(b)
	const rootSetting = `env "NGINX_ROOT"`
	if !strings.Contains(tmpl, rootSetting) {
		t.Fatalf("templates/nginx.conf.tmpl no longer reads %s; adapt this test", rootSetting)
	}
	base := tmplBase(t)
	src := filepath.Join(base, "config")
	tmplConfigMap(t, src, map[string]string{"nginx.conf.tmpl": tmpl})
	const page1, page2 = "the page before the swap\n", "the page after the swap\n"
	for dir, page := range map[string]string{"html1": page1, "html2": page2} {
		tmplMust(t, os.Mkdir(filepath.Join(base, dir), 0o755))
		tmplMust(t, os.WriteFile(filepath.Join(base, dir, "index.html"), []byte(page), 0o644))
	}
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
		"NONROOT_RELOAD_SIGNAL=HUP",
		// -e stderr: nginx -t opens its compiled-in error log first,
		// which the UID cannot.
		"NONROOT_RELOAD_CHECK=" + nginx + " -t -q -e stderr -c " + conf,
		"NGINX_RUN_DIR=" + run,
		"NGINX_ROOT=" + filepath.Join(base, "html1"),
		"NGINX_ROOT2=" + filepath.Join(base, "html2"),
		"NGINX_WORKER_PROCESSES=2",
		"NGINX_ACCESS_LOG=off",
	}, "--", nginx, "-c", conf, "-g", "daemon off;")
	var stderr harness.SyncBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			harness.KillTree(cmd.Process.Pid)
			_ = cmd.Wait()
		}
	})

	netns := "--net=/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/net"
	get := func() (string, error) {
		out, err := exec.Command("nsenter", netns, "busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/").CombinedOutput()
		return string(out), err
	}
	serves := func(page string) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		return harness.WaitFor(ctx, func() bool { body, err := get(); return err == nil && body == page })
	}
	if !serves(page1) {
		body, err := get()
		t.Fatalf("nginx does not serve the first page: %q, %v\nstderr: %s", body, err, stderr.String())
	}
	initPID, err := harness.ChildPID(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	master, err := anyChild(initPID)
	if err != nil {
		t.Fatal(err)
	}

	v2 := strings.Replace(tmpl, rootSetting, `env "NGINX_ROOT2"`, 1)
	cmSwap(t, src, "..2026_11_29_11_00_00.987654321", "..2026_12_03_10_00_00.123", map[string]string{"nginx.conf.tmpl": v2})
	if !serves(page2) {
		body, err := get()
		t.Fatalf("after the ConfigMap swap nginx serves %q, %v; want %q\nstderr: %s", body, err, page2, stderr.String())
	}
	if now, err := anyChild(initPID); err != nil || now != master {
		t.Errorf("nginx's master is %d (%v) after the reload; want the same process %d", now, err, master)
	}
	if !strings.Contains(stderr.String(), "msg=reloaded signal=SIGHUP") {
		t.Errorf("the init did not log the reload:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "signal 1 (SIGHUP) received") {
		t.Errorf("nginx did not log SIGHUP:\n%s", stderr.String())
	}

	if err := syscall.Kill(initPID, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stopped = true
	r := harness.Wait(t, 60*time.Second, cmd)
	if r.Code != 0 {
		t.Errorf("after SIGTERM the init exited %d; want 0\nstderr: %s", r.Code, stderr.String())
	}
}

// anyChild is the one child of pid, looked up in every thread's children
// (the init starts COMMAND from a thread other than its main one).
func anyChild(pid int) (int, error) {
	files, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var kids []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil {
			kids = append(kids, strings.Fields(string(b))...)
		}
	}
	if len(kids) != 1 {
		return 0, fmt.Errorf("process %d has children %v; want exactly one", pid, kids)
	}
	return strconv.Atoi(kids[0])
}
