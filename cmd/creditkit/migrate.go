package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/creditkit/creditkit/migrations"
)

// migrateCmd needs only DATABASE_URL_DIRECT or DATABASE_URL, so an
// operator can fix the schema before the rest of the configuration exists.
// The direct URL wins: migrations hold session-level advisory locks, which
// a transaction pooler in front of DATABASE_URL cannot keep.
func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	dbURL := strings.TrimSpace(getenv("DATABASE_URL_DIRECT"))
	if dbURL == "" {
		dbURL = strings.TrimSpace(getenv("DATABASE_URL"))
	}
	if dbURL == "" {
		fmt.Fprintln(stderr, "config: DATABASE_URL: is required (e.g. postgres://user:pass@localhost:5432/creditkit); behind a transaction pooler, DATABASE_URL_DIRECT, the primary's own address")
		return exitError{errors.New("no DATABASE_URL")}
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitError{errors.New("migrate needs up, down or version")}
	}
	switch args[0] {
	case "up":
		if err := migrations.Up(ctx, dbURL); err != nil {
			return err
		}
	case "down":
		n := 1
		if len(args) > 1 {
			v, err := strconv.Atoi(args[1])
			if err != nil || v < 1 {
				fmt.Fprintf(stderr, "migrate down: N must be a whole number of 1 or more, got %q\n", args[1])
				return exitError{errors.New("bad N")}
			}
			n = v
		}
		if err := migrations.Down(ctx, dbURL, n); err != nil {
			return err
		}
	case "version":
	default:
		fmt.Fprintf(stderr, "migrate: unknown subcommand %q\n%s\n", args[0], usage)
		return exitError{errors.New("unknown subcommand")}
	}
	st, err := migrations.Version(ctx, dbURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "version %d of %d, dirty=%t\n", st.Version, st.Latest, st.Dirty)
	return nil
}
