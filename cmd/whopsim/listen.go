package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/simctl"
)

const listenHelp = `Usage: whopsim listen --forward-to URL [--forward-to URL…] [flags]

Delivers every new webhook of the running sandbox to each URL as well —
your app on another port, a request bin, a second service — signed in
the scheme you choose with that endpoint's secret, and prints each
attempt (time, type, webhook-id, where, status) as it happens. Failed
attempts are retried on Whop's schedule (10 s, 20 s, 40 s). The app's own
webhook URL (serve --webhook-url) keeps receiving as before. Ctrl-C stops
forwarding.

The secret is the app's WHOP_WEBHOOK_SECRET unless --secret or
--new-secret says otherwise, so an app set up with ` + "`whopsim env`" + ` verifies
the deliveries as they are.

Examples:
  whopsim listen --forward-to http://localhost:3000/api/webhooks
  whopsim listen --forward-to http://localhost:5000/hook --scheme legacy --events 'payment.*,refund.*'

Flags:
`

func listenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("listen", listenHelp, stderr)
	client := sandboxFlag(fs)
	var req simctl.ListenRequest
	fs.Func("forward-to", "URL to deliver to (repeatable)", func(v string) error {
		req.ForwardTo = append(req.ForwardTo, v)
		return nil
	})
	scheme := fs.String("scheme", "standard", "signing: standard (Standard Webhooks, v1 body) or legacy (x-whop-signature, v5 body)")
	fs.StringVar(&req.Secret, "secret", "", "sign with this secret (default: the app's webhook secret)")
	fs.BoolVar(&req.NewSecret, "new-secret", false, "sign with a fresh secret, printed when forwarding starts")
	events := fs.String("events", "", "only these types, comma-separated; 'refund.*' takes a whole kind (default: all)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, ""); err != nil {
		return err
	}
	if len(req.ForwardTo) == 0 {
		return errors.New("--forward-to is required: the URL to deliver to, e.g. http://localhost:3000/api/webhook")
	}
	req.Scheme = whopsim.Scheme(*scheme)
	for e := range strings.SplitSeq(*events, ",") {
		if e = strings.TrimSpace(e); e != "" {
			req.Events = append(req.Events, e)
		}
	}
	c := client()
	appSecret := ""
	if env, err := c.Env(ctx); err == nil {
		appSecret = env.WebhookSecret
	}
	err = c.Listen(ctx, req, func(ev simctl.ListenEvent) {
		switch ev.Type {
		case "ready":
			fmt.Fprintf(stdout, "Ready. Forwarding the sandbox at %s to:\n", c.URL())
			for _, ep := range ev.Endpoints {
				note := ""
				if ep.Secret == appSecret {
					note = " (the app's WHOP_WEBHOOK_SECRET)"
				}
				fmt.Fprintf(stdout, "  %s  %s, secret %s%s\n", ep.URL, ep.Scheme, ep.Secret, note)
			}
			fmt.Fprintln(stdout, "Waiting for events (`whopsim trigger payment.succeeded` makes one). Ctrl-C stops.")
		case "attempt":
			fmt.Fprintln(stdout, attemptLine(*ev.Attempt))
		case "closing":
			fmt.Fprintln(stdout, "The sandbox is stopping.")
		}
	})
	if errors.Is(err, simctl.ErrSandboxStopped) {
		return fmt.Errorf("stopped forwarding: the sandbox at %s stopped", c.URL())
	}
	return err
}

// attemptLine is one delivery attempt as listen and resend print it:
// time, type, webhook-id, where, and what happened.
func attemptLine(a whopsim.Attempt) string {
	return fmt.Sprintf("%s  %-24s %s  → %s  %s", a.At.Local().Format("15:04:05"), a.Type, a.EventID, a.URL, outcome(a))
}

// outcome says what became of an attempt, with the next try if any.
func outcome(a whopsim.Attempt) string {
	var s string
	switch {
	case a.Outcome == whopsim.OutcomeNoEndpoint:
		return "not sent: no endpoint"
	case a.Outcome == whopsim.OutcomeDropped:
		return "dropped (fault)"
	case a.Status == 0:
		s = "no answer: " + a.Error
	default:
		s = fmt.Sprintf("%d", a.Status)
	}
	switch a.Outcome {
	case whopsim.OutcomeDelivered:
		s += fmt.Sprintf(" delivered (%d ms)", a.ElapsedMS)
	case whopsim.OutcomeRetrying:
		s += " — retrying"
		if a.NextAt != nil {
			s += " in " + a.NextAt.Sub(a.At).Round(time.Second).String()
		}
	case whopsim.OutcomeGaveUp:
		s += " — gave up after " + fmt.Sprint(a.Attempt) + " attempts"
	}
	if len(a.Faults) > 0 {
		s += " [" + strings.Join(a.Faults, ", ") + "]"
	}
	return s
}
