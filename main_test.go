package strata_test

import (
	"os"
	"testing"
)

// TestMain runs the tests, or, when the environment says so, one of the
// child processes that tests start: a committer to crash (crashChild), a
// writer beside another process (writerChild), a counter (counterChild)
// or a push to kill (pushChild).
func TestMain(m *testing.M) {
	if os.Getenv("STRATA_CRASH_DIR") != "" {
		crashChild()
		return
	}
	if os.Getenv("STRATA_WRITER_URL") != "" {
		writerChild()
		return
	}
	if os.Getenv("STRATA_PUSH_SRC") != "" {
		pushChild()
		return
	}
	if os.Getenv("STRATA_COUNTER_URL") != "" {
		counterChild()
		return
	}
	code := m.Run()
	if autoGraphStore.dir != "" { // see BenchmarkMergeBase10kAuto
		os.RemoveAll(autoGraphStore.dir)
	}
	os.Exit(code)
}
