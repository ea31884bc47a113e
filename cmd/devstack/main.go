// Command devstack is `make dev`: from a fresh clone it finds (or starts) a
// Postgres, builds and starts the Whop sandbox and the app behind it, and
// prints the one URL to open. Ctrl-C stops everything it started.
//
// `devstack postgres` only makes sure a project-local Postgres runs and
// prints its URL; .ci/run uses it when the machine's own server is unusable.
// `devstack hold PORT…` keeps ports taken while .ci/run runs the tests.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/creditkit/creditkit/internal/config"
	"github.com/creditkit/creditkit/internal/testkit/localpg"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], config.Environ(".env"), os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, localpg.ErrNoBinaries) {
			fmt.Fprintln(os.Stderr, "make dev: no PostgreSQL found: set DATABASE_URL to a running server, or install one (Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql@16)")
		} else {
			fmt.Fprintln(os.Stderr, "make dev:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "postgres":
			return postgresCmd(ctx, args[1:], stdout, stderr)
		case "hold":
			return holdCmd(ctx, args[1:], stdout)
		}
	}
	ports, err := parsePorts(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	return dev(ctx, ports, getenv, stdout, stderr)
}
