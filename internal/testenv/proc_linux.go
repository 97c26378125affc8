package testenv

import "syscall"

// sysProcAttr makes the kernel kill mariadbd if the test binary dies without
// running its cleanups (a -timeout panic, SIGKILL), so no server outlives it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
