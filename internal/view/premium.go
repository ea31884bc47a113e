package view

import (
	"cmp"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/web/component"
	"github.com/creditkit/creditkit/web/layout"
	"github.com/creditkit/creditkit/web/page"
)

// PremiumCard is the experience view's premium section.
func PremiumCard(st billing.PremiumState, experienceID string) component.PremiumCardProps {
	p := component.PremiumCardProps{
		Show: st.Enabled, Member: st.Member, Perk: PerkText(st.MonthlyCredits),
		Renewal: RenewalText(st.Membership), LoungeURL: "/experiences/" + experienceID + "/premium",
	}
	if st.Member {
		p.Perk, p.Granted, p.NoCredits = MemberPerk(st, experienceID)
	}
	return p
}

// MemberPerk says what a premium member's membership adds to their credits
// in this experience. Premium credits go to the wallet of the experience the
// upgrade was bought in, which only the app's own checkout records on the
// membership: bought in another experience, the perk says where they go;
// not bought through the app, or not recorded yet, it adds none here, and
// noCredits says so instead of a perk the member would never see. A
// membership that ends with its period promises no more periods.
func MemberPerk(st billing.PremiumState, experienceID string) (perk, granted, noCredits string) {
	m := st.Membership
	ending := m.Status == "canceling"
	switch {
	case st.MonthlyCredits <= 0:
		return "", "", ""
	case st.Grant.ID != 0 || m.ID != "" && m.ExperienceID == experienceID:
		if ending {
			return "", GrantedText(st.Grant), ""
		}
		return PerkText(st.MonthlyCredits), GrantedText(st.Grant), ""
	case m.ID == "":
		return "", "", "No premium credits are recorded for your membership yet. An upgrade bought in this app " +
			"adds them once Whop confirms it; a membership bought elsewhere adds none."
	case m.ExperienceID == "":
		return "", "", "Your membership was not bought with an upgrade in this app, so it adds no credits."
	case ending:
		return "", "", ""
	default:
		return PerkText(st.MonthlyCredits) + ", added in the experience you upgraded in", "", ""
	}
}

// PerkText says what premium adds each billing period.
func PerkText(credits int64) string {
	if credits <= 0 {
		return ""
	}
	return Plural(credits, "credit") + " every billing period"
}

// GrantedText says when this period's premium credits were added, and
// what a refund or chargeback of its payment took back of them.
func GrantedText(g ledger.PremiumGrant) string {
	if g.ID == 0 {
		return ""
	}
	added := "This period's " + Plural(g.Credits, "credit") + " were added on " + FormatDate(g.CreatedAt)
	switch {
	case g.RefundedCredits >= g.Credits:
		return added + "; they were taken back when its payment was refunded or charged back."
	case g.RefundedCredits > 0:
		return added + "; " + FormatCount(g.RefundedCredits) + " of them were taken back when part of its payment was refunded."
	}
	return added + "."
}

// RenewalText says when a membership's period ends and whether it renews.
func RenewalText(m ledger.Membership) string {
	if m.ID == "" || m.PeriodEnd.IsZero() {
		return ""
	}
	if m.Status == "canceling" {
		return "Ends " + FormatDate(m.PeriodEnd)
	}
	return "Renews " + FormatDate(m.PeriodEnd)
}

// MembershipBadge shows a premium membership's state.
func MembershipBadge(m ledger.Membership) component.BadgeProps {
	b := component.BadgeProps{Label: "Active", Tone: "ok", TestID: "membership-status"}
	switch m.Status {
	case "trialing":
		b.Label = "Trial"
	case "canceling":
		b.Label, b.Tone = "Ending", "warn"
	case "past_due":
		b.Label, b.Tone = "Past due", "warn"
	}
	if m.ID != "" {
		b.TestID = "membership-status-" + m.ID
	}
	return b
}

// FormatDate is a day, with its year ("" for none).
func FormatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("Jan 2, 2006")
}

// Premium is the members-only lounge.
func Premium(l layout.Props, expID string, st billing.PremiumState) page.PremiumView {
	v := page.PremiumView{
		Layout:        l,
		BackURL:       "/experiences/" + expID,
		Status:        MembershipBadge(st.Membership),
		Renewal:       RenewalText(st.Membership),
		MembershipRef: st.Membership.ID,
	}
	v.Perk, v.Granted, v.NoCredits = MemberPerk(st, expID)
	return v
}

// PremiumMembers is the dashboard's list of a company's premium members,
// by experience.
func PremiumMembers(list billing.PremiumList) component.PremiumMembersProps {
	p := component.PremiumMembersProps{Show: true, AppWide: list.AppWide}
	if list.More {
		p.More = "Only the first " + FormatCount(billing.MaxPremiumListed) + " are listed here."
	}
	for _, e := range list.Experiences {
		row := component.PremiumExperience{ExperienceID: e.ExperienceID, TestID: "premium-experience-" + cmp.Or(e.ExperienceID, "none"),
			Count: Plural(int64(len(e.Members)), "member")}
		for _, m := range e.Members {
			since := m.WhopCreatedAt
			if since.IsZero() {
				since = m.CreatedAt
			}
			row.Members = append(row.Members, component.PremiumMember{
				UserID: m.UserID, MembershipID: m.ID, Status: MembershipBadge(m),
				Since: FormatDate(since), Renewal: RenewalText(m),
			})
		}
		p.Experiences = append(p.Experiences, row)
	}
	return p
}
