package fern

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The rules in design.md and style.md that a machine can check, run as a
// test so they hold on every commit:
//   - no subpackage imports the root package;
//   - no os.Exit, log.Fatal* or signal.Notify outside cmd/ and examples/;
//   - no package-level var outside tests except errors and read-only
//     tables listed here.

const modulePath = "github.com/fernmq/fern"

type goFile struct {
	path string // slash-separated, relative to the repo root
	file *ast.File
}

func libraryFiles(t *testing.T) []goFile {
	t.Helper()
	var files []goFile
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != "." && (name == "testdata" || name == "bench" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files = append(files, goFile{path: filepath.ToSlash(path), file: f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestLintSubpackagesDoNotImportRoot(t *testing.T) {
	for _, f := range libraryFiles(t) {
		if !strings.Contains(f.path, "/") || strings.HasPrefix(f.path, "cmd/") || strings.HasPrefix(f.path, "examples/") {
			continue
		}
		for _, imp := range f.file.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == modulePath {
				t.Errorf("%s imports the root package %q; subpackages define the interface they need instead", f.path, p)
			}
		}
	}
}

func TestLintNoProcessControlInLibrary(t *testing.T) {
	banned := map[string]bool{"os.Exit": true, "log.Fatal": true, "log.Fatalf": true, "log.Fatalln": true, "signal.Notify": true, "log.Panic": true}
	for _, f := range libraryFiles(t) {
		if strings.HasPrefix(f.path, "cmd/") || strings.HasPrefix(f.path, "examples/") {
			continue
		}
		ast.Inspect(f.file, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && banned[id.Name+"."+sel.Sel.Name] {
				t.Errorf("%s calls %s.%s: the library never exits, traps signals or logs fatally", f.path, id.Name, sel.Sel.Name)
			}
			return true
		})
	}
}

// allowedVars are package-level vars that are not mutable state: sentinel
// errors (any var whose name starts with Err/err) and these read-only
// tables.
var allowedVars = map[string]bool{
	"protocol/op.go:opTable":              true, // op names and their properties
	"protocol/op.go:opByFirst":            true, // first byte -> candidate ops
	"protocol/op.go:opWords":              true, // op names packed for word compares
	"subject/validate.go:byteClass":       true, // byte classes for validation
	"store/filestore_block.go:readerPool": true, // sync.Pool of S2 readers
	"store/filestore_record.go:crcTable":  true, // CRC-32C table
}

func TestLintNoPackageMutableState(t *testing.T) {
	for _, f := range libraryFiles(t) {
		if strings.HasPrefix(f.path, "cmd/") || strings.HasPrefix(f.path, "examples/") {
			continue
		}
		for _, decl := range f.file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				for _, name := range spec.(*ast.ValueSpec).Names {
					n := name.Name
					if n == "_" || strings.HasPrefix(n, "Err") || strings.HasPrefix(n, "err") || allowedVars[f.path+":"+n] {
						continue
					}
					t.Errorf("%s: package-level var %s: keep state on a Server or Options value (or list a read-only table in lint_test.go)", f.path, n)
				}
			}
		}
	}
}
