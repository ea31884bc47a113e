package billing

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoTransactionCanSpanAWhopCall holds the structure that keeps every
// Whop call outside a database transaction: billing makes every call to
// Whop, and it never opens a transaction itself (no Begin, no BeginFunc);
// the ledger opens them, and no exported ledger method takes a function,
// so no caller's code (a Whop call) can run inside one. The one pgx.Tx
// billing sees is the ledger's, handed to InsertJobTx for a River insert.
func TestNoTransactionCanSpanAWhopCall(t *testing.T) {
	fset := token.NewFileSet()
	parse := func(dir string) []*ast.File {
		t.Helper()
		paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		var files []*ast.File
		for _, p := range paths {
			if strings.HasSuffix(p, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, p, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		return files
	}
	for _, f := range parse(".") {
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				switch sel.Sel.Name {
				case "Begin", "BeginFunc", "BeginTx", "BeginTxFunc":
					t.Errorf("%s: billing opens a transaction (%s)", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
	ledgerFiles := parse(filepath.Join("..", "ledger"))
	if len(ledgerFiles) == 0 {
		t.Fatal("no ledger sources found")
	}
	methods := 0
	for _, f := range ledgerFiles {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || !fn.Name.IsExported() {
				continue
			}
			if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); !ok || star.X.(*ast.Ident).Name != "Store" {
				continue
			}
			methods++
			for _, p := range fn.Type.Params.List {
				if _, ok := p.Type.(*ast.FuncType); ok {
					t.Errorf("%s: ledger.Store.%s takes a function: a caller's code would run inside its transaction",
						fset.Position(fn.Pos()), fn.Name.Name)
				}
			}
		}
	}
	if methods < 20 {
		t.Fatalf("found %d exported Store methods; the parse missed the ledger", methods)
	}
}
