package whopsim_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestSeedIsStable pins the seeded ids and keys: .env.example, `make dev`
// and other packages' tests name them, so a change here is a breaking one.
func TestSeedIsStable(t *testing.T) {
	a, err := whopsim.New(whopsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sd := a.Seed()
	want := map[string]string{
		"app":             "app_kCLsuetXarSdF6",
		"api key":         "apik_h0f8ViIA3W9owvGJVbL33YYW7KlDFd7ZFDm6Ud18",
		"webhook secret":  "ws_d07bb50243664bf16e1d2dd0b6d003f22a9186435fb53607ba0a365172a17f81",
		"owner company":   "biz_0Tn5m8oXfHpxEc",
		"owner exp":       "exp_BTRYQE55MzyOUP",
		"creator company": "biz_ZNh02iJaSVeGyP",
		"creator exp":     "exp_Pp0gpuTrzEc33C",
		"admin":           "user_dGQIgp5gPCSYMv",
		"alice":           "user_qJzZdSQikvYV8J",
		"no access":       "user_MFH27Ge2HqP0nS",
		"premium product": "prod_UVr7KXZC0xEloj",
		"premium plan":    "plan_2cus8qYmHWU7kO",
	}
	got := map[string]string{
		"app": sd.App.ID, "api key": sd.App.APIKey, "webhook secret": sd.App.WebhookSecret,
		"owner company": sd.Owner.ID, "owner exp": sd.Owner.ExperienceID,
		"creator company": sd.Creator.ID, "creator exp": sd.Creator.ExperienceID,
		"admin": sd.Admin.ID, "alice": sd.Members[0].ID, "no access": sd.NoAccess.ID,
		"premium product": sd.PremiumProductID, "premium plan": sd.PremiumPlanID,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("seed %s = %q, want %q", k, got[k], w)
		}
	}
	b, _ := whopsim.New(whopsim.Options{})
	if b.Seed().App != sd.App || b.Seed().Members[2] != sd.Members[2] {
		t.Error("two sandboxes seeded differently")
	}
	if b.TokenKID() == a.TokenKID() {
		t.Error("two sandboxes share a token key id; keys are meant to be fresh per process")
	}

	shape := regexp.MustCompile(`^(app|biz|exp|user|prod|plan|ldgr)_[0-9A-Za-z]{14}$`)
	ids := []string{sd.App.ID, sd.Owner.ID, sd.Owner.ExperienceID, sd.Owner.LedgerID, sd.Creator.ID,
		sd.Creator.ExperienceID, sd.Creator.LedgerID, sd.OwnerAdmin.ID, sd.Admin.ID, sd.NoAccess.ID,
		sd.PremiumProductID, sd.PremiumPlanID, sd.CommunityProductID}
	for _, m := range sd.Members {
		ids = append(ids, m.ID)
	}
	for _, id := range ids {
		if !shape.MatchString(id) {
			t.Errorf("id %q does not have Whop's shape", id)
		}
	}
	if !regexp.MustCompile(`^ws_[0-9a-f]{64}$`).MatchString(sd.App.WebhookSecret) {
		t.Errorf("webhook secret %q is not ws_ + 64 hex", sd.App.WebhookSecret)
	}
	if len(sd.Members) != 3 || sd.Members[0].Username != "alice" || sd.Admin.Username != "casey" {
		t.Errorf("users = %+v", sd.Members)
	}
}

func TestParentPage(t *testing.T) {
	b := setup(t)
	get := func(path string) (int, string, http.Header) {
		res, err := http.Get(b.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body), res.Header
	}
	status, page, h := get("/?user=" + b.Seed.Admin.ID + "&path=/dashboard/" + b.Seed.Creator.ID)
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("parent page = %d %s", status, h.Get("Content-Type"))
	}
	for _, want := range []string{`"appId":"` + b.Seed.App.ID, `"relayOrigin":"` + b.RelayURL,
		`"path":"/dashboard/` + b.Seed.Creator.ID, `data-testid="whopsim-frame"`, `data-testid="whopsim-pay"`,
		`data-testid="whopsim-decline"`, `data-testid="whopsim-close"`, "/_sim/assets/whop-host.js"} {
		if !strings.Contains(page, want) {
			t.Errorf("parent page lacks %s", want)
		}
	}
	if b.Sim.SelectedUser() != b.Seed.Admin.ID {
		t.Error("?user= did not select the user")
	}
	if status, _, _ := get("/?user=user_nope"); status != 404 {
		t.Errorf("?user= unknown = %d", status)
	}
	for _, asset := range []string{"parent.js", "parent.css", "whop-host.js"} {
		status, body, h := get("/_sim/assets/" + asset)
		if status != 200 || len(body) < 100 || h.Get("Content-Type") == "" {
			t.Errorf("%s = %d, %d bytes, %q", asset, status, len(body), h.Get("Content-Type"))
		}
	}
	if status, _, _ := get("/_sim/assets/nope.js"); status != 404 {
		t.Errorf("missing asset = %d", status)
	}
	if status, _, _ := get("/elsewhere"); status != 404 {
		t.Errorf("unknown page = %d", status)
	}
}
