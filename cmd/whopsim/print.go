package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// printEnv writes the variables the app needs to talk to this sandbox, in
// .env form.
func printEnv(w io.Writer, sd whopsim.Seed, publicURL string) {
	fmt.Fprintf(w, "WHOP_API_KEY=%s\n", sd.App.APIKey)
	fmt.Fprintf(w, "WHOP_APP_ID=%s\n", sd.App.ID)
	fmt.Fprintf(w, "WHOP_COMPANY_ID=%s\n", sd.Owner.ID)
	fmt.Fprintf(w, "WHOP_WEBHOOK_SECRET=%s\n", sd.App.WebhookSecret)
	fmt.Fprintf(w, "WHOP_BASE_URL=%s/api/v1\n", publicURL)
	fmt.Fprintf(w, "WHOP_USER_TOKEN_JWKS_URL=%s/.well-known/jwks.json\n", publicURL)
	fmt.Fprintf(w, "PREMIUM_PRODUCT_ID=%s\n", sd.PremiumProductID)
	fmt.Fprintf(w, "PREMIUM_PLAN_ID=%s\n", sd.PremiumPlanID)
}

// printBanner says what is running, what to open and every seeded id.
func printBanner(w io.Writer, sim *whopsim.Sim, c config) {
	sd := sim.Seed()
	fmt.Fprintf(w, "Whop sandbox for %s (%s)\n\n", sd.App.Name, sd.App.ID)
	fmt.Fprintf(w, "  Open       %s/\n", c.publicURL)
	fmt.Fprintf(w, "  App        %s, framed through the relay at %s\n", c.app, c.relayURL)
	if c.webhookURL != "" {
		fmt.Fprintf(w, "  Webhooks   %s → %s\n", c.webhookScheme, c.webhookURL)
	} else {
		fmt.Fprintf(w, "  Webhooks   off (recorded, not sent)\n")
	}
	fmt.Fprintf(w, "  Control    %s/_sim/ (state, deliveries, faults)\n\n", c.publicURL)
	fmt.Fprintln(w, "Environment for the app (also: whopsim env, while this runs):")
	printEnv(indent{w}, sd, c.publicURL)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nCompanies:")
	for _, co := range []struct {
		c    whopsim.SeedCompany
		role string
	}{{sd.Owner, "app owner"}, {sd.Creator, "creator"}} {
		fmt.Fprintf(tw, "  %s (%s)\t%s\texperience %s\tledger %s\n", co.c.Title, co.role, co.c.ID, co.c.ExperienceID, co.c.LedgerID)
	}
	fmt.Fprintln(tw, "Users (switch on the page):")
	users := append([]whopsim.SeedUser{sd.OwnerAdmin, sd.Admin}, sd.Members...)
	for _, u := range append(users, sd.NoAccess) {
		fmt.Fprintf(tw, "  @%s\t%s\t%s\n", u.Username, u.ID, u.Role)
	}
	fmt.Fprintf(tw, "Premium\tproduct %s\tplan %s ($9.99 every 30 days)\n", sd.PremiumProductID, sd.PremiumPlanID)
	tw.Flush()
}

// indent prefixes each write (one line at a time here) with two spaces.
type indent struct{ w io.Writer }

// Write writes p after the indent.
func (i indent) Write(p []byte) (int, error) {
	if _, err := i.w.Write([]byte("  ")); err != nil {
		return 0, err
	}
	return i.w.Write(p)
}
