package whopsim

import "time"

// The legacy shapes: REST v2 and v5 payments and the data of legacy (v5)
// webhooks. They carry flat ids and unix seconds where v1 nests objects and
// writes ISO times (PROTOCOL §3).

// unix writes a time as unix seconds.
func unix(t time.Time) int64 { return t.Unix() }

// unixOrNil is unix for optional times.
func unixOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.Unix()
}

// v2Payment is GET /api/v2/payments/{id}. Links are ids unless named in
// expand, which then embeds the object.
func v2Payment(st *State, p *Payment, expand map[string]bool) obj {
	link := func(name, id string, full func() any) any {
		if id == "" {
			return nil
		}
		if expand[name] {
			return full()
		}
		return id
	}
	u := st.Users[p.UserID]
	var membershipMeta any
	if m := st.Memberships[p.MembershipID]; m != nil {
		membershipMeta = meta(m.Metadata)
	}
	return obj{"id": p.ID, "company_id": p.CompanyID, "status": p.Status,
		"user": link("user", p.UserID, func() any {
			return obj{"id": u.ID, "username": u.Username, "email": u.Email, "name": u.Name}
		}),
		"plan": link("plan", p.PlanID, func() any {
			pl := st.Plans[p.PlanID]
			return obj{"id": pl.ID, "plan_type": pl.PlanType, "base_currency": pl.Currency,
				"initial_price": major(pl.InitialPrice, pl.Currency), "renewal_price": major(pl.RenewalPrice, pl.Currency),
				"billing_period": pl.BillingPeriod, "product": orNil(pl.ProductID)}
		}),
		"membership": link("membership", p.MembershipID, func() any {
			m := st.Memberships[p.MembershipID]
			return obj{"id": m.ID, "status": m.Status, "valid": m.Valid(), "metadata": meta(m.Metadata),
				"user": m.UserID, "plan": m.PlanID, "product": m.ProductID}
		}),
		"product": link("product", p.ProductID, func() any {
			pr := st.Products[p.ProductID]
			return obj{"id": pr.ID, "name": pr.Title, "route": pr.Route}
		}),
		"access_pass":      orNil(p.ProductID),
		"final_amount":     major(p.Total, p.Currency),
		"subtotal":         major(p.Total, p.Currency),
		"total":            major(p.Total, p.Currency),
		"refunded_amount":  major(p.RefundedAmount, p.Currency),
		"affiliate_reward": major(0, p.Currency),
		"currency":         p.Currency, "last4": "4242", "card_brand": "visa",
		"payments_failed": boolInt(p.Status != "paid"), "failure_message": orNil(p.FailureMessage),
		"payment_processor": "stripe", "payment_method_type": "card", "billing_reason": p.BillingReason,
		"created_at": unix(p.CreatedAt), "paid_at": unixOrNil(p.PaidAt), "refunded_at": unixOrNil(p.RefundedAt),
		"last_payment_attempt": unix(p.CreatedAt), "next_payment_attempt": nil,
		"billing_address": nil, "membership_metadata": membershipMeta,
		"checkout_request_id": orNil(p.CheckoutID), "acquisition_data": nil}
}

// v5Payment is GET /api/v5/app/payments/{id} and the data of legacy
// payment webhooks (which add amount_after_fees).
func v5Payment(st *State, p *Payment) obj {
	email := any(nil)
	if u := st.Users[p.UserID]; u != nil {
		email = u.Email
	}
	return obj{"id": p.ID, "membership_id": orNil(p.MembershipID), "product_id": orNil(p.ProductID),
		"user_id": p.UserID, "plan_id": p.PlanID, "company_id": p.CompanyID, "line_item_id": nil,
		"created_at": unix(p.CreatedAt), "paid_at": unixOrNil(p.PaidAt), "refunded_at": unixOrNil(p.RefundedAt),
		"last_payment_attempt": unix(p.CreatedAt), "next_payment_attempt": nil,
		"status": p.Status, "subtotal": major(p.Total, p.Currency), "final_amount": major(p.Total, p.Currency),
		"amount_after_fees": major(p.Total-p.Fee, p.Currency), "currency": p.Currency,
		"refunded_amount": major(p.RefundedAmount, p.Currency), "payments_failed": boolInt(p.Status != "paid"),
		"checkout_id": orNil(p.CheckoutID), "card_brand": "visa", "card_last_4": "4242",
		"funding_method": "credit", "wallet_type": nil, "billing_usage_ids": []any{},
		"billing_address": nil, "user_email": email, "metadata": meta(p.Metadata),
		"calculated_statement_descriptor": nil, "issuer_identification_number": nil, "company_buyer_id": nil}
}

// legacyMembership is the data of legacy membership webhooks.
func legacyMembership(m *Membership) obj {
	return obj{"id": m.ID, "product_id": m.ProductID, "user_id": m.UserID, "plan_id": m.PlanID,
		"page_id": m.CompanyID, "status": m.Status, "valid": m.Valid(), "metadata": meta(m.Metadata),
		"created_at": unix(m.CreatedAt), "expires_at": nil, "renewal_period_start": unixOrNil(m.PeriodStart),
		"renewal_period_end": unixOrNil(m.PeriodEnd), "quantity": 1,
		"cancel_at_period_end": m.CancelAtPeriodEnd, "license_key": nil, "checkout_id": orNil(m.CheckoutID),
		"affiliate_username": nil, "manage_url": "https://whop.com/@me/settings/memberships/" + m.ID,
		"company_buyer_id": nil, "marketplace": false}
}

// legacyRefund is the data of legacy refund webhooks.
func legacyRefund(st *State, r *Refund) obj {
	return obj{"id": r.ID, "status": r.Status, "amount": major(r.Amount, r.Currency), "currency": r.Currency,
		"created_at": unix(r.CreatedAt), "payment_id": r.PaymentID, "payment": v5Payment(st, st.Payments[r.PaymentID])}
}

// legacyDispute is the data of legacy dispute webhooks.
func legacyDispute(st *State, d *Dispute) obj {
	return obj{"id": d.ID, "status": d.Status, "amount": major(d.Amount, d.Currency), "currency": d.Currency,
		"reason": d.Reason, "created_at": unix(d.CreatedAt), "payment_id": d.PaymentID,
		"payment": v5Payment(st, st.Payments[d.PaymentID])}
}
