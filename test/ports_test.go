package test

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// portsEnv parses testchild env's JSON output into a map.
func portsEnv(t *testing.T, r harness.Result) map[string]string {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("exit %d, want 0\nstderr: %s", r.Code, r.Stderr)
	}
	var list []string
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatalf("testchild env output %q: %v\nstderr: %s", r.Stdout, err, r.Stderr)
	}
	env := map[string]string{}
	for _, kv := range list {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env
}

// rootPrelude runs the init under `unshare unshareArgs`, after running
// prelude as root inside the new namespaces (a sysctl write, `ip link set
// lo up`, a bind mount), then switching to uid:0 with setpriv and extra
// setpriv flags (capabilities). harness.Command cannot run such a prelude:
// it switches the UID before anything else runs.
func rootPrelude(t *testing.T, unshareArgs []string, prelude string, uid int, setprivFlags []string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	harness.NeedRoot(t)
	harness.NeedTool(t, "unshare", "setpriv", "sh")
	argv := []string{"setpriv", "--reuid", strconv.Itoa(uid), "--regid", "0", "--clear-groups"}
	argv = append(argv, setprivFlags...)
	argv = append(argv, "--", harness.Init(t))
	argv = append(argv, args...)
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	script := prelude + "\nexec " + strings.Join(quoted, " ")
	cmd := exec.Command("unshare", append(slices.Clone(unshareArgs), "sh", "-ec", script)...)
	cmd.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, env...)
	return cmd
}

// pidNetNS returns the unshare flags of fresh PID and network namespaces.
func pidNetNS() []string { return []string{"--pid", "--fork", "--mount-proc", "--net"} }

func TestPortsRemappedInFreshNetNS(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want map[string]string
	}{
		{"default start 1024", []string{"NONROOT_PORTS=HTTP_PORT=80,HTTPS_PORT=443,APP_PORT=9000,EDGE=1023"},
			map[string]string{"HTTP_PORT": "8080", "HTTPS_PORT": "8443", "APP_PORT": "9000", "EDGE": "9023"}},
		{"offset", []string{"NONROOT_PORTS=HTTP_PORT=80,HIGH=1024", "NONROOT_PORT_OFFSET=10000"},
			map[string]string{"HTTP_PORT": "10080", "HIGH": "1024"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := harness.Opts{NetNS: true, PID1: true, UID: harness.OpenShiftUID, Env: tt.env}
			r := harness.Run(t, 30*time.Second, opts, harness.Child(t), "env")
			env := portsEnv(t, r)
			for k, v := range tt.want {
				if env[k] != v {
					t.Errorf("%v: COMMAND got %s=%q; want %q\nstderr: %s", tt.env, k, env[k], v, r.Stderr)
				}
			}
			if !strings.Contains(r.Stderr, "targetPort") || !strings.Contains(r.Stderr, "below net.ipv4.ip_unprivileged_port_start (1024)") {
				t.Errorf("log does not give the decision, its reason and the targetPort:\n%s", r.Stderr)
			}
		})
	}
}

func TestPortsKeptWhenSysctlIsZero(t *testing.T) {
	cmd := rootPrelude(t, pidNetNS(), "echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start", harness.OpenShiftUID, nil,
		[]string{"NONROOT_PORTS=HTTP_PORT=80,HTTPS_PORT=443"}, harness.Child(t), "env")
	r := harness.Wait(t, 30*time.Second, cmd)
	env := portsEnv(t, r)
	if env["HTTP_PORT"] != "80" || env["HTTPS_PORT"] != "443" {
		t.Errorf("sysctl 0: COMMAND got HTTP_PORT=%q HTTPS_PORT=%q; want 80 and 443\nstderr: %s", env["HTTP_PORT"], env["HTTPS_PORT"], r.Stderr)
	}
	if !strings.Contains(r.Stderr, "at or above net.ipv4.ip_unprivileged_port_start (0)") {
		t.Errorf("log does not give the reason:\n%s", r.Stderr)
	}
}

