package bench

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the server die with the benchmark process.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
