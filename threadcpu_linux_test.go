package strata_test

import "syscall"

// threadCPU returns the CPU time the calling thread has used, in
// nanoseconds, or -1 if the system does not say. A benchmark locked to
// its thread reports it beside ns/op: on a shared machine wall time counts
// the time others' work held the processor, and this does not (nor the
// garbage collector's work on other threads).
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1, &ru); err != nil { // 1: RUSAGE_THREAD
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