func TestPortsKeptWithAmbientCapability(t *testing.T) {
	flags := []string{"--inh-caps", "+net_bind_service", "--ambient-caps", "+net_bind_service"}
	cmd := rootPrelude(t, pidNetNS(), "", harness.OpenShiftUID, flags,
		[]string{"NONROOT_PORTS=HTTP_PORT=80"}, harness.Child(t), "env")
	r := harness.Wait(t, 30*time.Second, cmd)
	env := portsEnv(t, r)
	if env["HTTP_PORT"] != "80" {
		t.Errorf("ambient CAP_NET_BIND_SERVICE: COMMAND got HTTP_PORT=%q; want 80\nstderr: %s", env["HTTP_PORT"], r.Stderr)
	}
}

func TestPortsKeptForRoot(t *testing.T) {
	opts := harness.Opts{NetNS: true, PID1: true, Env: []string{"NONROOT_PORTS=HTTP_PORT=80"}}
	r := harness.Run(t, 30*time.Second, opts, harness.Child(t), "env")
	if env := portsEnv(t, r); env["HTTP_PORT"] != "80" {
		t.Errorf("root: COMMAND got HTTP_PORT=%q; want 80\nstderr: %s", env["HTTP_PORT"], r.Stderr)
	}
}

func TestPortsErrors(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		code int
		want []string
	}{
		{"collision after remap", []string{"NONROOT_PORTS=HTTP_PORT=80,ALT_PORT=8080"}, 78,
			[]string{"HTTP_PORT=80 and ALT_PORT=8080 both end on port 8080"}},
		{"overflow", []string{"NONROOT_PORTS=A=1000,B=600", "NONROOT_PORT_OFFSET=65000"}, 78,
			[]string{"A=1000 cannot be bound by COMMAND and 1000+NONROOT_PORT_OFFSET (65000) = 66000 is above 65535", "B=600 cannot be bound"}},
		{"malformed pair is a usage error", []string{"NONROOT_PORTS=HTTP_PORT:80"}, 2,
			[]string{"NONROOT_PORTS", "is not NAME=PORT"}},
		{"port 0", []string{"NONROOT_PORTS=HTTP_PORT=0"}, 2,
			[]string{"NONROOT_PORTS", "not a number from 1 to 65535"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := harness.Opts{NetNS: true, PID1: true, UID: harness.OpenShiftUID, Env: tt.env}
			r := harness.Run(t, 30*time.Second, opts, harness.Child(t), "env")
			if r.Code != tt.code || r.Stdout != "" {
				t.Errorf("%v: exit %d, stdout %q; want %d and COMMAND not started\nstderr: %s", tt.env, r.Code, r.Stdout, tt.code, r.Stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("%v: stderr does not contain %q:\n%s", tt.env, w, r.Stderr)
				}
			}
		})
	}
}

// TestPortsBindableAfterRunAs starts the init as root with RUN_AS, so
// step 1 keeps CAP_NET_BIND_SERVICE as an ambient capability and step 4,
// reading the capability sets after step 1, keeps port 80; COMMAND then
// really binds it (busybox httpd exits non-zero when bind fails, and
// stays in the background otherwise, to be ended with the namespace).
func TestPortsBindableAfterRunAs(t *testing.T) {
	harness.NeedTool(t, "busybox")
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"RUN_AS keeps the capability", []string{"NONROOT_RUN_AS=1000680000:0", "NONROOT_PORTS=HTTP_PORT=80"}, "bound 80 as 1000680000"},
		{"without RUN_AS as a random uid", []string{"NONROOT_PORTS=HTTP_PORT=80"}, "bound 8080 as 1000680000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := harness.Opts{NetNS: true, PID1: true, Env: append(tt.env, "NONROOT_GRACE_PERIOD=100ms")}
			if !strings.Contains(tt.env[0], "RUN_AS") {
				opts.UID = harness.OpenShiftUID
			}
			r := harness.Run(t, 30*time.Second, opts, "sh", "-c", `busybox httpd -p "$HTTP_PORT" -h / && echo "bound $HTTP_PORT as $(id -u)"`)
			if r.Code != 0 || strings.TrimSpace(r.Stdout) != tt.want {
				t.Errorf("%v: exit %d, stdout %q; want 0 and %q\nstderr: %s", tt.env, r.Code, r.Stdout, tt.want, r.Stderr)
			}
		})
	}
}
