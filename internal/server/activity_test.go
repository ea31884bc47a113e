package server_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

var (
	entryRow   = regexp.MustCompile(`data-testid="entry-(\d+)"`)
	afterCell  = regexp.MustCompile(`data-testid="after-\d+">([^<]+)<`)
	amountCell = regexp.MustCompile(`data-testid="amount-\d+">([^<]+)<`)
	topBalance = regexp.MustCompile(`data-testid="balance">([^<]+)<`)
	olderLink  = regexp.MustCompile(`href="([^"]+)" data-testid="activity-older"`)
)

// TestActivityPagesWithoutScript: the member's activity is the ledger,
// newest first, 25 entries a page behind plain links; the balance at the
// top of every page is the newest running balance.
func TestActivityPagesWithoutScript(t *testing.T) {
	a := setup(t)
	user, exp := a.member(0), a.experience()
	a.buyIn(exp, user, "pro")
	for i := range 25 {
		if code, _, raw := a.call("POST", "/api/spend", user, map[string]string{
			"experience_id": exp, "item": "sticker", "idempotency_key": fmt.Sprint("k", i)}); code != 200 {
			t.Fatalf("spend %d: %d %s", i, code, raw)
		}
	}
	_, body := a.get("/experiences/"+exp, user)
	if !strings.Contains(body, `href="/experiences/`+exp+`/activity" data-testid="activity-link"`) {
		t.Fatal("the experience page does not link to the activity")
	}

	res, first := a.get("/experiences/"+exp+"/activity", user)
	if res.StatusCode != 200 {
		t.Fatalf("activity = %d", res.StatusCode)
	}
	assertHTMLFraming(t, res, a.env.URL)
	rows, afters := entryRow.FindAllStringSubmatch(first, -1), afterCell.FindAllStringSubmatch(first, -1)
	if len(rows) != 25 || len(afters) != 25 {
		t.Fatalf("first page: %d rows, want 25", len(rows))
	}
	if top := topBalance.FindStringSubmatch(first); top == nil || top[1] != "475" || afters[0][1] != "475" {
		t.Fatalf("first page: balance %v, newest running balance %s; want both 475", top, afters[0][1])
	}
	for i, am := range amountCell.FindAllStringSubmatch(first, -1) {
		if am[1] != "−5" || afters[i][1] != fmt.Sprint(475+5*i) {
			t.Errorf("row %d: %s → %s, want −5 → %d", i, am[1], afters[i][1], 475+5*i)
		}
	}
	if strings.Contains(first, `data-testid="activity-newest"`) {
		t.Error("the first page links to itself as the newest")
	}
	older := olderLink.FindStringSubmatch(first)
	if older == nil || older[1] != "/experiences/"+exp+"/activity?before="+rows[24][1] {
		t.Fatalf("older link = %v, want before the last row %s", older, rows[24][1])
	}

	_, second := a.get(older[1], user)
	rows2 := entryRow.FindAllStringSubmatch(second, -1)
	if len(rows2) != 1 || !strings.Contains(second, "Bought the pro package") ||
		!strings.Contains(second, `data-testid="after-`+rows2[0][1]+`">600<`) ||
		!strings.Contains(second, `data-testid="amount-`+rows2[0][1]+`">+600<`) {
		t.Fatalf("second page: %d rows, want the purchase alone", len(rows2))
	}
	if top := topBalance.FindStringSubmatch(second); top == nil || top[1] != "475" {
		t.Fatalf("second page: balance %v, want the newest running balance 475", top)
	}
	if !strings.Contains(second, `href="/experiences/`+exp+`/activity" data-testid="activity-newest"`) ||
		strings.Contains(second, `data-testid="activity-older"`) {
		t.Error("second page: want a link to the newest and none further")
	}

	// Past the oldest entry: no rows, and not "Nothing yet", which would
	// say the member has no history.
	_, past := a.get("/experiences/"+exp+"/activity?before=1", user)
	if !strings.Contains(past, `data-testid="no-older-activity"`) || strings.Contains(past, `data-testid="no-activity"`) ||
		!strings.Contains(past, `data-testid="activity-newest"`) || entryRow.MatchString(past) {
		t.Error("a page past the oldest entry does not say there are no older entries, with a way back")
	}
	for _, bad := range []string{"0", "-3", "abc"} {
		if res, _ := a.get("/experiences/"+exp+"/activity?before="+bad, user); res.StatusCode != 400 {
			t.Errorf("before=%s: %d, want 400", bad, res.StatusCode)
		}
	}
	// Another member sees their own (empty) history; no access is no page.
	if _, other := a.get("/experiences/"+exp+"/activity", a.member(1)); !strings.Contains(other, `data-testid="no-activity"`) ||
		!strings.Contains(other, `data-testid="balance">0<`) {
		t.Error("another member's activity is not their own, empty one")
	}
	if res, _ := a.get("/experiences/"+exp+"/activity", a.env.Seed.NoAccess.ID); res.StatusCode != 403 {
		t.Errorf("no access: %d, want 403", res.StatusCode)
	}
}
