// Command creditkit is the Creditkit server: `creditkit serve` runs the app
// (migrating the database first unless told not to), `creditkit migrate
// up|down|version` manages the schema by hand, `creditkit check` tries a
// live configuration against Whop and Postgres before going live, and
// `creditkit healthcheck` is the container's health probe.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/creditkit/creditkit/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], config.Environ(".env"), os.Stdout, os.Stderr); err != nil {
		var quiet exitError
		if !errors.As(err, &quiet) {
			fmt.Fprintln(os.Stderr, "creditkit:", err)
		}
		os.Exit(1)
	}
}

// exitError is an error already reported to the user; main only sets the
// exit code.
type exitError struct{ error }

const usage = `usage:
  creditkit serve [-migrate=false]   run the server (applies migrations first by default)
  creditkit migrate up               apply every pending migration
  creditkit migrate down [N]         revert the newest N migrations (default 1)
  creditkit migrate version          print the applied and the newest migration version
  creditkit check                    preflight: the configuration tried against Whop and Postgres (changes nothing)
  creditkit healthcheck              exit 0 when the server on $PORT answers /readyz (the image's HEALTHCHECK)
Configuration comes from the environment and an optional .env file; see .env.example.`

// run is the whole program, with its inputs passed in so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitError{errors.New("no command")}
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, args[1:], getenv, stdout, stderr)
	case "check":
		return checkCmd(ctx, getenv, stdout, stderr)
	case "healthcheck":
		return healthcheckCmd(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "unknown command %q\n%s\n", args[0], usage)
		return exitError{errors.New("unknown command")}
	}
}
