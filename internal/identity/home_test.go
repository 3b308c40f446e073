package identity

import "testing"

// TestPlanHome: the HOME rule, which Provide applies and Inspect reports.
func TestPlanHome(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    homeFacts
		want homePlan
	}{
		{"NONROOT_HOME wins, writable or not", homeFacts{setting: "/data/home", env: "/home/x", envOK: true}, homePlan{path: "/data/home", setting: true}},
		{"writable $HOME", homeFacts{env: "/home/x", envOK: true, entry: "/home/e", entryOK: true, uid: 1000}, homePlan{path: "/home/x"}},
		{"$HOME / is never used", homeFacts{env: "/", envOK: true, entry: "/home/e", entryOK: true, uid: 1000}, homePlan{path: "/home/e"}},
		{"relative $HOME is never used", homeFacts{env: "home", envOK: true, uid: 1000}, homePlan{path: "/", inState: true}},
		{"the entry's home when $HOME is not writable", homeFacts{env: "/home/x", entry: "/home/e", entryOK: true, uid: 1000}, homePlan{path: "/home/e"}},
		{"STATE_DIR/home, keeping $HOME as fallback", homeFacts{env: "/home/x", entry: "/home/e", uid: 1000680000}, homePlan{path: "/home/x", inState: true}},
		{"STATE_DIR/home, / as fallback", homeFacts{uid: 1000680000}, homePlan{path: "/", inState: true}},
		{"root never gets STATE_DIR/home", homeFacts{env: "/home/x", uid: 0}, homePlan{path: "/home/x"}},
		{"root without $HOME gets its entry's home", homeFacts{entry: "/root", entryOK: true, uid: 0}, homePlan{path: "/root"}},
		{"root with nothing gets /", homeFacts{uid: 0}, homePlan{path: "/"}},
		{"a home with a colon cannot go in a passwd line", homeFacts{env: "/home/a:b", envOK: true, uid: 1000}, homePlan{path: "/", inState: true}},
	} {
		if got := planHome(tc.f); got != tc.want {
			t.Errorf("%s: planHome(%+v) = %+v; want %+v", tc.name, tc.f, got, tc.want)
		}
	}
}
