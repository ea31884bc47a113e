package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

// upgrade starts the premium checkout as user in the creator's experience
// and pays it in the sandbox, as the modal's Pay button does. It returns
// the membership Whop made.
func (a *app) upgrade(user string) string {
	a.t.Helper()
	return a.upgradeIn(a.experience(), user)
}

func (a *app) upgradeIn(experienceID, user string) string {
	a.t.Helper()
	code, out, raw := a.call("POST", "/api/premium/checkout", user, map[string]string{"experience_id": experienceID})
	if code != 200 {
		a.t.Fatalf("premium checkout: %d %s", code, raw)
	}
	receipt := a.pay(out["id"].(string), out["planId"].(string), user)
	p, err := a.whop.GetPayment(a.ctx, receipt)
	if err != nil || p.MembershipID == "" {
		a.t.Fatalf("the premium payment %s has no membership: %+v %v", receipt, p, err)
	}
	return p.MembershipID
}

// isPremium asks an instance of the app, through its API, whether user is
// premium now.
func (a *app) isPremium(base, user string) bool {
	a.t.Helper()
	code, out, raw := a.callAt(base, "GET", "/api/premium/status?experience_id="+a.experience(), user, nil)
	if code != 200 {
		a.t.Fatalf("premium status: %d %s", code, raw)
	}
	return out["premium"] == true
}

// lounge returns the status of the gated premium page on an instance.
func (a *app) lounge(base, user string) int {
	a.t.Helper()
	res, _ := a.getAt(base, "/experiences/"+a.experience()+"/premium", user)
	return res.StatusCode
}

// simMembership reads a membership from the sandbox's API in Whop's own v1
// shape, for tests that send Whop-shaped deliveries of their own.
func (a *app) simMembership(id string) map[string]any {
	a.t.Helper()
	return a.simGet("/memberships/" + id)
}

// simGet reads one object from the sandbox's v1 API, as Whop shapes it.
func (a *app) simGet(path string) map[string]any {
	a.t.Helper()
	req, _ := http.NewRequest("GET", a.env.APIBase+path, nil)
	req.Header.Set("Authorization", "Bearer "+a.env.Seed.App.APIKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil || res.StatusCode != 200 {
		a.t.Fatalf("sandbox %s: %d %v", path, res.StatusCode, err)
	}
	return m
}

// deliver posts a v1 delivery signed with the app's webhook secret, exactly
// as Whop signs them, to an instance of the app. The sandbox cannot renew a
// membership or produce two states with one time; these tests need both.
func (a *app) deliver(base, msgID, typ string, data any) (int, string) {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"id": msgID, "api_version": "v1", "type": typ,
		"timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "data": data})
	req, _ := http.NewRequest("POST", base+"/api/webhook", bytes.NewReader(body))
	whop.SetStandardHeaders(req.Header, a.env.Seed.App.WebhookSecret, msgID, time.Now(), body)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

// membershipRow returns the app's record of a membership.
func (a *app) membershipRow(id string) ledger.Membership {
	a.t.Helper()
	m, err := a.store.Membership(a.ctx, id)
	if err != nil {
		a.t.Fatalf("membership %s: %v", id, err)
	}
	return m
}

// grants returns the ledger's grant entries of user in the experience.
func (a *app) grantEntries(user string) []ledger.Entry {
	a.t.Helper()
	var out []ledger.Entry
	for _, e := range a.entries(user) {
		if e.Kind == ledger.KindGrant {
			out = append(out, e)
		}
	}
	return out
}

// outcomes returns the recorded outcome of each delivery of a type, oldest first.
func (a *app) outcomes(typ string) []string {
	a.t.Helper()
	rows, err := a.db.Pool.Query(a.ctx, `SELECT outcome FROM webhook_deliveries WHERE event_type = $1 ORDER BY received_at, id`, typ)
	if err != nil {
		a.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

func assertContains(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %s", what, w)
		}
	}
}

func assertLacks(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("%s must not show %s", what, w)
		}
	}
}
