// Command goroutinefail reports calls that end a test (require.*,
// t.Fatal, t.FailNow, t.Skip and their kin) made inside a goroutine. They
// call runtime.Goexit, which ends only the goroutine they run on: the test
// goes on, or waits forever for a value that goroutine was to send, and the
// failure turns into a hang. Send the error back and assert it on the
// test's goroutine instead.
//
// It looks into function literals started with a go statement or handed to
// sync.WaitGroup.Go or errgroup.Group.Go, not into the functions they call,
// and not into subtests (t.Run) started from them, which run on goroutines
// of their own. make lint runs it:
//
//	go run ./tools/goroutinefail ./...
package main

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/analysis/singlechecker"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"
)

// Analyzer is the check; main runs it alone.
var Analyzer = &analysis.Analyzer{
	Name:     "goroutinefail",
	Doc:      "report require.*, t.Fatal, t.FailNow and t.Skip calls inside goroutines, where they hang a test instead of failing it",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

func main() { singlechecker.Main(Analyzer) }

// requirePkg is testify's package whose every assertion calls FailNow.
const requirePkg = "github.com/stretchr/testify/require"

// goexits are the methods of testing's T, B, F and TB that end the test
// by runtime.Goexit.
var goexits = map[string]bool{
	"FailNow": true, "Fatal": true, "Fatalf": true,
	"SkipNow": true, "Skip": true, "Skipf": true,
}

func run(pass *analysis.Pass) (any, error) {
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	in.Preorder([]ast.Node{(*ast.GoStmt)(nil), (*ast.CallExpr)(nil)}, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.GoStmt:
			if lit, ok := ast.Unparen(n.Call.Fun).(*ast.FuncLit); ok {
				checkGoroutine(pass, lit)
			}
		case *ast.CallExpr:
			if startsGoroutine(pass, n) {
				for _, arg := range n.Args {
					if lit, ok := ast.Unparen(arg).(*ast.FuncLit); ok {
						checkGoroutine(pass, lit)
					}
				}
			}
		}
	})
	return nil, nil
}

// startsGoroutine reports whether call is sync.WaitGroup.Go or
// errgroup.Group.Go, which run their function on a new goroutine.
func startsGoroutine(pass *analysis.Pass, call *ast.CallExpr) bool {
	fn, ok := typeutil.Callee(pass.TypesInfo, call).(*types.Func)
	if !ok || fn.Name() != "Go" {
		return false
	}
	recv := receiver(fn)
	return recv != nil && recv.Obj().Pkg() != nil &&
		(recv.Obj().Pkg().Path() == "sync" && recv.Obj().Name() == "WaitGroup" ||
			recv.Obj().Pkg().Path() == "golang.org/x/sync/errgroup" && recv.Obj().Name() == "Group")
}

// checkGoroutine reports the calls in a goroutine's body that end a test.
func checkGoroutine(pass *analysis.Pass, lit *ast.FuncLit) {
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		fn, ok := typeutil.Callee(pass.TypesInfo, call).(*types.Func)
		if !ok || fn.Pkg() == nil {
			return true
		}
		switch {
		case fn.Pkg().Path() == requirePkg:
			pass.Reportf(call.Pos(), "require.%s inside a goroutine: on failure it ends that goroutine, not the test, which then hangs or passes; send the error to the test's goroutine and assert there", fn.Name())
		case fn.Pkg().Path() == "testing" && receiver(fn) != nil && fn.Name() == "Run":
			// A subtest runs on a goroutine of its own, where ending the
			// test is right.
			return false
		case fn.Pkg().Path() == "testing" && receiver(fn) != nil && goexits[fn.Name()]:
			pass.Reportf(call.Pos(), "%s inside a goroutine: it ends that goroutine, not the test, which then hangs or passes; send the error to the test's goroutine and report it there", fn.Name())
		}
		return true
	})
}

// receiver returns the named type a method belongs to (through a pointer),
// or nil for a function.
func receiver(fn *types.Func) *types.Named {
	recv := fn.Type().(*types.Signature).Recv()
	if recv == nil {
		return nil
	}
	t := recv.Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	named, _ := t.(*types.Named)
	return named
}
