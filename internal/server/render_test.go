package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/billing"
	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
)

// walletOnly is Credits with only what the member's page reads.
type walletOnly struct {
	Credits
	wallet billing.Wallet
}

func (c walletOnly) Packages() []billing.Package {
	return []billing.Package{{ID: "starter", Credits: 100, Price: 499}, {ID: "pro", Credits: 600, Price: 2499}}
}
func (walletOnly) Currency() money.Currency { return money.USD }
func (c walletOnly) Wallet(context.Context, string, string, bool) (billing.Wallet, error) {
	return c.wallet, nil
}

// memberWallet is a wallet as the member's page shows it most often: a
// balance, three items, premium offered, ten paid receipts.
func memberWallet() billing.Wallet {
	w := billing.Wallet{Items: []billing.Item{
		{ID: "sticker", Title: "Sticker pack", Description: "A pack of animated stickers for the chat.", Cost: 5},
		{ID: "boost", Title: "Profile boost", Description: "Pin your profile to the top of the member list for a day.", Cost: 20},
		{ID: "review", Title: "Expert review", Description: "A written review of your work by the creator.", Cost: 50},
	}, Premium: billing.PremiumState{Enabled: true, MonthlyCredits: 50}}
	w.Balance = 12500
	at := time.Date(2026, 11, 22, 10, 41, 0, 0, time.UTC)
	for i := range 10 {
		w.Receipts = append(w.Receipts, ledger.Receipt{ID: fmt.Sprintf("pur_%018d", i), PackageID: "starter", Credits: 100,
			Price: 499, PaidAmount: 499, Currency: "usd", Status: ledger.PurchasePaid, CreatedAt: at.Add(-time.Duration(i) * time.Hour)})
	}
	return w
}

// TestPagesGoOutWithTheirLength: a rendered page, the member's (8 KB), the
// no-access page or an error page, is sent with its Content-Length, not
// chunked, and keeps the security headers and the request id.
func TestPagesGoOutWithTheirLength(t *testing.T) {
	s := New(Deps{Settings: Settings{AppID: "app_test"}, Tokens: anyToken{},
		Billing: Billing{Access: fakeAccess{}, Credits: walletOnly{wallet: memberWallet()}}})
	srv := httptest.NewServer(s)
	defer srv.Close()
	for _, tt := range []struct {
		user   string
		status int
		want   string
	}{
		{"user_member", http.StatusOK, `data-testid="receipt-pur_000000000000000009"`},
		{"user_stranger", http.StatusForbidden, `data-testid="no-access"`},
		{"", http.StatusUnauthorized, "Open this app from Whop"},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/experiences/"+goodExp, nil)
		if tt.user != "" {
			req.Header.Set(whop.HeaderUserToken, tt.user)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.status || !strings.Contains(string(body), tt.want) {
			t.Errorf("%q: %d, want %d with %s", tt.user, res.StatusCode, tt.status, tt.want)
		}
		if res.ContentLength != int64(len(body)) || res.Header.Get("Content-Length") != strconv.Itoa(len(body)) || len(res.TransferEncoding) != 0 {
			t.Errorf("%q: Content-Length %q (parsed %d), Transfer-Encoding %v for a body of %d bytes",
				tt.user, res.Header.Get("Content-Length"), res.ContentLength, res.TransferEncoding, len(body))
		}
		for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Request-Id"} {
			if res.Header.Get(h) == "" {
				t.Errorf("%q: no %s", tt.user, h)
			}
		}
		if ct, cc := res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"); ct != "text/html; charset=utf-8" || cc != "no-store" {
			t.Errorf("%q: Content-Type %q, Cache-Control %q", tt.user, ct, cc)
		}
	}
}

// BenchmarkExperienceHandler serves the member's page through the whole
// router (request id, log line, metrics, security headers, token, access,
// view model, template, response) with billing faked: what the app adds
// around the wallet read, without the network or the database.
func BenchmarkExperienceHandler(b *testing.B) {
	s := New(Deps{Settings: Settings{AppID: "app_test"}, Tokens: anyToken{},
		Logger:  slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Billing: Billing{Access: fakeAccess{}, Credits: walletOnly{wallet: memberWallet()}}})
	req := httptest.NewRequest(http.MethodGet, "http://app.test/experiences/"+goodExp, nil)
	req.Header.Set(whop.HeaderUserToken, "user_member")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
