package whopsim

import (
	"time"
)

// The REST v1 shapes (PROTOCOL §2–§3; field names from Whop's v1 SDK
// types). Maps rather than structs because Whop writes explicit nulls for
// absent links and the shapes are only ever encoded.

type obj = map[string]any

// iso writes a time as v1 does: ISO-8601 in UTC with milliseconds and Z.
func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// isoOrNil is iso for optional times.
func isoOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return iso(*t)
}

// orNil turns an empty string into a JSON null.
func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// meta returns metadata as an object, never null, once there is any.
func meta(m map[string]any) any {
	if m == nil {
		return obj{}
	}
	return m
}

func v1User(u *User) obj {
	return obj{"id": u.ID, "username": u.Username, "name": u.Name, "bio": orNil(u.Bio),
		"created_at": iso(u.CreatedAt), "profile_picture": nil}
}

// v1UserRef is the short user object payments and memberships embed.
func v1UserRef(u *User) any {
	if u == nil {
		return nil
	}
	return obj{"id": u.ID, "username": u.Username, "name": u.Name, "email": u.Email}
}

func v1Company(st *State, c *Company) obj {
	owner := st.Users[c.OwnerID]
	members := map[string]bool{}
	for _, m := range st.Memberships {
		if m.CompanyID == c.ID && m.Valid() {
			members[m.UserID] = true
		}
	}
	return obj{"id": c.ID, "title": c.Title, "route": c.Route, "created_at": iso(c.CreatedAt),
		"updated_at": iso(c.CreatedAt), "description": nil, "logo": nil, "metadata": nil,
		"member_count": len(members), "owner_user": obj{"id": owner.ID, "name": owner.Name, "username": owner.Username},
		"published_reviews_count": 0, "send_customer_emails": true, "social_links": []any{},
		"target_audience": nil, "verified": false, "affiliate_instructions": nil,
		"featured_affiliate_product": nil}
}

func v1Experience(st *State, e *Experience) obj {
	c := st.Companies[e.CompanyID]
	products := []any{}
	for _, id := range e.ProductIDs {
		if p := st.Products[id]; p != nil {
			products = append(products, obj{"id": p.ID, "route": p.Route, "title": p.Title})
		}
	}
	return obj{"id": e.ID, "name": e.Name, "created_at": iso(e.CreatedAt), "image": nil,
		"is_public": false, "order": nil, "products": products,
		"app":     obj{"id": st.App.ID, "name": st.App.Name, "icon": nil},
		"company": obj{"id": c.ID, "route": c.Route, "title": c.Title}}
}

func v1Plan(p *Plan) obj {
	period := any(nil)
	if p.BillingPeriod > 0 {
		period = p.BillingPeriod
	}
	return obj{"id": p.ID, "adaptive_pricing_enabled": false, "billing_period": period,
		"currency": p.Currency, "expiration_days": nil, "initial_price": major(p.InitialPrice, p.Currency),
		"plan_type": p.PlanType, "release_method": "buy_now",
		"renewal_price": major(p.RenewalPrice, p.Currency), "three_ds_level": nil,
		"trial_period_days": nil, "visibility": "hidden"}
}

func (s *Sim) v1Checkout(st *State, c *Checkout) obj {
	var plan, currency any
	purchase := s.public + "/checkout?session=" + c.ID
	if p := st.Plans[c.PlanID]; p != nil {
		plan, currency = v1Plan(p), p.Currency
		purchase = s.public + "/checkout/" + p.ID + "?session=" + c.ID
	}
	return obj{"id": c.ID, "affiliate_code": orNil(c.Affiliate), "company_id": c.CompanyID,
		"currency": currency, "metadata": meta(c.Metadata), "mode": c.Mode,
		"payment_method_configuration": nil, "plan": plan, "purchase_url": purchase,
		"redirect_url": orNil(c.RedirectURL)}
}

