package test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nonroot-init/nonroot-init/test/harness"
)

// doctorJSONGet follows a jq path (".identity.uid", ".volumes.0.mode")
// through doctor's decoded JSON.
func doctorJSONGet(t *testing.T, v any, path string) any {
	t.Helper()
	for _, k := range strings.Split(strings.TrimPrefix(path, "."), ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				t.Errorf("doctor --json: no %s (no key %q)", path, k)
				return nil
			}
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				t.Errorf("doctor --json: no %s (index %q of %d)", path, k, len(x))
				return nil
			}
			v = x[i]
		default:
			t.Errorf("doctor --json: no %s (%q in a %T)", path, k, v)
			return nil
		}
	}
	return v
}

// TestDoctorJSONThroughBinary: `nonroot-init doctor --json`, run as uid
// 1000680000 gid 0 and as root, prints one typed object: `.identity.uid`
// is a number equal to the UID it ran as, `.schema` is 1, a root-owned
// volume is a problem {section, message, fix} and a volume entry with
// numbers and booleans, the port decision has numbers.
func TestDoctorJSONThroughBinary(t *testing.T) {
	harness.NeedRoot(t)
	for _, uid := range []int{harness.OpenShiftUID, 0} {
		t.Run(strconv.Itoa(uid), func(t *testing.T) {
			shared := harness.SharedDir(t)
			vol := filepath.Join(shared, "data")
			if err := os.Mkdir(vol, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(vol, 0o555); err != nil {
				t.Fatal(err)
			}
			opts := harness.Opts{UID: uid, GID: 0, AsUser: true, Env: []string{
				"NONROOT_VOLUMES=" + vol, "NONROOT_PORTS=HTTP_PORT=80", "NONROOT_STATE_DIR=" + filepath.Join(shared, "state"), "HOME=/",
			}}
			r := harness.Run(t, 30*time.Second, opts, "doctor", "--json")
			dec := json.NewDecoder(strings.NewReader(r.Stdout))
			dec.UseNumber()
			var rep map[string]any
			if err := dec.Decode(&rep); err != nil || dec.More() {
				t.Fatalf("doctor --json: exit %d, %v; want one JSON object\nstdout: %s\nstderr: %s", r.Code, err, r.Stdout, r.Stderr)
			}
			for path, want := range map[string]any{
				".schema":                        json.Number("1"),
				".identity.uid":                  json.Number(strconv.Itoa(uid)),
				".identity.gid":                  json.Number("0"),
				".volumes.0.path":                vol,
				".volumes.0.uid":                 json.Number("0"),
				".volumes.0.gid":                 json.Number("0"),
				".volumes.0.mode":                "0555",
				".volumes.0.writable":            uid == 0,
				".volumes.0.read_only":           false,
				".ports.unprivileged_port_start": json.Number(doctorJSONPortStart(t)),
				".ports.resolved.0.name":         "HTTP_PORT",
				".ports.resolved.0.requested":    json.Number("80"),
				".ok":                            r.Code == 0,
			} {
				if got := doctorJSONGet(t, rep, path); got != want {
					t.Errorf("doctor --json as uid %d: %s = %#v (%T); want %#v (%T)\n%s", uid, path, got, got, want, want, r.Stdout)
				}
			}
			if v, ok := doctorJSONGet(t, rep, ".version").(string); !ok || v == "" {
				t.Errorf(".version = %#v; want a non-empty string", v)
			}
			if _, ok := doctorJSONGet(t, rep, ".identity.no_new_privs").(bool); !ok {
				t.Errorf(".identity.no_new_privs is not a boolean:\n%s", r.Stdout)
			}
			if _, ok := doctorJSONGet(t, rep, ".process.pid").(json.Number); !ok {
				t.Errorf(".process.pid is not a number:\n%s", r.Stdout)
			}
			problems, _ := doctorJSONGet(t, rep, ".problems").([]any)
			volProblem := false
			for _, p := range problems {
				pm, _ := p.(map[string]any)
				msg, _ := pm["message"].(string)
				fix, _ := pm["fix"].(string)
				if pm["section"] == "volumes" && strings.Contains(msg, vol) && strings.Contains(fix, "fsGroup") {
					volProblem = true
				}
			}
			if wantProblem := uid != 0; volProblem != wantProblem {
				t.Errorf("as uid %d: a volumes problem naming %s with the fsGroup fix: %v; want %v\n%s", uid, vol, volProblem, wantProblem, r.Stdout)
			}
			if (r.Code == 0) != (len(problems) == 0) {
				t.Errorf("exit %d with %d problems; want 0 exactly when there is none", r.Code, len(problems))
			}
		})
	}
}

// doctorJSONPortStart is the unprivileged port start of this network
// namespace, which doctor reports.
func doctorJSONPortStart(t *testing.T) string {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err != nil {
		return "1024"
	}
	return string(bytes.TrimSpace(b))
}
