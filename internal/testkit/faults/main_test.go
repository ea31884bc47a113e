//go:build faults

package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/testkit/freeport"
	"github.com/creditkit/creditkit/internal/testkit/localpg"
)

// suite is what every scenario shares: the creditkit binary, built once,
// and the Postgres cluster the tests own (and may stop).
var suite struct {
	binary  string
	cluster *localpg.Cluster
	dir     string
}

// TestMain builds the server and starts a private Postgres cluster. Both are
// shared by the scenarios, which run one after another: scenario 3 stops
// the cluster, which must not disturb anything else.
func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	start := time.Now()
	dir, err := os.MkdirTemp("", "creditkit-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		return 1
	}
	// As root, Postgres runs as the postgres user, which must get through.
	os.Chmod(dir, 0o755)
	suite.dir = dir
	defer os.RemoveAll(dir)

	suite.binary = filepath.Join(dir, "creditkit")
	args := []string{"build", "-o", suite.binary}
	if os.Getenv("FAULTS_RACE") == "1" {
		// Replicas built with the race detector: slower, and any race they
		// report in their logs fails the scenario (see replica.checkLog).
		args = append(args, "-race")
	}
	build := exec.Command(goTool(), append(args, "github.com/creditkit/creditkit/cmd/creditkit")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "faults: go build ./cmd/creditkit:", err)
		return 1
	}

	port, err := freeport.Pick()
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		return 1
	}
	c, err := localpg.Open(filepath.Join(dir, "pg"), port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults: a Postgres cluster of our own is required:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		return 1
	}
	defer c.Stop()
	suite.cluster = c
	fmt.Printf("faults: built creditkit and started Postgres on 127.0.0.1:%d in %.1f s\n", port, time.Since(start).Seconds())

	code := m.Run()
	fmt.Printf("faults: whole suite took %.1f s\n", time.Since(start).Seconds())
	return code
}

// goTool is the go command that is running these tests.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
