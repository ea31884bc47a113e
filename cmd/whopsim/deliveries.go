package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/simctl"
)

const deliveriesHelp = `Usage: whopsim deliveries [flags]

Lists the running sandbox's recent webhook deliveries, oldest first: one
row per delivery (an event sent to one endpoint, with its retries), with
the number ` + "`whopsim resend`" + ` takes, when it was sent, the event's type
and webhook-id, where it went, how many attempts it took and how the last
one ended.

Examples:
  whopsim deliveries
  whopsim deliveries --event msg_XXXXXXXXXXXXXX --attempts
  whopsim deliveries --json

Flags:
`

func deliveriesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("deliveries", deliveriesHelp, stderr)
	client := sandboxFlag(fs)
	limit := fs.Int("limit", 20, "show the newest N deliveries")
	event := fs.String("event", "", "only the deliveries of this event (msg_…)")
	each := fs.Bool("attempts", false, "one row per attempt instead of per delivery")
	asJSON := fs.Bool("json", false, "print the attempts as JSON")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, ""); err != nil {
		return err
	}
	if *limit < 1 {
		return fmt.Errorf("--limit %d: want how many of the newest deliveries to show, 1 or more", *limit)
	}
	atts, _, err := client().Deliveries(ctx, simctl.DeliveryQuery{EventID: *event})
	if err != nil {
		return err
	}
	groups := groupDeliveries(atts)
	if len(groups) > *limit {
		groups = groups[len(groups)-*limit:]
	}
	if *asJSON {
		var out []whopsim.Attempt
		for _, g := range groups {
			out = append(out, g...)
		}
		if out == nil {
			out = []whopsim.Attempt{}
		}
		return simctl.WriteJSON(stdout, out)
	}
	if len(groups) == 0 {
		fmt.Fprintln(stdout, "No deliveries yet. `whopsim trigger payment.succeeded` sends one.")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DELIVERY\tSENT\tTYPE\tWEBHOOK-ID\tTO\tATTEMPTS\tLAST")
	for _, g := range groups {
		rows := g[len(g)-1:]
		if *each {
			rows = g
		}
		for _, a := range rows {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", a.Delivery, a.At.Local().Format("15:04:05"), a.Type,
				a.EventID, a.URL, a.Attempt, outcome(a))
		}
	}
	return tw.Flush()
}

// groupDeliveries groups attempts by delivery, in the order each delivery
// began.
func groupDeliveries(atts []whopsim.Attempt) [][]whopsim.Attempt {
	var out [][]whopsim.Attempt
	index := map[int64]int{}
	for _, a := range atts {
		i, ok := index[a.Delivery]
		if !ok {
			i = len(out)
			index[a.Delivery] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], a)
	}
	return out
}

const resendHelp = `Usage: whopsim resend <delivery> [--new-id]

Delivers again what a delivery delivered (its number is in the first
column of ` + "`whopsim deliveries`" + `), to the same endpoint, as a new delivery
with its own retries, and prints how the first attempt went. The event
keeps its webhook-id, as Whop's replay does: a receiver that deduplicates
should accept it and do nothing. With --new-id it goes out as a new event
(new webhook-id and timestamp, same data), which a receiver processes as
if it had never seen it.

Examples:
  whopsim resend 42
  whopsim resend 42 --new-id

Flags:
`

func resendCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("resend", resendHelp, stderr)
	client := sandboxFlag(fs)
	newID := fs.Bool("new-id", false, "send it as a new event with a new webhook-id")
	wait := fs.Duration("wait", 15*time.Second, "how long to wait for the first attempt's answer (0: do not wait; at most "+
		whopsim.MaxDeliveriesWait.String()+")")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, "the delivery number to resend, from the first column of `whopsim deliveries`"); err != nil {
		return err
	}
	n, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not a delivery number; `whopsim deliveries` lists them in its first column", pos[0])
	}
	// Checked before resending: a resend is not undone by a bad flag.
	if *wait > whopsim.MaxDeliveriesWait {
		return fmt.Errorf("--wait %s: the sandbox waits at most %s for an answer", *wait, whopsim.MaxDeliveriesWait)
	}
	c := client()
	res, err := c.Resend(ctx, n, *newID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Resent %s %s to %s as delivery %d.\n", res.Type, res.EventID, res.URL, res.Delivery)
	if *wait <= 0 {
		return nil
	}
	atts, _, err := c.Deliveries(ctx, simctl.DeliveryQuery{Delivery: res.Delivery, Wait: *wait})
	if err != nil {
		return err
	}
	if len(atts) == 0 {
		fmt.Fprintf(stdout, "No answer yet after %s; see `whopsim deliveries`.\n", *wait)
		return nil
	}
	fmt.Fprintln(stdout, attemptLine(atts[0]))
	return nil
}
