//go:build !linux

package bench

import (
	"os/exec"
	"time"
)

func setProcAttr(cmd *exec.Cmd) {}

// cpuTime is unknown here: 0.
func cpuTime() time.Duration { return 0 }

// minorFaults is unknown here: -1.
func minorFaults() int64 { return -1 }

// processMinorFaults is unknown here: -1.
func processMinorFaults(pid int) int64 { return -1 }