func v1Membership(st *State, m *Membership) obj {
	c := st.Companies[m.CompanyID]
	p := st.Products[m.ProductID]
	product := any(nil)
	if p != nil {
		product = obj{"id": p.ID, "title": p.Title, "metadata": nil}
	}
	currency := any(nil)
	if pl := st.Plans[m.PlanID]; pl != nil {
		currency = pl.Currency
	}
	return obj{"id": m.ID, "status": m.Status, "cancel_at_period_end": m.CancelAtPeriodEnd,
		"cancel_option": nil, "canceled_at": isoOrNil(m.CanceledAt), "cancellation_reason": nil,
		"checkout_configuration_id": orNil(m.CheckoutID), "company": obj{"id": c.ID, "title": c.Title},
		"created_at": iso(m.CreatedAt), "updated_at": iso(m.UpdatedAt), "currency": currency,
		"custom_field_responses": []any{}, "joined_at": iso(m.CreatedAt), "license_key": nil,
		"manage_url": "https://whop.com/@me/settings/memberships/" + m.ID, "member": nil,
		"metadata": meta(m.Metadata), "payment_collection_paused": false,
		"plan": obj{"id": m.PlanID, "metadata": nil}, "product": product, "promo_code": nil,
		"renewal_period_start": isoOrNil(m.PeriodStart), "renewal_period_end": isoOrNil(m.PeriodEnd),
		"user": v1UserRef(st.Users[m.UserID])}
}

func v1RefundRef(r *Refund) obj {
	return obj{"id": r.ID, "amount": major(r.Amount, r.Currency), "currency": r.Currency,
		"status": r.Status, "created_at": iso(r.CreatedAt)}
}

func v1DisputeRef(d *Dispute) obj {
	return obj{"id": d.ID, "amount": major(d.Amount, d.Currency), "currency": d.Currency,
		"status": d.Status, "reason": d.Reason, "editable": true, "notes": nil,
		"needs_response_by": iso(d.CreatedAt.AddDate(0, 0, 7))}
}

func v1Payment(st *State, p *Payment) obj {
	c := st.Companies[p.CompanyID]
	refunds, disputes := []any{}, []any{}
	for i := len(p.RefundIDs) - 1; i >= 0; i-- { // newest first, as Whop lists them
		refunds = append(refunds, v1RefundRef(st.Refunds[p.RefundIDs[i]]))
	}
	for _, id := range p.DisputeIDs {
		disputes = append(disputes, v1DisputeRef(st.Disputes[id]))
	}
	var membership, product any
	if m := st.Memberships[p.MembershipID]; m != nil {
		membership = obj{"id": m.ID, "status": m.Status, "phone_number": nil}
	}
	if pr := st.Products[p.ProductID]; pr != nil {
		product = obj{"id": pr.ID, "route": pr.Route, "title": pr.Title, "metadata": nil}
	}
	paid := p.Status == "paid"
	total := major(p.Total, p.Currency)
	usd := any(nil)
	if p.Currency == "usd" {
		usd = total
	}
	return obj{"id": p.ID, "status": p.Status, "substatus": p.Substatus,
		"created_at": iso(p.CreatedAt), "updated_at": iso(p.UpdatedAt), "paid_at": isoOrNil(p.PaidAt),
		"refunded_at": isoOrNil(p.RefundedAt), "last_payment_attempt": iso(p.CreatedAt),
		"next_payment_attempt": nil, "dispute_alerted_at": nil,
		"currency": p.Currency, "subtotal": total, "total": total, "usd_total": usd,
		"settlement_amount": total, "settlement_currency": p.Currency, "settlement_exchange_rate": nil,
		"amount_after_fees": major(p.Total-p.Fee, p.Currency),
		"refunded_amount":   major(p.RefundedAmount, p.Currency),
		"tax_amount":        major(0, p.Currency), "tax_refunded_amount": nil, "tax_behavior": nil,
		"refundable": p.refundable(st), "retryable": false, "voidable": false, "auto_refunded": false,
		"billing_reason": p.BillingReason, "card_brand": "visa", "card_last4": "4242",
		"payment_method_type": "card", "payment_method": nil, "billing_address": nil,
		"failure_message": orNil(p.FailureMessage), "payments_failed": boolInt(!paid),
		"metadata": meta(p.Metadata), "checkout_configuration_id": orNil(p.CheckoutID),
		"company":    obj{"id": c.ID, "route": c.Route, "title": c.Title},
		"user":       v1UserRef(st.Users[p.UserID]),
		"membership": membership, "member": nil, "plan": obj{"id": p.PlanID, "internal_notes": nil, "metadata": nil},
		"product": product, "promo_code": nil, "refunds": refunds, "disputes": disputes,
		"resolutions": []any{}, "financing_transactions": []any{}, "financing_installments_count": nil,
		"three_ds_verified": false, "risk_score": nil, "risk_signals": nil, "application_fee": nil,
		"shipping_address": nil}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
