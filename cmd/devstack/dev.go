package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/joho/godotenv"
)

const binDir = ".data/bin"

// dev runs the whole stack until ctx ends, then stops what it started in
// reverse order: the app (finishing its requests), the sandbox (saving its
// state), then Postgres if it was ours. Everything listens on loopback only.
func dev(ctx context.Context, ports devPorts, getenv func(string) string, stdout, stderr io.Writer) error {
	if err := ports.checkFree(); err != nil {
		return err
	}
	appAddr, sandboxURL, relayOrigin := ports.app.addr(), ports.sandbox.url(), ports.relay.url()
	db, err := findDatabase(ctx, getenv("DATABASE_URL"), ports.withPooler, ports.pooler.port, stderr)
	if err != nil {
		return err
	}
	defer db.stop()

	fmt.Fprintln(stderr, "build: creditkit and whopsim")
	build := exec.CommandContext(ctx, "go", "build", "-o", binDir+"/", "./cmd/creditkit", "./cmd/whopsim")
	build.Stdout, build.Stderr = stderr, stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}

	simArgs := []string{"--app", "http://" + appAddr, "--state-file", ".data/whopsim.json",
		"--addr", ports.sandbox.addr(), "--public-url", sandboxURL,
		"--relay-addr", ports.relay.addr(), "--relay-url", relayOrigin}
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "whopsim"), append(simArgs, "--print-env")...).Output()
	if err != nil {
		return fmt.Errorf("sandbox environment: %w", err)
	}
	dotenv, _ := godotenv.Read(".env") // a missing .env is fine
	extra, report := appSettings(origins{shell: os.LookupEnv, dotenv: dotenv}, strings.Fields(string(out)), append(db.env(),
		"PORT="+strconv.Itoa(ports.app.port),
		"APP_ENV=development",
		"SANDBOX_ORIGINS="+sandboxURL+","+relayOrigin,
		// Members reach the app through the relay, as through Whop's
		// apps.whop.com origin; the hosted checkout sends them back there.
		"APP_URL="+relayOrigin,
	))
	fmt.Fprintln(stderr, "settings: where the app's configuration comes from")
	for _, line := range report {
		fmt.Fprintln(stderr, "  "+line)
	}
	appEnv := append(os.Environ(), extra...)

	var procs []*child
	defer func() {
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].stop(stderr)
		}
	}()
	sim, err := start("whop", filepath.Join(binDir, "whopsim"), simArgs, os.Environ(), stdout)
	if err != nil {
		return err
	}
	procs = append(procs, sim)
	app, err := start("app", filepath.Join(binDir, "creditkit"), []string{"serve", "-host", "127.0.0.1"}, appEnv, stdout)
	if err != nil {
		return err
	}
	procs = append(procs, app)

	if err := waitReady(ctx, "http://"+appAddr+"/readyz", app); err != nil {
		return err
	}
	if err := waitReady(ctx, sandboxURL+"/.well-known/jwks.json", sim); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n  Creditkit is running against the Whop sandbox.\n\n  Open %s\n\n  (Ctrl-C stops the app, the sandbox and any Postgres this started.)\n\n", sandboxURL)

	select {
	case <-ctx.Done():
		fmt.Fprintln(stderr, "\nstopping…")
		return nil
	case <-app.done:
		return fmt.Errorf("the app exited: %v", app.err)
	case <-sim.done:
		return fmt.Errorf("the sandbox exited: %v", sim.err)
	}
}

// child is a process devstack started, its output prefixed with its name.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func start(name, bin string, args, env []string, out io.Writer) (*child, error) {
	c := &child{name: name, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	c.cmd.Env = env
	// Own process group: the terminal's Ctrl-C reaches devstack only, which
	// then stops each child gracefully, in order.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	c.cmd.Stdout, c.cmd.Stderr = pw, pw
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			mu.Lock()
			fmt.Fprintf(out, "%-5s| %s\n", name, sc.Text())
			mu.Unlock()
		}
	}()
	go func() {
		c.err = c.cmd.Wait()
		pw.Close()
		close(c.done)
	}()
	return c, nil
}

func (c *child) stop(log io.Writer) {
	select {
	case <-c.done:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		fmt.Fprintf(log, "%s did not stop in 30 s; killing it\n", c.name)
		c.cmd.Process.Kill()
		<-c.done
	}
}

func waitReady(ctx context.Context, url string, c *child) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return fmt.Errorf("%s exited before it was ready: %v", c.name, c.err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s was not ready at %s within 60 s", c.name, url)
}
