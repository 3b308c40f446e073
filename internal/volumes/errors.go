package volumes

import (
	"fmt"
	"strings"
)

// listErrors formats several problems as one message, one per line.
func listErrors(es []error) string {
	if len(es) == 1 {
		return es[0].Error()
	}
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = "  " + e.Error()
	}
	return fmt.Sprintf("%d problems:\n%s", len(es), strings.Join(lines, "\n"))
}
