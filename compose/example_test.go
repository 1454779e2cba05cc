package compose_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/doorbuster/doorbuster/compose"
	"github.com/doorbuster/doorbuster/fixtures"
)

// Run a user's connector image against the simulators, cut it off from NetSuite for a
// while, and tear everything down — also on Ctrl-C. (Needs a Docker engine; with no
// registry reachable, set TESTCONTAINERS_RYUK_DISABLED=true.)
func ExampleUp() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	w, err := compose.Up(ctx, compose.Config{
		Seed: 7, Size: fixtures.Small,
		ConnectorImage: "example.com/pos-connector:1.4.2", // listens on $CONNECTOR_LISTEN
		ConnectorPort:  8080,
		ExtraEnv:       map[string]string{"LOG_LEVEL": "debug"},
	})
	defer w.Close(ctx) // on success, error and Ctrl-C alike
	if err != nil {
		log.Print(err) // says what did not come up, with its last log lines
		return
	}
	fmt.Println("POS contract at", w.ConnectorURL)

	if err := w.PartitionConnector(ctx, compose.NetSuite); err != nil {
		log.Print(err)
		return
	}
	// ... drive traffic, then:
	if err := w.Heal(ctx); err != nil {
		log.Print(err)
	}
}
