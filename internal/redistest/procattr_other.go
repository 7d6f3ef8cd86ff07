//go:build !linux

package redistest

import "os/exec"

// setProcAttr does nothing where there is no parent-death signal; the
// test's cleanups stop the server.
func setProcAttr(cmd *exec.Cmd) {}
