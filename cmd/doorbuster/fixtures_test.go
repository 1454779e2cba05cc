package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doorbuster/doorbuster/fixtures"
)

func TestFixturesCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "w")
	var out, errOut bytes.Buffer
	code := run([]string{"fixtures", "--seed", "9", "--size", "small", "--out", dir}, ioStreams{Out: &out, ErrOut: &errOut})
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	got, err := os.ReadFile(filepath.Join(dir, "world.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := fixtures.Write(&want, 9, fixtures.Small); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("world.json differs from fixtures.Write")
	}
	if _, err := fixtures.Load(filepath.Join(dir, "world.json")); err != nil {
		t.Errorf("world.json does not load: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("out dir holds %d entries, want only world.json", len(entries))
	}
}

func TestFixturesCommandErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad size", []string{"fixtures", "--size", "huge", "--out", t.TempDir()}, `"huge"`},
		{"out is a file", []string{"fixtures", "--out", file}, "--out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tt.args, ioStreams{Out: &out, ErrOut: &errOut})
			if code != exitSetup || !strings.Contains(errOut.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %s", code, errOut.String(), exitSetup, tt.want)
			}
		})
	}
}

func TestFixturesHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"fixtures", "--help"}, ioStreams{Out: &out, ErrOut: &errOut}); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), "doorbuster fixtures --seed 7 --size large") {
		t.Errorf("help has no example:\n%s", out.String())
	}
}
