//go:build !unix

package invariants

import "time"

func processCPU() time.Duration { return 0 }
