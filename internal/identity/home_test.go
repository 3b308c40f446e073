package identity

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// TestPlanHome: the HOME rule, which Provide applies and Inspect reports.
func TestPlanHome(t *testing.T) {
	bad := errors.New("not writable")
	shared := fmt.Errorf("/tmp has mode 1777: %w", errSharedHome)
	for _, tc := range []struct {
		name string
		f    homeFacts
		want homePlan
	}{
		{"NONROOT_HOME wins, writable or not", homeFacts{setting: "/data/home", env: "/home/x"}, homePlan{path: "/data/home", setting: true}},
		{"writable $HOME", homeFacts{env: "/home/x", entry: "/home/e", uid: 1000}, homePlan{path: "/home/x"}},
		{"$HOME / is never used", homeFacts{env: "/", envErr: bad, entry: "/home/e", uid: 1000}, homePlan{path: "/home/e"}},
		{"relative $HOME is never used", homeFacts{env: "home", envErr: bad, entryErr: bad, uid: 1000}, homePlan{path: "/", inState: true}},
		{"the entry's home when $HOME is not writable", homeFacts{env: "/home/x", envErr: bad, entry: "/home/e", uid: 1000}, homePlan{path: "/home/e"}},
		{"STATE_DIR/home, keeping $HOME as fallback", homeFacts{env: "/home/x", envErr: bad, entry: "/home/e", entryErr: bad, uid: 1000680000}, homePlan{path: "/home/x", inState: true}},
		{"STATE_DIR/home, / as fallback", homeFacts{envErr: bad, entryErr: bad, uid: 1000680000}, homePlan{path: "/", inState: true}},
		{"root never gets STATE_DIR/home", homeFacts{env: "/home/x", envErr: bad, entryErr: bad, uid: 0}, homePlan{path: "/home/x"}},
		{"root without $HOME gets its entry's home", homeFacts{envErr: bad, entry: "/root", uid: 0}, homePlan{path: "/root"}},
		{"root with nothing gets /", homeFacts{envErr: bad, entryErr: bad, uid: 0}, homePlan{path: "/"}},
		{"a home with a colon cannot go in a passwd line", homeFacts{env: "/home/a:b", envErr: bad, entryErr: bad, uid: 1000}, homePlan{path: "/", inState: true}},
		{"a shared $HOME is skipped for the entry's home", homeFacts{env: "/tmp", envErr: shared, entry: "/home/e", uid: 1000},
			homePlan{path: "/home/e", skipped: []skippedHome{{"$HOME", "/tmp", shared}}}},
		{"a shared $HOME is not the fallback either", homeFacts{env: "/tmp", envErr: shared, entryErr: bad, uid: 1000},
			homePlan{path: "/", inState: true, skipped: []skippedHome{{"$HOME", "/tmp", shared}}}},
		{"root never takes a shared NONROOT_HOME", homeFacts{setting: "/tmp/apphome", settingErr: shared, env: "/root", uid: 0},
			homePlan{path: "/root", skipped: []skippedHome{{"NONROOT_HOME", "/tmp/apphome", shared}}}},
		{"another UID takes a shared NONROOT_HOME (with a warning)", homeFacts{setting: "/tmp/apphome", settingErr: shared, uid: 1000680000},
			homePlan{path: "/tmp/apphome", setting: true}},
		{"root with a shared $HOME gets /", homeFacts{env: "/tmp", envErr: shared, entryErr: bad, uid: 0},
			homePlan{path: "/", skipped: []skippedHome{{"$HOME", "/tmp", shared}}}},
	} {
		if got := planHome(tc.f); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: planHome(%+v) = %+v; want %+v", tc.name, tc.f, got, tc.want)
		}
	}
}
