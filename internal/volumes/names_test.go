package volumes

import "testing"

func TestNamesHumanSize(t *testing.T) {
	for _, tt := range []struct {
		n    uint64
		want string
	}{
		{0, "0 bytes"},
		{1023, "1023 bytes"},
		{4096, "4 KiB"},
		{3 << 20, "3.0 MiB"},
		{5 << 29, "2.5 GiB"},
	} {
		if got := humanSize(tt.n); got != tt.want {
			t.Errorf("humanSize(%d) = %q; want %q", tt.n, got, tt.want)
		}
	}
}
