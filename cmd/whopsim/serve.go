package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// The serve command: the sandbox itself, and what `whopsim` with no
// command (or only flags, as before there were commands) runs.

const serveHelp = `Usage: whopsim serve [flags]   (or just: whopsim [flags])

Runs the Whop sandbox: a parent page that frames your app as whop.com does,
a relay in front of the app that adds signed x-whop-user-token headers,
the purchase modal and hosted checkout, Whop's REST API (v1, and v2/v5
payments), signed webhooks with Whop's retry schedule, and the control API
the other whopsim commands use.

  whopsim serve --app http://127.0.0.1:3000
  whopsim serve --state-file whopsim.json --webhook-url http://127.0.0.1:3000/api/webhook

Then open the parent page (http://localhost:8003 by default), and point
the app at the sandbox with the output of ` + "`whopsim env`" + `.

Flags:
`

// config is what the flags say.
type config struct {
	addr, relayAddr, app      string
	publicURL, relayURL       string
	publicSet, relaySet       bool // given as flags, not derived from the addresses
	webhookURL, webhookScheme string
	webhookTimeout, payDelay  time.Duration
	stateFile                 string
	printEnv, verbose         bool
	extraVersions             []string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := newFlagSet("serve", serveHelp, stderr)
	fs.StringVar(&c.addr, "addr", "localhost:8003", "listen address of the parent page, API and control API")
	fs.StringVar(&c.relayAddr, "relay-addr", "localhost:8004", "listen address of the relay in front of the app")
	fs.StringVar(&c.app, "app", "http://127.0.0.1:3000", "URL of the app the relay forwards to")
	fs.StringVar(&c.publicURL, "public-url", "", "URL the browser uses for --addr (default http://<addr>)")
	fs.StringVar(&c.relayURL, "relay-url", "", "URL the browser uses for --relay-addr (default http://<relay-addr>)")
	fs.StringVar(&c.webhookURL, "webhook-url", "", `where webhooks go (default <app>/api/webhook; "off" to record only)`)
	fs.StringVar(&c.webhookScheme, "webhook-scheme", "standard", "webhook signing: standard (Standard Webhooks, v1) or legacy (x-whop-signature, v5)")
	fs.DurationVar(&c.webhookTimeout, "webhook-timeout", 10*time.Second, "how long one delivery attempt may take")
	fs.DurationVar(&c.payDelay, "payment-delay", time.Second, "how long a new payment answers 404, as Whop's do (0 for none)")
	fs.StringVar(&c.stateFile, "state-file", "", "keep state in this JSON file across restarts")
	fs.BoolVar(&c.printEnv, "print-env", false, "print the app's environment from the seed, without starting (for a running sandbox: whopsim env)")
	fs.Func("extra-api-versions", "also accept these Api-Version-Date values, comma-separated, answered as the newest one the sandbox knows",
		func(v string) error {
			for part := range strings.SplitSeq(v, ",") {
				if part = strings.TrimSpace(part); part != "" {
					c.extraVersions = append(c.extraVersions, part)
				}
			}
			return nil
		})
	fs.BoolVar(&c.verbose, "v", false, "log every webhook attempt and API fault")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.app = strings.TrimRight(c.app, "/")
	c.publicSet, c.relaySet = c.publicURL != "", c.relayURL != ""
	if c.publicURL == "" {
		c.publicURL = urlFor(c.addr)
	}
	if c.relayURL == "" {
		c.relayURL = urlFor(c.relayAddr)
	}
	switch c.webhookURL {
	case "":
		c.webhookURL = c.app + "/api/webhook"
	case "off":
		c.webhookURL = ""
	}
	return c, nil
}

// urlFor turns a listen address into the URL a browser on this machine
// uses; ":8003" listens everywhere but is reached as localhost.
func urlFor(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// listenURL is urlFor with the port the listener got, which is the flag's
// unless the flag left it to the system (":0"); the host stays the flag's,
// so localhost is not turned into 127.0.0.1 (the iframe SDK trusts the
// former).
func listenURL(addr string, got net.Addr) string {
	host, _, err := net.SplitHostPort(addr)
	_, port, err2 := net.SplitHostPort(got.String())
	if err != nil || err2 != nil {
		return urlFor(addr)
	}
	return urlFor(net.JoinHostPort(host, port))
}

// serve runs the sandbox until ctx ends.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	level := slog.LevelWarn
	if c.verbose {
		level = slog.LevelInfo
	}
	delay := c.payDelay
	if delay == 0 {
		delay = -1 // the library reads zero as "the default"
	}
	sim, err := whopsim.New(whopsim.Options{
		PublicURL: c.publicURL, RelayURL: c.relayURL,
		WebhookURL: c.webhookURL, WebhookScheme: whopsim.Scheme(c.webhookScheme),
		WebhookTimeout: c.webhookTimeout, PaymentDelay: delay, StateFile: c.stateFile,
		ExtraAPIVersions: c.extraVersions,
		Logger:           slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		return err
	}
	if c.printEnv {
		printEnv(stdout, sim.Seed(), c.publicURL)
		return nil
	}
	relay, err := sim.Relay(c.app)
	if err != nil {
		return err
	}
	mainLn, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (is another sandbox running?)", c.addr, err)
	}
	relayLn, err := net.Listen("tcp", c.relayAddr)
	if err != nil {
		mainLn.Close()
		return fmt.Errorf("listening on %s: %w", c.relayAddr, err)
	}
	// The URLs published in the banner, `whopsim env` and checkout links
	// carry the ports actually listened on.
	if !c.publicSet {
		c.publicURL = listenURL(c.addr, mainLn.Addr())
	}
	if !c.relaySet {
		c.relayURL = listenURL(c.relayAddr, relayLn.Addr())
	}
	sim.SetURLs(c.publicURL, c.relayURL)
	servers := []*http.Server{
		{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second},
		{Handler: relay, ReadHeaderTimeout: 10 * time.Second},
	}
	errc := make(chan error, 2)
	for i, ln := range []net.Listener{mainLn, relayLn} {
		go func() { errc <- servers[i].Serve(ln) }()
	}
	// Only now, serving, and never under --print-env (which make dev runs
	// before the app starts), is what a previous run left undone sent.
	sim.Resume()
	printBanner(stdout, sim, c)
	if !whopsim.HostBundleEmbedded() {
		fmt.Fprintln(stderr, "whopsim: warning: built without the iframe host bundle, so the parent page cannot talk to the app; build with `make whopsim` (or `make assets` first)")
	}

	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sim.EndStreams() // listeners' streams would hold the shutdown up
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range servers {
		srv.Shutdown(shutdownCtx)
	}
	if cerr := sim.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
