//go:build unix

package harness

import (
	"os"
	"syscall"
)

// ownProcessGroup puts a child in a process group of its own, out of the terminal's
// Ctrl-C.
func ownProcessGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// stopProcess freezes p (SIGSTOP).
func stopProcess(p *os.Process) error { return p.Signal(syscall.SIGSTOP) }

// continueProcess resumes a frozen p (SIGCONT).
func continueProcess(p *os.Process) error { return p.Signal(syscall.SIGCONT) }
