package certify

import (
	"errors"
	"io/fs"
	"slices"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/harness/rundir"
)

// TestPlayedActions: the harness's actions.json becomes the case's actions, times from
// the start of the traffic; a step that failed is a reason, a step skipped is not.
func TestPlayedActions(t *testing.T) {
	start := time.Date(2025, 11, 28, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := start.Add(d); return &v }
	tests := []struct {
		name   string
		steps  []rundir.ActionStep
		want   []ActionResult
		failed int
	}{
		{"done", []rundir.ActionStep{
			{Do: "kill-connector", AtMs: 12000, Time: at(12006 * time.Millisecond), How: rundir.ActionBySignal},
			{Do: "restart-connector", Undo: true, AtMs: 15000, Time: at(15250 * time.Millisecond), How: rundir.ActionBySignal},
		}, []ActionResult{{Do: "kill-connector", AtMs: 12000, DoneMs: 12006}, {Do: "restart-connector", AtMs: 15000, DoneMs: 15250}}, 0},
		{"failed and skipped", []rundir.ActionStep{
			{Do: "kill-connector", AtMs: 12000, Error: "kill -9: no such process"},
			{Do: "restart-connector", Undo: true, AtMs: 15000, Error: "not done: the connector was not killed"},
		}, []ActionResult{{Do: "kill-connector", AtMs: 12000, Error: "kill -9: no such process"},
			{Do: "restart-connector", AtMs: 15000, Error: "not done: the connector was not killed"}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := rundir.WriteJSON(dir+"/"+rundir.ActionsFile, rundir.Actions{Version: rundir.Version, TrafficStartedAt: start, Steps: tt.steps}); err != nil {
				t.Fatal(err)
			}
			got, failed, err := playedActions(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) || len(failed) != tt.failed {
				t.Errorf("got %+v, failed %q; want %+v, %d failed", got, failed, tt.want, tt.failed)
			}
		})
	}
	if _, _, err := playedActions(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no actions.json: %v", err)
	}
}
