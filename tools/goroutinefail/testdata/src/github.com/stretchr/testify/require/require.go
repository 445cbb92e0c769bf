// Package require is a stand-in for testify's, with what the tests call.
package require

// TestingT is what the assertions fail.
type TestingT interface {
	Errorf(format string, args ...any)
	FailNow()
}

// NoError fails the test now when err is not nil.
func NoError(t TestingT, err error, msgAndArgs ...any) {}

// Assertions is require.New's assertion set.
type Assertions struct{}

// New returns assertions on t.
func New(t TestingT) *Assertions { return &Assertions{} }

// Equal fails the test now when the values differ.
func (a *Assertions) Equal(expected, actual any, msgAndArgs ...any) {}
