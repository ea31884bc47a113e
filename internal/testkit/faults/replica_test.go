//go:build faults

package faults

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/testkit/freeport"
)

// replica is one `creditkit serve` process. It keeps its port across
// restarts, as a pod behind a load balancer keeps its address, unless
// something else took the port (see awaitReady), and appends every run's
// log to one file that a failing test prints.
type replica struct {
	t    *testing.T
	name string
	port atomic.Int64 // read by the scenario's callers while a restart may move it
	// firstPort is the port it was first given; port differs from it
	// once the replica moved.
	firstPort int
	env       []string
	logPath   string
	logFrom   int64 // where this run's lines begin in the log
	cmd       *exec.Cmd
	exited    chan struct{}
	starts    int
	moves     int
	// moved, when set, is told the replica's new URL after it moved to
	// another port: the balancer's target.
	moved func(url string)
}

func newReplica(t *testing.T, name string, port int, env map[string]string) *replica {
	r := &replica{t: t, name: name, logPath: filepath.Join(t.TempDir(), name+".log")}
	r.port.Store(int64(port))
	r.firstPort = port
	// A clean environment: nothing of the developer's shell or .env may
	// change what the replica does (PATH only, for nothing in particular).
	r.env = []string{"PORT=" + strconv.Itoa(port), "PATH=" + os.Getenv("PATH")} // PORT first: moveAndRelaunch rewrites r.env[0]
	for k, v := range env {
		r.env = append(r.env, k+"="+v)
	}
	t.Cleanup(func() {
		r.stop()
		r.checkLog()
		if t.Failed() {
			r.dumpLog()
		}
	})
	return r
}

func (r *replica) url() string { return "http://127.0.0.1:" + strconv.FormatInt(r.port.Load(), 10) }

// launch starts the process without waiting for it to be ready, so two
// replicas can start (and migrate) at the same moment, as in a deploy.
func (r *replica) launch() {
	r.t.Helper()
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		r.t.Fatal(err)
	}
	if fi, err := logf.Stat(); err == nil {
		r.logFrom = fi.Size()
	}
	cmd := exec.Command(suite.binary, "serve")
	cmd.Env = r.env
	cmd.Dir = r.t.TempDir() // no .env file here
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		r.t.Fatalf("%s: start: %v", r.name, err)
	}
	r.starts++
	r.cmd, r.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) {
		cmd.Wait()
		logf.Close()
		close(exited)
	}(r.exited)
}

// awaitReady waits until /readyz answers 200 (database reachable, schema
// current) from this run of the replica, which its log says is serving, or
// until the process dies: a 200 from whatever else took the port is not
// this replica's. A replica that died because its port was taken between
// freeport's check and its bind (by another test process that picked the
// same port) is started again on a new port, and the balancer told, up to
// three times.
func (r *replica) awaitReady(timeout time.Duration) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// Each probe gives up after 2 s: whatever took the port may take the
	// connection and never answer.
	probe := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.url()+"/readyz", nil)
		if res, err := probe.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK && r.running() && r.thisRunLogged(`"msg":"serving"`) {
				return
			}
		}
		select {
		case <-r.exited:
			if r.portTaken() && r.moves < 3 {
				r.moveAndRelaunch()
				continue
			}
			r.dumpLog()
			r.t.Fatalf("%s exited before it was ready", r.name)
		case <-ctx.Done():
			r.dumpLog()
			r.t.Fatalf("%s not ready after %v", r.name, timeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// portTaken says whether the run that just ended failed to bind its port.
func (r *replica) portTaken() bool { return r.thisRunLogged("bind: address already in use") }

// thisRunLogged says whether the current run's part of the log holds text.
func (r *replica) thisRunLogged(text string) bool {
	b, _ := os.ReadFile(r.logPath)
	if int64(len(b)) < r.logFrom {
		return false
	}
	return bytes.Contains(b[r.logFrom:], []byte(text))
}

// moveAndRelaunch starts the replica again on a new port.
func (r *replica) moveAndRelaunch() {
	r.t.Helper()
	old, port := r.port.Load(), freeport.For(r.t)
	r.port.Store(int64(port))
	r.env[0] = "PORT=" + strconv.Itoa(port)
	r.moves++
	r.t.Logf("%s: port %d was taken before it could bind; moving to %d", r.name, old, port)
	if r.moved != nil {
		r.moved(r.url())
	}
	r.launch()
}

// start launches the replica and waits until it is ready.
func (r *replica) start() {
	r.t.Helper()
	r.launch()
	r.awaitReady(60 * time.Second)
}

// kill9 is a crash: no shutdown, no deferred code, sockets reset.
func (r *replica) kill9() {
	r.t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		r.t.Fatalf("%s: kill -9: %v", r.name, err)
	}
	<-r.exited
}

// stop shuts the replica down gracefully (SIGTERM), or kills it if it does
// not stop in time.
func (r *replica) stop() {
	if r.cmd == nil || !r.running() {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(40 * time.Second):
		r.t.Errorf("%s did not stop within 40 s of SIGTERM; killing it", r.name)
		r.cmd.Process.Kill()
		<-r.exited
	}
}

func (r *replica) running() bool {
	select {
	case <-r.exited:
		return false
	default:
		return true
	}
}

// checkLog fails the test on what a replica must never log: a data race
// (FAULTS_RACE=1) or a panic.
func (r *replica) checkLog() {
	b, _ := os.ReadFile(r.logPath)
	for _, bad := range []string{"WARNING: DATA RACE", "panic:", `"msg":"panic"`} {
		if n := bytes.Count(b, []byte(bad)); n > 0 {
			r.t.Errorf("%s logged %q %d times (log: %s)", r.name, bad, n, r.logPath)
		}
	}
}

// dumpLog prints the end of the replica's log, for a failing test.
func (r *replica) dumpLog() {
	b, _ := os.ReadFile(r.logPath)
	if len(b) > 8000 {
		b = b[len(b)-8000:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	fmt.Printf("---- last lines of %s's log (%s) ----\n%s\n", r.name, r.logPath, b)
}

// countLog counts the lines of the replica's log (every run of it) that re
// matches.
func (r *replica) countLog(re *regexp.Regexp) int {
	b, _ := os.ReadFile(r.logPath)
	n := 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		if re.Match(line) {
			n++
		}
	}
	return n
}
