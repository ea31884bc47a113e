package view

import (
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
)

// TestMemberPerk: a premium member is promised credits only where they
// arrive. The upgrade bought here gets the perk (and this period's grant
// once there is one); bought in another experience, the perk says where the
// credits go; not bought through the app, or not recorded, there is no perk
// but a line saying why; a membership that ends with its period promises
// no more periods.
func TestMemberPerk(t *testing.T) {
	const here, there = "exp_here", "exp_there"
	added := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	grant := ledger.PremiumGrant{ID: 7, MembershipID: "mem_1", ExperienceID: here, Credits: 50, CreatedAt: added}
	boughtHere := ledger.Membership{ID: "mem_1", ExperienceID: here}
	for _, tt := range []struct {
		name                     string
		st                       billing.PremiumState
		perk, granted, noCredits string
	}{
		{"premium gives no credits", billing.PremiumState{MonthlyCredits: 0, Membership: boughtHere}, "", "", ""},
		{"bought here, granted", billing.PremiumState{MonthlyCredits: 50, Membership: boughtHere, Grant: grant},
			"50 credits every billing period", "This period's 50 credits were added on Dec 1, 2026.", ""},
		{"bought here, not granted yet", billing.PremiumState{MonthlyCredits: 50, Membership: boughtHere},
			"50 credits every billing period", "", ""},
		{"bought in another experience", billing.PremiumState{MonthlyCredits: 50,
			Membership: ledger.Membership{ID: "mem_1", ExperienceID: there}},
			"50 credits every billing period, added in the experience you upgraded in", "", ""},
		{"a grant here, the membership naming no experience", billing.PremiumState{MonthlyCredits: 50,
			Membership: ledger.Membership{ID: "mem_1"}, Grant: grant},
			"50 credits every billing period", "This period's 50 credits were added on Dec 1, 2026.", ""},
		{"bought here, ending, granted", billing.PremiumState{MonthlyCredits: 50,
			Membership: ledger.Membership{ID: "mem_1", ExperienceID: here, Status: "canceling"}, Grant: grant},
			"", "This period's 50 credits were added on Dec 1, 2026.", ""},
		{"bought in another experience, ending", billing.PremiumState{MonthlyCredits: 50,
			Membership: ledger.Membership{ID: "mem_1", ExperienceID: there, Status: "canceling"}}, "", "", ""},
		{"not bought through the app", billing.PremiumState{MonthlyCredits: 50, Membership: ledger.Membership{ID: "mem_1"}},
			"", "", "Your membership was not bought with an upgrade in this app, so it adds no credits."},
		{"not recorded", billing.PremiumState{MonthlyCredits: 1},
			"", "", "No premium credits are recorded for your membership yet. An upgrade bought in this app " +
				"adds them once Whop confirms it; a membership bought elsewhere adds none."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.st.Enabled, tt.st.Member = true, true
			perk, granted, noCredits := MemberPerk(tt.st, here)
			if perk != tt.perk || granted != tt.granted || noCredits != tt.noCredits {
				t.Errorf("MemberPerk = %q, %q, %q\nwant %q, %q, %q", perk, granted, noCredits, tt.perk, tt.granted, tt.noCredits)
			}
			card := PremiumCard(tt.st, here)
			if card.Perk != tt.perk || card.Granted != tt.granted || card.NoCredits != tt.noCredits || !card.Member || !card.Show {
				t.Errorf("PremiumCard = %+v", card)
			}
			if card.LoungeURL != "/experiences/"+here+"/premium" {
				t.Errorf("PremiumCard.LoungeURL = %q", card.LoungeURL)
			}
		})
	}
	// Not a member: the upgrade card promises the credits an upgrade bought
	// here will add.
	card := PremiumCard(billing.PremiumState{Enabled: true, MonthlyCredits: 50}, here)
	if card.Member || card.Perk != "50 credits every billing period" || card.Granted != "" || card.NoCredits != "" {
		t.Errorf("upgrade card = %+v", card)
	}
}

// TestPremiumMembersSaysWhenTheListStopsShort: the card says whose members
// it lists, and that it stops at MaxPremiumListed when there are more.
func TestPremiumMembersSaysWhenTheListStopsShort(t *testing.T) {
	if p := PremiumMembers(billing.PremiumList{}); p.More != "" || p.AppWide || !p.Show || len(p.Experiences) != 0 {
		t.Errorf("an empty list = %+v", p)
	}
	if p := PremiumMembers(billing.PremiumList{AppWide: true, More: true}); p.More != "Only the first 200 are listed here." || !p.AppWide {
		t.Errorf("a list cut short = %+v", p)
	}
}

// TestGrantedTextSaysWhatARefundTookBack: the premium section tells a
// member whose period's payment was refunded, or charged back, that its
// credits went back with it.
func TestGrantedTextSaysWhatARefundTookBack(t *testing.T) {
	added := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	g := ledger.PremiumGrant{ID: 7, Credits: 50, CreatedAt: added, PaymentID: "pay_1"}
	for _, tt := range []struct {
		refunded int64
		want     string
	}{
		{0, "This period's 50 credits were added on Dec 1, 2026."},
		{15, "This period's 50 credits were added on Dec 1, 2026; 15 of them were taken back when part of its payment was refunded."},
		{50, "This period's 50 credits were added on Dec 1, 2026; they were taken back when its payment was refunded or charged back."},
	} {
		g.RefundedCredits = tt.refunded
		if got := GrantedText(g); got != tt.want {
			t.Errorf("%d taken back: %q\nwant %q", tt.refunded, got, tt.want)
		}
	}
}
