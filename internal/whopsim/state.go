package whopsim

import (
	"encoding/json"
	"time"
)

// State is everything the sandbox knows. It is kept in memory behind the
// Sim's mutex and saved as JSON when a state file is configured. Money is in
// minor units of the record's currency throughout.
type State struct {
	App          App                       `json:"app"`
	Companies    map[string]*Company       `json:"companies"`
	Users        map[string]*User          `json:"users"`
	Experiences  map[string]*Experience    `json:"experiences"`
	Products     map[string]*Product       `json:"products"`
	Plans        map[string]*Plan          `json:"plans"`
	Memberships  map[string]*Membership    `json:"memberships"`
	Checkouts    map[string]*Checkout      `json:"checkout_configurations"`
	Payments     map[string]*Payment       `json:"payments"`
	Refunds      map[string]*Refund        `json:"refunds"`
	Disputes     map[string]*Dispute       `json:"disputes"`
	Ledgers      map[string]*LedgerAccount `json:"ledger_accounts"`
	Transfers    map[string]*Transfer      `json:"transfers"`
	Events       []*Event                  `json:"events"`
	Attempts     []Attempt                 `json:"deliveries"`
	Idempotency  map[string]*idemRecord    `json:"idempotency"`
	SelectedUser string                    `json:"selected_user"`
	Seq          int64                     `json:"seq"`
	TransferKeys map[string]string         `json:"transfer_keys"` // idempotence_key -> transfer id
	Messages     []Message                 `json:"messages"`
	TokenKey     *savedKey                 `json:"token_key,omitempty"`
	// Outbox holds the deliveries not yet attempted (queued, or held by
	// the hold fault), so a restarted sandbox still makes them; retries
	// due are read off the delivery log (outbox.go, resume).
	Outbox []Unsent `json:"outbox,omitempty"`
	// SavedAt is when the file was last written, by the sandbox's clock:
	// a retry due long before it was never going to be made (outbox.go).
	SavedAt time.Time `json:"saved_at,omitzero"`
	// Saved payment methods and notifications (saved_methods.go,
	// notifications.go); made on first use.
	Members        map[string]*Member        `json:"members,omitempty"`
	PaymentMethods map[string]*PaymentMethod `json:"payment_methods,omitempty"`
	SetupIntents   map[string]*SetupIntent   `json:"setup_intents,omitempty"`
	Notifications  []*Notification           `json:"notifications,omitempty"`
}

// App is the Whop app the sandbox hosts.
type App struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	APIKey        string `json:"api_key"`
	WebhookSecret string `json:"webhook_secret"`
	CompanyID     string `json:"company_id"`
}

// Company is a seller: the app's owner or a creator who installed it.
type Company struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Route     string    `json:"route"`
	OwnerID   string    `json:"owner_user_id"`
	AdminIDs  []string  `json:"admin_user_ids"`
	LedgerID  string    `json:"ledger_account_id"`
	CreatedAt time.Time `json:"created_at"`
}

// User is a Whop user.
type User struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Bio       string    `json:"bio"`
	LedgerID  string    `json:"ledger_account_id"`
	CreatedAt time.Time `json:"created_at"`
}

// Experience is an app installed in a company, reached at
// /experiences/{id}. Members reach it through the products it is attached
// to; CustomerIDs grants access directly, as seeded communities do.
type Experience struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	CompanyID   string    `json:"company_id"`
	ProductIDs  []string  `json:"product_ids"`
	CustomerIDs []string  `json:"customer_user_ids"`
	CreatedAt   time.Time `json:"created_at"`
}

// Product is an access pass (prod_…).
type Product struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Route     string    `json:"route"`
	CompanyID string    `json:"company_id"`
	CreatedAt time.Time `json:"created_at"`
}

// Plan is a price for a product, or an inline plan a checkout created.
type Plan struct {
	ID            string    `json:"id"`
	CompanyID     string    `json:"company_id"`
	ProductID     string    `json:"product_id,omitempty"`
	Title         string    `json:"title"`
	Currency      string    `json:"currency"`
	PlanType      string    `json:"plan_type"` // one_time | renewal
	InitialPrice  int64     `json:"initial_price"`
	RenewalPrice  int64     `json:"renewal_price"`
	BillingPeriod int       `json:"billing_period,omitempty"` // days
	CreatedAt     time.Time `json:"created_at"`
}

// Charge is what the first payment on the plan costs: a renewal plan's
// initial price is charged on top of its first period.
func (p *Plan) Charge() int64 {
	if p.PlanType == "renewal" {
		return p.InitialPrice + p.RenewalPrice
	}
	return p.InitialPrice
}

// Membership is a user's hold on a product.
type Membership struct {
	ID                string         `json:"id"`
	UserID            string         `json:"user_id"`
	PlanID            string         `json:"plan_id"`
	ProductID         string         `json:"product_id"`
	CompanyID         string         `json:"company_id"`
	Status            string         `json:"status"`
	CancelAtPeriodEnd bool           `json:"cancel_at_period_end"`
	CheckoutID        string         `json:"checkout_configuration_id,omitempty"`
	Metadata          map[string]any `json:"metadata"`
	PeriodStart       *time.Time     `json:"renewal_period_start,omitempty"`
	PeriodEnd         *time.Time     `json:"renewal_period_end,omitempty"`
	CanceledAt        *time.Time     `json:"canceled_at,omitempty"`
	CreatedAt         time.Time      `json:"created_at"`
	UpdatedAt         time.Time      `json:"updated_at"`
}

// Valid reports whether the membership grants access now.
func (m *Membership) Valid() bool {
	switch m.Status {
	case "active", "trialing", "past_due", "canceling", "completed":
		return true
	}
	return false
}

