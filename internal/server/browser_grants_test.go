package server_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/creditkit/creditkit/internal/testkit/browsertest"
)

// TestBrowserAdminGrantsCreditsTheMemberSees: in real Chromium, framed by
// the sandbox, the creator's admin grants a member credits from the
// dashboard's form (no script involved), sees the grant listed, and the
// member then finds it in their history, apart from what they bought,
// with its expiry; in light and dark, at 1280 and 375 pixels.
func TestBrowserAdminGrantsCreditsTheMemberSees(t *testing.T) {
	a := setup(t)
	creator, admin, exp, alice := a.env.Seed.Creator.ID, a.env.Seed.Admin.ID, a.experience(), a.member(0)
	a.buyIn(exp, alice, "starter")
	expiresOn := time.Now().UTC().AddDate(0, 1, 0)

	ctx := browsertest.New(t, browsertest.WithWindowSize(1280, 900))
	open := func(path, user string) {
		t.Helper()
		run(t, ctx, chromedp.Navigate(a.env.URL+"/?path="+url.QueryEscape(path)+"&user="+user))
	}
	open("/dashboard/"+creator, admin)
	frame := browsertest.Frame(t, ctx, a.env.RelayURL+"/dashboard/", 15*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="grants"]`, "Granted credits", 10*time.Second)
	// The company's one experience is filled in already.
	if got, _ := chromedp.Run(frame, chromedp.Evaluate[string](`document.querySelector("#grant-experience").value`)); got != exp {
		t.Fatalf("the form's experience = %q, want %q", got, exp)
	}
	typeInto(t, frame, "#grant-member", "alice")
	typeInto(t, frame, "#grant-credits", "75")
	typeInto(t, frame, "#grant-reason", "Thanks for the beta feedback")
	// A date input's typing is the locale's; set its value as a picker would.
	run(t, frame, chromedp.SetValue(chromedp.CSS(`#grant-expires`), expiresOn.Format("2006-01-02")))
	click(t, frame, `[data-testid="grant-submit"]`)
	browsertest.WaitText(t, frame, `[data-testid="notice"]`, "Granted 75 credits to @alice in "+exp+".", 10*time.Second)
	list := browsertest.WaitText(t, frame, `[data-testid="grant-list"]`, "@alice", 5*time.Second)
	for _, want := range []string{"Thanks for the beta feedback", "75", "75 left", "0 spent"} {
		if !strings.Contains(list, want) {
			t.Errorf("the grant list %q lacks %q", list, want)
		}
	}
	browsertest.WaitText(t, frame, `[data-testid="grants-granted"]`, "75", 5*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="grants-outstanding"]`, "75", 5*time.Second)
	if a.balance(alice) != 175 {
		t.Fatalf("alice's balance = %d, want 175", a.balance(alice))
	}
	shotMember(t, ctx, frame, "grant-dashboard", `[data-testid="grants"]`)
	shotMember(t, ctx, frame, "grant-list", `[data-testid="grant-list"]`)

	// The member's history, reached from the balance as always.
	// The frame is found by its path, so the dashboard's frame, while it
	// goes away, is never taken for the member's.
	open("/experiences/"+exp, alice)
	frame = browsertest.Frame(t, ctx, a.env.RelayURL+"/experiences/", 15*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="balance"]`, "175", 10*time.Second)
	click(t, frame, `[data-testid="activity-link"]`)
	entries := browsertest.WaitText(t, frame, `[data-testid="activity-entries"]`, "Granted: Thanks for the beta feedback", 10*time.Second)
	expiry := expiresOn.AddDate(0, 0, 1).Format("Jan 2, 2006") + ", 00:00 UTC"
	for _, want := range []string{"+75", "Expires " + expiry, "Bought the starter package", "+100"} {
		if !strings.Contains(entries, want) {
			t.Errorf("the history %q lacks %q", entries, want)
		}
	}
	browsertest.WaitText(t, frame, `[data-testid="granted"]`,
		"Includes 75 granted credits, spent before the ones you bought; 75 expire "+expiry+".", 5*time.Second)
	browsertest.WaitText(t, frame, `[data-testid="activity-csv"]`, "Download all as CSV", 5*time.Second)
	shotMember(t, ctx, frame, "grant-history", "")
	if errs := browsertest.ConsoleErrors(frame); len(errs) > 0 {
		t.Errorf("console errors in the app: %v", errs)
	}
}
