package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"version"}, ioStreams{Out: &out, ErrOut: &errOut})
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "doorbuster ") {
		t.Errorf("output %q", out.String())
	}
}

func TestUnknownCommandFails(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"no-such-command"}, ioStreams{Out: &out, ErrOut: &errOut}); code == exitOK {
		t.Fatal("unknown command exited 0")
	}
}

// TestInvariantsWorkerBadInput: the hidden worker command says what was wrong with
// its input instead of hanging or crashing.
func TestInvariantsWorkerBadInput(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"invariants-worker"}, ioStreams{In: strings.NewReader("not json"), Out: &out, ErrOut: &errOut})
	if code == exitOK || !strings.Contains(errOut.String(), "reading the work") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}
