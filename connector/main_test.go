package connector

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/gin-gonic/gin"
)

// childEnv, set to 1, makes the test binary run as a connector process instead of
// running tests: kill_test.go starts it so, and kills it with SIGKILL.
const childEnv = "DOORBUSTER_CONNECTOR_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild())
	}
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// runChild runs the reference connector configured by the environment contract (as
// `doorbuster connector` does) until it is killed or interrupted.
func runChild() int {
	gin.SetMode(gin.ReleaseMode)
	cfg, err := ConfigFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer c.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := c.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
