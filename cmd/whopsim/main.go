// Command whopsim is a local Whop for building and testing Whop apps
// offline: `whopsim serve` runs the sandbox (parent page, relay with signed
// user tokens, purchase modal, REST API, signed webhooks with retries), and
// the other commands drive a running one the way the Stripe CLI drives
// Stripe's test mode: trigger events, forward webhooks, list and resend
// deliveries, mint user tokens, print the app's environment. See
// internal/whopsim and docs/sandbox.md.
//
//	whopsim --app http://127.0.0.1:3000
//	whopsim trigger payment.succeeded --user @alice
//	whopsim env >> .env
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/creditkit/creditkit/internal/whopsim/simctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "whopsim:", err)
		os.Exit(1)
	}
}

const usage = `whopsim is a local Whop: it runs your Whop app's whole loop offline, in a
real browser — the whop.com page around the app's iframe, signed user
tokens, the purchase modal, Whop's REST API and signed webhooks with
Whop's retries — with seeded companies, users and plans.

Usage:
  whopsim [serve] [flags]          run the sandbox (the default command)
  whopsim trigger <event> [flags]  make a payment, refund, dispute or membership change happen
  whopsim listen --forward-to URL  send the sandbox's webhooks to your URL and show each attempt
  whopsim deliveries [flags]       list recent webhook deliveries
  whopsim resend <delivery>        deliver one again (same webhook-id, or --new-id)
  whopsim token [--user @alice]    print a user token as Whop's proxy sends it, for curl
  whopsim env [--format json]      print what an app needs to use the sandbox (.env form)

Every command but serve talks to a running sandbox: --sandbox URL, or
$WHOPSIM_URL, or http://localhost:8003 (where serve and ` + "`make dev`" + ` run it).
'whopsim <command> -h' shows a command's flags and examples.
`

// commands maps each command to its function.
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"serve":      serve,
	"trigger":    triggerCmd,
	"listen":     listenCmd,
	"deliveries": deliveriesCmd,
	"resend":     resendCmd,
	"token":      tokenCmd,
	"env":        envCmd,
}

// run is the whole program. With no command, or only flags (as before
// there were commands), it serves.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	name := "serve"
	switch {
	case len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help"):
		// The overview; `whopsim serve -h` has serve's flags.
		fmt.Fprint(stdout, usage)
		return nil
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
		name, args = args[0], args[1:]
	}
	cmd, ok := commands[name]
	if !ok {
		return fmt.Errorf("unknown command %q\n\n%s", name, usage)
	}
	err := cmd(ctx, args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// newFlagSet makes a command's flag set whose -h prints help (text, then
// the flags) to stderr.
func newFlagSet(name, help string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("whopsim "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, help)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags wherever they stand among the positional
// arguments (`whopsim trigger payment.succeeded --user @bob`), which the
// flag package alone stops at, and returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
}

// sandboxFlag adds --sandbox and returns the client it will name.
func sandboxFlag(fs *flag.FlagSet) func() *simctl.Client {
	def := os.Getenv("WHOPSIM_URL")
	if def == "" {
		def = simctl.DefaultURL
	}
	u := fs.String("sandbox", def, "URL of the running sandbox (also $WHOPSIM_URL)")
	return func() *simctl.Client { return simctl.New(*u, nil) }
}

// wantArgs checks the number of positional arguments.
func wantArgs(pos []string, n int, what string) error {
	switch {
	case len(pos) < n:
		return fmt.Errorf("missing %s (see -h)", what)
	case len(pos) > n:
		return fmt.Errorf("unexpected argument %q (see -h)", pos[n])
	}
	return nil
}
