package procfs

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// procfs is a leaf every step may import: it imports no package of the
// project, so no import cycle can come through it.
func TestImportsNoProjectPackage(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("list the package's files: %v, %v", files, err)
	}
	for _, f := range files {
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			if strings.HasPrefix(strings.Trim(imp.Path.Value, `"`), "github.com/nonroot-init/nonroot-init/") {
				t.Errorf("%s imports %s; procfs must import no package of the project", f, imp.Path.Value)
			}
		}
	}
}
