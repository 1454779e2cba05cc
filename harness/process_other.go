//go:build !unix

package harness

import (
	"errors"
	"os"
	"syscall"
)

func ownProcessGroup() *syscall.SysProcAttr { return nil }

var errNoStop = errors.New("pausing a process needs SIGSTOP, which this platform lacks")

func stopProcess(*os.Process) error     { return errNoStop }
func continueProcess(*os.Process) error { return errNoStop }
