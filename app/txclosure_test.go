package app_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestTransactionClosuresAssignNoOuterState reads app's source: a function run in a write
// transaction (write, writeValue, InTx) may run again when the transaction is retried, so it
// must not assign variables declared outside it. A rolled-back attempt would leave them
// changed for the next attempt, or hand its caller a result that was never committed.
// writeValue returns results after commit instead.
func TestTransactionClosuresAssignNoOuterState(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if fd, ok := n.(*ast.FuncDecl); ok && (fd.Name.Name == "writeValue" || fd.Name.Name == "txValue") {
				return false // the two places that keep a committed result
			}
			call, ok := n.(*ast.CallExpr)
			if !ok || !isTxRunner(call.Fun) {
				return true
			}
			for _, arg := range call.Args {
				lit, ok := arg.(*ast.FuncLit)
				if !ok {
					continue
				}
				checked++
				for _, v := range outerAssignments(lit) {
					t.Errorf("%s: a transaction's function assigns %s, declared outside it; return it through writeValue instead",
						fset.Position(v.Pos()), v.Name)
				}
			}
			return true
		})
	}
	if checked < 40 {
		t.Fatalf("checked only %d transaction functions", checked)
	}
}

// isTxRunner tells the calls that run a function in a retried transaction.
func isTxRunner(fun ast.Expr) bool {
	switch f := fun.(type) {
	case *ast.SelectorExpr:
		switch f.Sel.Name {
		case "write", "InTx", "orgWrite", "storeWrite", "memberWrite":
			return true
		}
		return false
	case *ast.Ident:
		return f.Name == "writeValue" || f.Name == "orgWriteValue" || f.Name == "storeWriteValue"
	case *ast.IndexExpr: // writeValue[T]
		return isTxRunner(f.X)
	}
	return false
}

// outerAssignments lists the identifiers that lit assigns (directly, or through a field or
// an element) while they were declared before lit.
func outerAssignments(lit *ast.FuncLit) []*ast.Ident {
	var out []*ast.Ident
	outer := func(e ast.Expr) {
		for {
			switch x := e.(type) {
			case *ast.SelectorExpr:
				e = x.X
				continue
			case *ast.IndexExpr:
				e = x.X
				continue
			case *ast.StarExpr:
				e = x.X
				continue
			case *ast.ParenExpr:
				e = x.X
				continue
			case *ast.Ident:
				if x.Obj != nil && x.Obj.Kind == ast.Var {
					if d, ok := x.Obj.Decl.(ast.Node); ok && (d.Pos() < lit.Pos() || d.Pos() > lit.End()) {
						out = append(out, x)
					}
				}
			}
			return
		}
	}
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		switch s := n.(type) {
		case *ast.AssignStmt:
			if s.Tok == token.DEFINE {
				return true
			}
			for _, l := range s.Lhs {
				outer(l)
			}
		case *ast.IncDecStmt:
			outer(s.X)
		}
		return true
	})
	return out
}
