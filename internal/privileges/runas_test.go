package privileges

import (
	"errors"
	"reflect"
	"testing"

	"github.com/nonroot-init/nonroot-init/internal/config"
)

func TestPlanRunAs(t *testing.T) {
	for _, tc := range []struct {
		uid, gid int
		runAs    *config.IDs
		want     RunAs
		wantErr  bool
	}{
		{1000680000, 0, nil, RunAsNothing, false},
		{1000680000, 0, &config.IDs{UID: 1000680000, GID: -1}, RunAsNothing, false},
		{1000680000, 0, &config.IDs{UID: 1000680000, GID: 0}, RunAsNothing, false},
		{1000680000, 0, &config.IDs{UID: 1000680000, GID: 5}, RunAsNothing, true},
		{1000680000, 0, &config.IDs{UID: 1001, GID: -1}, RunAsNothing, true},
		{0, 0, nil, RunAsRoot, false},
		{0, 0, &config.IDs{UID: 0, GID: -1}, RunAsStayRoot, false},
		{0, 0, &config.IDs{UID: 1001, GID: -1}, RunAsSwitch, false},
	} {
		got, err := PlanRunAs(tc.uid, tc.gid, tc.runAs)
		var re *RunAsError
		if got != tc.want || (err != nil) != tc.wantErr || (err != nil && !errors.As(err, &re)) {
			t.Errorf("PlanRunAs(%d, %d, %+v) = %v, %v; want %v, error %v", tc.uid, tc.gid, tc.runAs, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestRunAsTarget(t *testing.T) {
	passwd := []byte("root:x:0:0:root:/root:/bin/sh\napp:x:1001:2000::/home/app:/bin/sh\n")
	group := []byte("root:x:0:root\nwheel:x:10:root\n")
	for _, tc := range []struct {
		runAs config.IDs
		bind  bool
		want  Target
	}{
		{config.IDs{UID: 1001, GID: -1}, false, Target{UID: 1001, GID: 2000, DropGroups: []int{0, 10}}},
		{config.IDs{UID: 1001, GID: 7}, true, Target{UID: 1001, GID: 7, KeepBindService: true, DropGroups: []int{0, 10}}},
		{config.IDs{UID: 1000680000, GID: -1}, false, Target{UID: 1000680000, GID: 0, DropGroups: []int{0, 10}}},
	} {
		if got, warn, err := RunAsTarget(&tc.runAs, ImageFiles{Passwd: passwd, Group: group}, tc.bind); !reflect.DeepEqual(got, tc.want) || warn != "" || err != nil {
			t.Errorf("RunAsTarget(%+v, bind %v) = %+v, %q, %v; want %+v, no warning, no error", tc.runAs, tc.bind, got, warn, err, tc.want)
		}
	}
}
