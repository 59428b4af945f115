// The counters of a test program and its closing line, as the shell areas
// print them (tests/lib.sh): "ok   NAME", "FAIL NAME" with the reasons
// indented below, and last "<area>: N passed, M failed".
package testkit

import (
	"fmt"
	"os"
	"strings"
)

// Tally counts the checks of one area.
type Tally struct {
	Area       string
	Pass, Fail int
}

// OK counts a passed check.
func (t *Tally) OK(name string) {
	t.Pass++
	fmt.Printf("ok   %s\n", name)
}

// Failed counts a failed check and prints why, one reason a line.
func (t *Tally) Failed(name string, why ...string) {
	t.Fail++
	fmt.Printf("FAIL %s\n", name)
	for _, w := range why {
		for _, l := range strings.Split(strings.TrimRight(w, "\n"), "\n") {
			fmt.Printf("     %s\n", l)
		}
	}
}

// Check counts a check: passed when err is nil.
func (t *Tally) Check(name string, err error) {
	if err != nil {
		t.Failed(name, err.Error())
	} else {
		t.OK(name)
	}
}

// Summary prints the closing line; true when no check failed.
func (t *Tally) Summary() bool {
	fmt.Printf("%s: %d passed, %d failed\n", t.Area, t.Pass, t.Fail)
	return t.Fail == 0
}

// Finish prints the closing line and exits, 1 when a check failed.
func (t *Tally) Finish() {
	if !t.Summary() {
		os.Exit(1)
	}
	os.Exit(0)
}
