package whopsim

import (
	"math/rand/v2"
	"time"
)

// Seed names the ids and keys of the seeded state. They are the same on
// every run (the seed draws from a fixed ChaCha8 stream), so `make dev`,
// .env.example and tests can name them.
type Seed struct {
	App App `json:"app"`
	// Owner is the company that owns the app and receives in-app payments
	// (WHOP_COMPANY_ID).
	Owner SeedCompany `json:"owner_company"`
	// Creator is a company that installed the app and shares its revenue.
	Creator SeedCompany `json:"creator_company"`
	// OwnerAdmin administers Owner; Admin administers Creator.
	OwnerAdmin SeedUser `json:"owner_admin"`
	Admin      SeedUser `json:"admin"`
	// Members hold the creator's community pass and so reach both
	// experiences as customers. The last one also holds premium.
	Members []SeedUser `json:"members"`
	// NoAccess has an account and nothing else.
	NoAccess SeedUser `json:"no_access"`
	// Premium is the app's premium access pass and its monthly plan.
	PremiumProductID string `json:"premium_product_id"`
	PremiumPlanID    string `json:"premium_plan_id"`
	// CommunityProductID is the creator's free pass the members hold.
	CommunityProductID string `json:"community_product_id"`
}

// SeedCompany is a seeded company with its experience and ledger account.
type SeedCompany struct {
	ID           string `json:"id"`
	Title        string `json:"title"`
	ExperienceID string `json:"experience_id"`
	LedgerID     string `json:"ledger_account_id"`
}

// SeedUser is a seeded user.
type SeedUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	Role     string `json:"role"`
}

// seedEpoch is when the seeded world was created; fixed so a fresh state
// serializes identically on every run.
var seedEpoch = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

// Seeded amounts, in cents.
const (
	premiumPrice       = 999    // $9.99 a month
	ownerStartBalance  = 100000 // $1,000.00
	creatorStartBalace = 25000  // $250.00
	companyTransferFee = 25     // $0.25 per transfer, paid by the origin
)

// newSeedGen returns the fixed stream the seed draws from.
func newSeedGen() *idGen {
	var key [32]byte
	copy(key[:], "creditkit whopsim seed, v1......")
	return &idGen{r: rand.NewChaCha8(key)}
}

// seedState builds the seeded world.
func seedState() (*State, Seed) {
	g := newSeedGen()
	st := &State{
		Companies:    map[string]*Company{},
		Users:        map[string]*User{},
		Experiences:  map[string]*Experience{},
		Products:     map[string]*Product{},
		Plans:        map[string]*Plan{},
		Memberships:  map[string]*Membership{},
		Checkouts:    map[string]*Checkout{},
		Payments:     map[string]*Payment{},
		Refunds:      map[string]*Refund{},
		Disputes:     map[string]*Dispute{},
		Ledgers:      map[string]*LedgerAccount{},
		Transfers:    map[string]*Transfer{},
		Idempotency:  map[string]*idemRecord{},
		TransferKeys: map[string]string{},
	}
	at := seedEpoch
	user := func(username, name, role string) SeedUser {
		u := &User{ID: g.id("user"), Username: username, Name: name,
			Email: username + "@example.com", CreatedAt: at}
		u.LedgerID = addLedger(st, g, u.ID, 0, 0)
		st.Users[u.ID] = u
		return SeedUser{ID: u.ID, Username: username, Name: name, Role: role}
	}
	var sd Seed
	sd.OwnerAdmin = user("olivia", "Olivia Owner", "owner admin")
	sd.Admin = user("casey", "Casey Creator", "admin")
	sd.Members = []SeedUser{
		user("alice", "Alice Member", "member"),
		user("bob", "Bob Member", "member"),
		user("carol", "Carol Premium", "premium member"),
	}
	sd.NoAccess = user("nina", "Nina Noaccess", "no access")

	company := func(title, route string, admin SeedUser, balance int64) SeedCompany {
		c := &Company{ID: g.id("biz"), Title: title, Route: route, OwnerID: admin.ID,
			AdminIDs: []string{admin.ID}, CreatedAt: at}
		c.LedgerID = addLedger(st, g, c.ID, balance, companyTransferFee)
		st.Companies[c.ID] = c
		return SeedCompany{ID: c.ID, Title: title, LedgerID: c.LedgerID}
	}
	sd.Owner = company("Creditkit Labs", "creditkit-labs", sd.OwnerAdmin, ownerStartBalance)
	sd.Creator = company("Pixel Guild", "pixel-guild", sd.Admin, creatorStartBalace)

	sd.App = App{ID: g.id("app"), Name: "Creditkit", APIKey: "apik_" + g.base62(40),
		WebhookSecret: "ws_" + g.hex(32), CompanyID: sd.Owner.ID}
	st.App = sd.App

	product := func(companyID, title, route string) string {
		p := &Product{ID: g.id("prod"), Title: title, Route: route, CompanyID: companyID, CreatedAt: at}
		st.Products[p.ID] = p
		return p.ID
	}
	sd.CommunityProductID = product(sd.Creator.ID, "Pixel Guild Community", "pixel-guild-community")
	sd.PremiumProductID = product(sd.Owner.ID, "Creditkit Premium", "creditkit-premium")
	premium := &Plan{ID: g.id("plan"), CompanyID: sd.Owner.ID, ProductID: sd.PremiumProductID,
		Title: "Premium monthly", Currency: "usd", PlanType: "renewal", RenewalPrice: premiumPrice,
		BillingPeriod: 30, CreatedAt: at}
	st.Plans[premium.ID] = premium
	sd.PremiumPlanID = premium.ID
	community := &Plan{ID: g.id("plan"), CompanyID: sd.Creator.ID, ProductID: sd.CommunityProductID,
		Title: "Free access", Currency: "usd", PlanType: "one_time", CreatedAt: at}
	st.Plans[community.ID] = community

	experience := func(c *SeedCompany, name string, products ...string) {
		e := &Experience{ID: g.id("exp"), Name: name, CompanyID: c.ID, ProductIDs: products, CreatedAt: at}
		st.Experiences[e.ID] = e
		c.ExperienceID = e.ID
	}
	experience(&sd.Creator, "Credits", sd.CommunityProductID)
	experience(&sd.Owner, "Creditkit HQ")
	// The owner's own experience is open to the members directly, as a
	// company's public experience would be.
	for _, m := range sd.Members {
		st.Experiences[sd.Owner.ExperienceID].CustomerIDs = append(
			st.Experiences[sd.Owner.ExperienceID].CustomerIDs, m.ID)
	}

	member := func(u SeedUser, plan *Plan) {
		start, end := at, at.AddDate(0, 0, 30)
		m := &Membership{ID: g.id("mem"), UserID: u.ID, PlanID: plan.ID, ProductID: plan.ProductID,
			CompanyID: plan.CompanyID, Status: "active", Metadata: map[string]any{},
			CreatedAt: at, UpdatedAt: at}
		if plan.PlanType == "renewal" {
			m.PeriodStart, m.PeriodEnd = &start, &end
		}
		st.Memberships[m.ID] = m
	}
	for _, u := range sd.Members {
		member(u, community)
	}
	member(sd.Members[2], premium)
	st.SelectedUser = sd.Members[0].ID
	return st, sd
}

// addLedger opens a USD ledger account for owner and returns its id.
func addLedger(st *State, g *idGen, owner string, balance, fee int64) string {
	l := &LedgerAccount{ID: g.id("ldgr"), OwnerID: owner, Currency: "usd", Balance: balance, TransferFee: fee}
	st.Ledgers[l.ID] = l
	return l.ID
}
