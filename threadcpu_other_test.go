//go:build !linux

package strata_test

// threadCPU returns -1: only Linux says how much CPU time a thread used.
func threadCPU() int64 { return -1 }
