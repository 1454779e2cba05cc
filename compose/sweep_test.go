package compose

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// TestSweepRemovesLateContainers shows the teardown race a canceled Up leaves behind
// and that sweepRun wins it: a container the engine creates after a sweep has listed
// the run's containers holds the run's volume ("volume is in use", a transient error)
// and re-creates a named volume without the label; sweepRun, settling, removes both.
func TestSweepRemovesLateContainers(t *testing.T) {
	if err := Available(t.Context()); err != nil {
		if os.Getenv("DOORBUSTER_REQUIRE_DOCKER") == "1" {
			t.Fatalf("Docker is required (DOORBUSTER_REQUIRE_DOCKER=1) but not reachable: %v", err)
		}
		t.Skipf("no Docker engine reachable (%v); set DOORBUSTER_REQUIRE_DOCKER=1 to fail instead", err)
	}
	ctx := t.Context()
	cli, err := newClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	run := fmt.Sprintf("sweep-test-%d", time.Now().UnixNano())
	labels := map[string]string{LabelRun: run}
	prefix := "doorbuster-" + run + "-"
	image := "doorbuster-sweep-test:" + run
	t.Cleanup(func() {
		ctx := context.Background()
		if err := sweepRun(ctx, cli, run, 0, discardLogger()); err != nil {
			t.Errorf("final sweep: %v", err)
		}
		if err := removeImages(ctx, cli, []string{image}); err != nil {
			t.Error(err)
		}
		if left, err := Leftovers(ctx, run); err != nil || len(left) > 0 {
			t.Errorf("left behind: %v %v", left, err)
		}
	})
	buildScratchImage(t, cli, image, labels)

	// What a canceled Up had made: a network, a volume and a created (never started)
	// container on both.
	if _, err := cli.NetworkCreate(ctx, prefix+"world", client.NetworkCreateOptions{Driver: "bridge", Labels: labels}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: prefix + "books", Labels: labels}); err != nil {
		t.Fatal(err)
	}
	create := func(name, volume string) error {
		_, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name:   prefix + name,
			Config: &container.Config{Image: image, Cmd: []string{"/nothing"}, Labels: labels},
			HostConfig: &container.HostConfig{
				Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: volume, Target: "/data"}},
			},
			NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{prefix + "world": {}}},
		})
		return err
	}
	if err := create("sim", prefix+"books"); err != nil {
		t.Fatal(err)
	}

	// The error Close met under load: the engine refuses to remove a volume a
	// container holds. It must count as transient.
	_, err = cli.VolumeRemove(ctx, prefix+"books", client.VolumeRemoveOptions{Force: true})
	if err == nil {
		t.Fatal("the engine removed a volume a container holds")
	}
	if !isTransient(err) {
		t.Errorf("isTransient(%v) = false", err)
	}

	// A container that shows up while sweepRun settles (the engine finishing a create
	// Up had asked for) is removed too, and so is the volume it re-created unlabelled.
	type result struct {
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	clean := make(chan struct{}, 1)
	log := slog.New(slog.NewTextHandler(signalWriter{"nothing of the run left", clean}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() {
		err := sweepRun(ctx, cli, run, settleQuiet+3*time.Second, log)
		done <- result{err, time.Now()}
	}()
	// After a sweep found the run gone, the late one.
	select {
	case <-clean:
	case res := <-done:
		t.Fatalf("sweepRun returned (%v) without saying it found the run gone", res.err)
	case <-time.After(30 * time.Second):
		t.Fatal("no sweep found the run gone within 30s")
	}
	lateErr := create("connector", prefix+"outbox")
	lateAt := time.Now()
	res := <-done
	if res.err != nil {
		t.Fatalf("sweepRun: %v", res.err)
	}
	if lateErr != nil {
		t.Fatalf("create the late container: %v", lateErr)
	}
	if res.at.Before(lateAt) {
		t.Fatalf("sweepRun returned %v before the late container was created: it did not settle long enough", lateAt.Sub(res.at))
	}
	left, err := Leftovers(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	// Only the test image is left (removed by the cleanup).
	if len(left) != 1 {
		t.Errorf("after sweepRun: %v", left)
	}
}

// signalWriter signals on c (without blocking) when a write holds msg.
type signalWriter struct {
	msg string
	c   chan struct{}
}

func (w signalWriter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.msg) {
		select {
		case w.c <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// buildScratchImage builds an image of one empty file, from scratch: nothing to pull.
func buildScratchImage(t *testing.T, cli *client.Client, tag string, labels map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range map[string]string{"Dockerfile": "FROM scratch\nCOPY nothing /nothing\n", "nothing": ""} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := cli.ImageBuild(t.Context(), &buf, client.ImageBuildOptions{
		Tags: []string{tag}, Labels: labels, Remove: true, ForceRemove: true, Version: build.BuilderV1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := readBuildOutput(res.Body); err != nil {
		t.Fatalf("build %s: %v", tag, err)
	}
}
