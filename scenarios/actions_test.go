package scenarios

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// actionsBase is a valid scenario of 60 s of traffic and a 1 m drain; the tests append
// actions to it.
const actionsBase = `name: a
scenarios:
  checkout: {executor: constant-vus, exec: sale, vus: 1, duration: 60s}
drain: {timeout: 1m}
`

func TestActions(t *testing.T) {
	src := actionsBase + `actions:
  - {at: 10s, do: kill-connector, duration: 5s}
  - {at: 15s, do: pause-connector}
  - {at: 20s, do: partition-netsuite, duration: 30s}
  - {at: 25s, do: unpause-connector}
  - {at: 30s, do: partition-gateway}
  - {at: 40s, do: heal}
`
	f, err := Parse("a.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Actions) != 6 || f.Actions[2].Duration.Std() != 30*time.Second || f.Actions[5].Do != Heal {
		t.Fatalf("actions %+v", f.Actions)
	}
	type step struct {
		at   time.Duration
		do   ActionKind
		undo bool
	}
	var got []step
	for _, s := range f.ActionTimeline() {
		got = append(got, step{s.At, s.Do, s.Undo})
	}
	want := []step{
		{10 * time.Second, KillConnector, false},
		{15 * time.Second, RestartConnector, true}, // the kill's end comes before the pause listed at the same time
		{15 * time.Second, PauseConnector, false},
		{20 * time.Second, PartitionNetSuite, false},
		{25 * time.Second, UnpauseConnector, false},
		{30 * time.Second, PartitionGateway, false},
		{40 * time.Second, Heal, false},
		{50 * time.Second, Heal, true}, // the partition's own end: healed already, harmless
	}
	if !slices.Equal(got, want) {
		t.Errorf("timeline\n got %v\nwant %v", got, want)
	}

	// Scaling moves the actions with the traffic.
	if err := f.ScaleDuration(0.5); err != nil {
		t.Fatal(err)
	}
	if f.Actions[2].At.Std() != 10*time.Second || f.Actions[2].Duration.Std() != 15*time.Second {
		t.Errorf("scaled: %+v", f.Actions[2])
	}
	// The scenario as run keeps them.
	b, err := f.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("back.yaml", b)
	if err != nil {
		t.Fatalf("canonical form does not load: %v\n%s", err, b)
	}
	if !slices.Equal(back.Actions, f.Actions) {
		t.Errorf("round trip: %+v, want %+v", back.Actions, f.Actions)
	}
}

func TestActionProblems(t *testing.T) {
	tests := []struct {
		name    string
		actions string
		want    []string
	}{
		{
			name:    "unknown action",
			actions: "  - {at: 10s, do: kill-conector}\n",
			want:    []string{`a.yaml:6:19: actions[0].do: expected one of "kill-connector", "restart-connector", "partition-netsuite", "partition-gateway", "heal", "pause-connector", "unpause-connector", got "kill-conector" (did you mean "kill-connector"?)`},
		},
		{
			name:    "missing time",
			actions: "  - {do: heal}\n",
			want:    []string{`a.yaml:6:5: actions[0]: missing required key "at"`},
		},
		{
			name:    "after the traffic",
			actions: "  - {at: 60s, do: kill-connector, duration: 5s}\n",
			want:    []string{`a.yaml:6:10: actions[0].at: expected a time within the traffic (before 1m), got 1m`},
		},
		{
			name:    "out of order",
			actions: "  - {at: 20s, do: kill-connector}\n  - {at: 10s, do: restart-connector}\n",
			want:    []string{`a.yaml:7:10: actions[1].at: expected 20s or later (the time of the action above), got 10s`},
		},
		{
			name:    "duration on an end",
			actions: "  - {at: 10s, do: kill-connector, duration: 5s}\n  - {at: 20s, do: heal, duration: 5s}\n",
			want:    []string{`a.yaml:7:25: actions[1].duration: heal ends another action: a duration applies to kill-connector, pause-connector, partition-netsuite and partition-gateway`},
		},
		{
			name:    "ends after the run",
			actions: "  - {at: 50s, do: partition-netsuite, duration: 2m}\n",
			want:    []string{`a.yaml:6:49: actions[0].duration: the partition-netsuite ends at 2m50s, after the run (traffic 1m + drain timeout 1m)`},
		},
		{
			name:    "restart without a kill",
			actions: "  - {at: 10s, do: restart-connector}\n",
			want:    []string{`a.yaml:6:19: actions[0].do: restart-connector at 10s: the connector is not killed then (give a kill-connector before it)`},
		},
		{
			name:    "killed twice",
			actions: "  - {at: 10s, do: kill-connector, duration: 10s}\n  - {at: 15s, do: kill-connector, duration: 1s}\n",
			want:    []string{`a.yaml:7:19: actions[1].do: the connector is already killed (by actions[0]) at 15s`},
		},
		{
			name:    "kill while paused",
			actions: "  - {at: 10s, do: pause-connector, duration: 10s}\n  - {at: 15s, do: kill-connector, duration: 1s}\n",
			want:    []string{`actions[1].do: the connector is paused (by actions[0]) at 15s: unpause it before killing it`},
		},
		{
			name:    "never restarted",
			actions: "  - {at: 10s, do: kill-connector}\n",
			want:    []string{`a.yaml:6:19: actions[0].do: the connector is killed and never restarted: give the action a duration, or add a later restart-connector`},
		},
		{
			name:    "never healed",
			actions: "  - {at: 10s, do: partition-gateway}\n",
			want:    []string{`actions[0].do: the connector is cut off from the gateway and never healed`},
		},
		{
			name:    "heal with nothing partitioned",
			actions: "  - {at: 10s, do: heal}\n",
			want:    []string{`actions[0].do: heal at 10s: nothing is partitioned then`},
		},
		{
			name:    "unpause by a kill's end",
			actions: "  - {at: 10s, do: unpause-connector}\n",
			want:    []string{`actions[0].do: unpause-connector at 10s: the connector is not paused then`},
		},
		{
			name:    "partitioned twice",
			actions: "  - {at: 10s, do: partition-netsuite, duration: 20s}\n  - {at: 20s, do: partition-netsuite, duration: 1s}\n",
			want:    []string{`actions[1].do: the connector is already cut off by actions[0] at 20s`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("a.yaml", []byte(actionsBase+"actions:\n"+tc.actions))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

func TestSchemaActionsAgreeWithGo(t *testing.T) {
	var kinds []string
	for _, k := range ActionKinds() {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	if got := enumOf(t, schemaDoc(t), "$defs", "action", "properties", "do"); !slices.Equal(got, kinds) {
		t.Errorf("schema actions %v, Go %v", got, kinds)
	}
}
