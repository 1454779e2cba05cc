package compose

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
)

// Dockerfile is compose/Dockerfile, the one recipe for the Doorbuster image: `make
// images` and BuildImage both build from it.
//
//go:embed Dockerfile
var Dockerfile []byte

// ModulePath is the Go module BuildImage compiles.
const ModulePath = "github.com/doorbuster/doorbuster"

// DefaultImage is the tag `make images` gives the Doorbuster image.
const DefaultImage = "doorbuster:dev"

// BuildOptions say how to build the Doorbuster image.
type BuildOptions struct {
	// RepoDir is the root of the doorbuster module; "" searches upward from the
	// working directory for its go.mod.
	RepoDir string
	// Tag names the image ("repo:tag"); "" is DefaultImage. ExtraTags are added.
	Tag       string
	ExtraTags []string
	// Version is compiled in (doorbuster version) and labelled; "" asks git
	// (describe --always --dirty), else "dev". Revision is labelled; "" asks git.
	Version  string
	Revision string
	// Labels are added to the image (Up adds its run label).
	Labels map[string]string
	// GoCommand is the go tool; "" finds "go" on PATH, then in GOROOT.
	GoCommand string
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// BuildImage compiles a static doorbuster binary (CGO_ENABLED=0, GOOS=linux) from the
// repository into a temporary build context holding only the binary, compose/Dockerfile
// and the empty data/ and tmp/ directories, and builds the image from it. Nothing is
// pulled: the base is scratch.
//
// It returns the image's tag and a cleanup that removes the tags it applied (an image
// that keeps another tag, such as one `make images` gave it, stays). Call cleanup even
// when err is not nil; it is never nil.
func BuildImage(ctx context.Context, opts BuildOptions) (image string, cleanup func(context.Context) error, err error) {
	tags := append([]string{cmpOr(opts.Tag, DefaultImage)}, opts.ExtraTags...)
	log := opts.Logger
	if log == nil {
		log = discardLogger()
	}
	var cli *client.Client
	cleanup = func(ctx context.Context) error {
		if cli == nil {
			return nil
		}
		defer cli.Close()
		return removeImages(context.WithoutCancel(ctx), cli, tags)
	}

	repo, err := findRepo(opts.RepoDir)
	if err != nil {
		return tags[0], cleanup, err
	}
	version, revision := opts.Version, opts.Revision
	if version == "" {
		version = gitOutput(ctx, repo, "describe", "--always", "--dirty")
		if version == "" {
			version = "dev"
		}
	}
	if revision == "" {
		revision = cmpOr(gitOutput(ctx, repo, "rev-parse", "HEAD"), "unknown")
	}

	dir, err := os.MkdirTemp("", "doorbuster-image-*")
	if err != nil {
		return tags[0], cleanup, fmt.Errorf("compose: build context: %w", err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "doorbuster")
	start := time.Now()
	if err := goBuild(ctx, opts.GoCommand, repo, bin, version); err != nil {
		return tags[0], cleanup, err
	}
	log.Info("compiled doorbuster for the image", "version", version, "took", time.Since(start).Round(time.Millisecond))

	cli, err = newClient(ctx)
	if err != nil {
		return tags[0], cleanup, err
	}
	buildCtx, err := buildContext(bin)
	if err != nil {
		return tags[0], cleanup, err
	}
	created := time.Now().UTC().Format(time.RFC3339)
	start = time.Now()
	res, err := cli.ImageBuild(ctx, buildCtx, client.ImageBuildOptions{
		Tags:        tags,
		Dockerfile:  "Dockerfile",
		Remove:      true,
		ForceRemove: true,
		PullParent:  false,
		Version:     build.BuilderV1, // the classic builder: no BuildKit or buildx needed
		Labels:      opts.Labels,
		BuildArgs: map[string]*string{
			"VERSION":  &version,
			"REVISION": &revision,
			"CREATED":  &created,
		},
	})
	if err != nil {
		return tags[0], cleanup, fmt.Errorf("compose: docker build %s: %w", tags[0], err)
	}
	defer res.Body.Close()
	if err := readBuildOutput(res.Body); err != nil {
		return tags[0], cleanup, fmt.Errorf("compose: docker build %s: %w", tags[0], err)
	}
	log.Info("built image", "image", tags[0], "took", time.Since(start).Round(time.Millisecond))
	return tags[0], cleanup, nil
}

// findRepo returns dir, or the nearest directory at or above the working directory
// whose go.mod declares ModulePath.
func findRepo(dir string) (string, error) {
	if dir != "" {
		if !isModuleRoot(dir) {
			return "", fmt.Errorf("compose: %s is not the root of %s (no go.mod declaring it)", dir, ModulePath)
		}
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("compose: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if isModuleRoot(d) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("compose: no go.mod of %s at or above %s; set BuildOptions.RepoDir", ModulePath, wd)
		}
	}
}

func isModuleRoot(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == ModulePath
		}
	}
	return false
}

// gitOutput runs git in dir and returns its trimmed output, "" on any failure.
func gitOutput(ctx context.Context, dir string, args ...string) string {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func goBuild(ctx context.Context, goCmd, repo, out, version string) error {
	if goCmd == "" {
		var err error
		if goCmd, err = exec.LookPath("go"); err != nil {
			goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
	}
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath",
		"-ldflags", "-s -w -X main.version="+version, "-o", out, "./cmd/doorbuster")
	cmd.Dir = repo
	// The engine runs linux containers of the host's architecture.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("compose: go build ./cmd/doorbuster in %s: %w\n%s", repo, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// buildContext is the tar of the image's build context: the Dockerfile, the binary,
// data/ (the volume's initial content) and tmp/ (world-writable, sticky).
func buildContext(bin string) (io.Reader, error) {
	f, err := os.Open(bin)
	if err != nil {
		return nil, fmt.Errorf("compose: build context: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("compose: build context: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	for _, h := range []*tar.Header{
		{Name: "data/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now},
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: now},
		{Name: "Dockerfile", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(Dockerfile)), ModTime: now},
	} {
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Name == "Dockerfile" {
			if _, err := tw.Write(Dockerfile); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "doorbuster", Typeflag: tar.TypeReg, Mode: 0o755, Size: st.Size(), ModTime: st.ModTime()}); err != nil {
		return nil, err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return nil, fmt.Errorf("compose: build context: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}

// readBuildOutput drains the engine's JSON message stream and returns the build's
// error, if any, with the last lines of output.
func readBuildOutput(r io.Reader) error {
	dec := json.NewDecoder(r)
	var tail []string
	for {
		var m struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading the build output: %w", err)
		}
		if s := strings.TrimSpace(m.Stream); s != "" {
			tail = append(tail, s)
			if len(tail) > 10 {
				tail = tail[1:]
			}
		}
		if m.Error != "" {
			return fmt.Errorf("%s\n%s", m.Error, strings.Join(tail, "\n"))
		}
	}
}

// removeImages removes tags; an image with no tag left is deleted with its untagged
// parents (the build's intermediate layers). A tag already gone is not an error.
func removeImages(ctx context.Context, cli *client.Client, tags []string) error {
	var errs []error
	for _, tag := range tags {
		_, err := cli.ImageRemove(ctx, tag, client.ImageRemoveOptions{PruneChildren: true})
		if err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("compose: remove image %s: %w", tag, err))
		}
	}
	return errors.Join(errs...)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