// Checkout is a checkout configuration (ch_…).
type Checkout struct {
	ID          string         `json:"id"`
	CompanyID   string         `json:"company_id"`
	PlanID      string         `json:"plan_id,omitempty"`
	Mode        string         `json:"mode"`
	RedirectURL string         `json:"redirect_url,omitempty"`
	Affiliate   string         `json:"affiliate_code,omitempty"`
	Metadata    map[string]any `json:"metadata"`
	CreatedAt   time.Time      `json:"created_at"`
}

// Payment is a receipt (pay_…).
type Payment struct {
	ID             string         `json:"id"`
	Seq            int64          `json:"seq"`
	CompanyID      string         `json:"company_id"`
	UserID         string         `json:"user_id"`
	PlanID         string         `json:"plan_id"`
	ProductID      string         `json:"product_id,omitempty"`
	MembershipID   string         `json:"membership_id,omitempty"`
	CheckoutID     string         `json:"checkout_configuration_id,omitempty"`
	Status         string         `json:"status"`
	Substatus      string         `json:"substatus"`
	BillingReason  string         `json:"billing_reason"`
	Currency       string         `json:"currency"`
	Total          int64          `json:"total"`
	Fee            int64          `json:"fee"`
	RefundedAmount int64          `json:"refunded_amount"`
	FailureMessage string         `json:"failure_message,omitempty"`
	Metadata       map[string]any `json:"metadata"`
	RefundIDs      []string       `json:"refund_ids"`
	DisputeIDs     []string       `json:"dispute_ids"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	PaidAt         *time.Time     `json:"paid_at,omitempty"`
	RefundedAt     *time.Time     `json:"refunded_at,omitempty"`
}

// refundable mirrors Whop: paid, not refunded yet. The sandbox allows one
// refund per payment, full or partial, as Whop's test environment does. A
// payment with a dispute open or lost is not refundable either: the
// chargeback holds or has taken the money (card networks refuse to refund
// a disputed charge), and a refund on top would take it twice.
func (p *Payment) refundable(st *State) bool {
	open, lost := p.disputes(st)
	return p.Status == "paid" && len(p.RefundIDs) == 0 && open == nil && lost == 0
}

// disputes are the payment's open dispute, if any (there is at most one),
// and what its lost disputes took.
func (p *Payment) disputes(st *State) (open *Dispute, lost int64) {
	for _, id := range p.DisputeIDs {
		switch d := st.Disputes[id]; {
		case d == nil:
		case d.Status == "lost":
			lost += d.Amount
		case !d.final():
			open = d
		}
	}
	return open, lost
}

// Refund is a reversal of part or all of a payment.
type Refund struct {
	ID        string    `json:"id"`
	PaymentID string    `json:"payment_id"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	Status    string    `json:"status"` // pending | succeeded
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Dispute is a chargeback against a payment.
type Dispute struct {
	ID        string    `json:"id"`
	PaymentID string    `json:"payment_id"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// final says the dispute is decided (won, lost or closed): its money has
// moved, or never will, and it changes no more.
func (d *Dispute) final() bool {
	return d.Status == "won" || d.Status == "lost" || d.Status == "closed"
}

// LedgerAccount is a balance holder (ldgr_…) owned by a company or a user.
type LedgerAccount struct {
	ID          string `json:"id"`
	OwnerID     string `json:"owner_id"`
	Currency    string `json:"currency"`
	Balance     int64  `json:"balance"`
	Pending     int64  `json:"pending_balance"`
	Reserve     int64  `json:"reserve_balance"`
	TransferFee int64  `json:"transfer_fee"`
	// Others are the balances in currencies other than Currency, which
	// payments in those currencies credit (Whop keeps one balance per
	// currency); transfers move Balance alone.
	Others map[string]int64 `json:"other_balances,omitempty"`
}

// add credits (or, negative, debits) the balance in currency.
func (l *LedgerAccount) add(currency string, amount int64) {
	if currency == l.Currency {
		l.Balance += amount
		return
	}
	if l.Others == nil {
		l.Others = map[string]int64{}
	}
	l.Others[currency] += amount
}

// Transfer moves balance between two ledger accounts.
type Transfer struct {
	ID              string         `json:"id"`
	OriginID        string         `json:"origin_id"`
	DestinationID   string         `json:"destination_id"`
	OriginLedger    string         `json:"origin_ledger_account_id"`
	DestLedger      string         `json:"destination_ledger_account_id"`
	Amount          int64          `json:"amount"`
	Fee             int64          `json:"fee_amount"`
	Currency        string         `json:"currency"`
	Notes           string         `json:"notes,omitempty"`
	Metadata        map[string]any `json:"metadata"`
	IdempotenceKey  string         `json:"idempotence_key,omitempty"`
	RequestChecksum string         `json:"request_checksum"`
	CreatedAt       time.Time      `json:"created_at"`
}

// Event is one webhook event. Both envelopes are built when the event
// happens, so a redelivery sends the same bytes, as Whop's does.
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CompanyID string          `json:"company_id"`
	CreatedAt time.Time       `json:"created_at"`
	Body      json.RawMessage `json:"body"`
	Legacy    json.RawMessage `json:"legacy_body"`
}

// Message is one iframe-protocol call the parent page answered, kept so a
// developer (or a failing browser test) can see what the app asked for.
type Message struct {
	At     time.Time       `json:"at"`
	Method string          `json:"method"`
	Data   json.RawMessage `json:"data,omitempty"`
	Reply  json.RawMessage `json:"reply,omitempty"`
}
