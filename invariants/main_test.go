package invariants

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestMain(m *testing.M) {
	if os.Getenv(WorkerEnv) == "1" { // this binary, started as a check's worker process
		if err := ServeWorker(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

// testWorker runs this test binary as a check's worker process.
func testWorker(ctx context.Context) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), WorkerEnv+"=1")
	return cmd
}
