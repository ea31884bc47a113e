package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/simctl"
)

func triggerHelp() string {
	var b strings.Builder
	b.WriteString(`Usage: whopsim trigger <event> [flags]

Makes an event happen for real in the running sandbox: the payment,
refund, dispute or membership is recorded, the API answers accordingly,
and its webhooks go out signed, retried on Whop's schedule (10 s, 20 s,
40 s) until the endpoint answers 2xx. Anything the event needs first (a
paid payment to refund, a membership to end) is made too, with its own
webhooks. Prints each event sent and the ids to look up.

Events:
`)
	for _, e := range whopsim.TriggerEvents {
		fmt.Fprintf(&b, "  %-23s %s\n", e.Name, e.Does)
	}
	b.WriteString(`
Examples:
  whopsim trigger payment.succeeded --user @alice --amount 24.99
  whopsim trigger payment.pending --user @alice
  whopsim trigger payment.failed --payment pay_XXXXXXXXXXXXXX
  whopsim trigger refund.created --payment pay_XXXXXXXXXXXXXX --amount 5
  whopsim trigger dispute.lost
  whopsim trigger membership.deactivated --user @carol

Flags:
`)
	return b.String()
}

func triggerCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("trigger", triggerHelp(), stderr)
	client := sandboxFlag(fs)
	var req whopsim.TriggerRequest
	var amount string
	fs.StringVar(&req.User, "user", "", "who it happens to: @username or user id (default: the user selected on the sandbox's page)")
	fs.StringVar(&req.ExperienceID, "experience", "", "experience a payment is made in (default: the creator's)")
	fs.StringVar(&amount, "amount", "", "a payment's price, or the part of a payment to refund, e.g. 24.99")
	fs.StringVar(&req.Currency, "currency", "", "currency of a new payment (default usd)")
	fs.StringVar(&req.PaymentID, "payment", "", "refund or dispute this payment, or end this pending one (payment.succeeded, payment.failed), instead of a new one")
	fs.StringVar(&req.MembershipID, "membership", "", "end this membership (membership.deactivated)")
	fs.StringVar(&req.PlanID, "plan", "", "plan a membership event buys or ends (default: the premium plan)")
	fs.StringVar(&req.Reason, "reason", "", "a dispute's reason (default fraudulent)")
	fs.Func("metadata", "key=value added to a new payment's metadata (repeatable)", func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return fmt.Errorf("want key=value, not %q", v)
		}
		if req.Metadata == nil {
			req.Metadata = map[string]string{}
		}
		req.Metadata[k] = val
		return nil
	})
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, "the event to trigger, e.g. payment.succeeded"); err != nil {
		return err
	}
	req.Event, req.Amount = pos[0], json.Number(amount)
	res, err := client().Trigger(ctx, req)
	if err != nil {
		return err
	}
	if *asJSON {
		return simctl.WriteJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "Triggered %s for %s.\n", res.Event, res.UserID)
	for _, e := range res.Events {
		fmt.Fprintf(stdout, "  sent %-24s %s\n", e.Type, e.ID)
	}
	for _, id := range []struct{ name, v string }{{"payment", res.PaymentID}, {"membership", res.MembershipID},
		{"refund", res.RefundID}, {"dispute", res.DisputeID}} {
		if id.v != "" {
			fmt.Fprintf(stdout, "  %-10s %s\n", id.name, id.v)
		}
	}
	fmt.Fprintln(stdout, "Deliveries: whopsim deliveries")
	return nil
}
