package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/unlockd/unlockd/internal/app"
	"github.com/unlockd/unlockd/internal/config"
)

// server is a running "unlockd serve".
type server struct {
	url  string
	desc string
	pid  int
	stop func() error
	// inProcess: the app runs in this process, so profile can see it.
	inProcess bool
}

// startServe runs serve on the configuration file cfgPath, whose
// http.listen is addr: by default the binary built from this module, in a
// process of its own as in production; with inProcess, the app in this
// process (for CPU profiles). It returns once /readyz answers 200. serve's
// log goes to dir/serve.log.
func startServe(ctx context.Context, dir, cfgPath, addr string, inProcess bool) (*server, error) {
	logFile, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return nil, err
	}
	var srv *server
	if inProcess {
		srv, err = startApp(ctx, cfgPath, logFile)
	} else {
		srv, err = startBinary(ctx, dir, cfgPath, logFile)
	}
	if err != nil {
		logFile.Close()
		return nil, err
	}
	srv.url = "http://" + addr
	stop := srv.stop
	srv.stop = func() error { defer logFile.Close(); return stop() }
	if err := awaitReady(ctx, srv.url, 60*time.Second); err != nil {
		srv.stop()
		return nil, fmt.Errorf("%w (see %s)", err, logFile.Name())
	}
	return srv, nil
}

// buildServe builds unlockd into dir, once: later calls find it built.
func buildServe(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "unlockd")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/unlockd/unlockd/cmd/unlockd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/unlockd: %w", err)
	}
	return bin, nil
}

func startBinary(ctx context.Context, dir, cfgPath string, logFile *os.File) (*server, error) {
	bin, err := buildServe(ctx, dir)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() error {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			return errors.New("serve did not stop within 15s of SIGTERM: killed")
		}
	}
	return &server{desc: fmt.Sprintf("the built binary, pid %d", cmd.Process.Pid), pid: cmd.Process.Pid, stop: stop}, nil
}

func startApp(ctx context.Context, cfgPath string, logFile *os.File) (*server, error) {
	cfg, err := config.Load(cfgPath, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.New(ctx, cfg, log, app.Options{})
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	stop := func() error {
		cancel()
		err := <-done
		a.Close()
		return err
	}
	return &server{desc: "the app in this process", pid: os.Getpid(), stop: stop, inProcess: true}, nil
}

// awaitReady polls url's /readyz until it answers 200.
func awaitReady(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, err := http.NewRequestWithContext(ctx, "GET", url+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("serve was not ready within %v", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// profile runs fn and, when path is set and the server runs in this
// process, records a CPU profile of it in path.
func (s *server) profile(path string, fn func() error) error {
	if path == "" || !s.inProcess {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	return fn()
}
