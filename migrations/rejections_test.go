package migrations_test

import (
	"context"
	"testing"

	"github.com/creditkit/creditkit/migrations"
)

// TestRejectionsSayWhetherTheBuyerWasCharged applies 000014 to refusals
// written before it: each is read once from its reason, and only one whose
// payment charged the purchase's buyer counts (not a payment read before it
// was paid, another user's, another company's, or one naming no purchase
// the app has). A top-up's refusal (source 'topup') is allowed from then on.
func TestRejectionsSayWhetherTheBuyerWasCharged(t *testing.T) {
	ctx := context.Background()
	db := dbAt(t, ctx, 13)
	charged := map[string]bool{
		"payment amount 100 is below the price 499":          true,
		`payment currency "eur" is not the purchase's "usd"`: true,
		"payment is for another checkout configuration":      true,
		"payment is disputed (dispute_needs_response)":       true,
		"purchase already paid by another payment":           true,
		`payment status is "pending", not paid`:              false,
		"payment user is not the purchase's user":            false,
		"payment belongs to another company":                 false,
		"metadata names an unknown purchase":                 false,
	}
	for reason := range charged {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO payment_rejections (payment_id, purchase_id, source, reason)
			VALUES ('pay_1', 'pur_1', 'webhook', $1)`, reason); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO payment_rejections (payment_id, purchase_id, source, reason)
		VALUES ('pay_2', '', 'webhook', 'payment is disputed (dispute_warning)')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO payment_rejections (payment_id, purchase_id, source, reason)
		VALUES ('pay_3', 'pur_3', 'topup', 'payment is disputed (dispute_warning)')`); err == nil {
		t.Fatal("000013 took a refusal from 'topup'; the test no longer shows what 000014 allows")
	}
	if err := migrations.UpTo(ctx, db.URL, 14); err != nil {
		t.Fatalf("up to 000014: %v", err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT payment_id, reason, buyer_charged FROM payment_rejections`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var payment, reason string
		var got bool
		if err := rows.Scan(&payment, &reason, &got); err != nil {
			t.Fatal(err)
		}
		want := charged[reason] && payment == "pay_1" // pay_2 names no purchase
		if got != want {
			t.Errorf("%s %q: buyer_charged %t, want %t", payment, reason, got, want)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != len(charged)+1 {
		t.Fatalf("%d refusals after the migration (%v), want %d", n, err, len(charged)+1)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO payment_rejections (payment_id, purchase_id, source, reason, buyer_charged)
		VALUES ('pay_3', 'pur_3', 'topup', 'payment is disputed (dispute_warning)', true)`); err != nil {
		t.Fatalf("a top-up's refusal after 000014: %v", err)
	}
}
