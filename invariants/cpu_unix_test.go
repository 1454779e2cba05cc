//go:build unix

package invariants

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process and its ended children (the check's worker
// processes) have used: user + system, all threads.
func processCPU() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err != nil {
			return 0
		}
		total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return total
}
