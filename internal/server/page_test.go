package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
	"golang.org/x/net/html"
)

// page is a parsed HTML answer, read by data-testid as a person reads it.
type page struct {
	t    *testing.T
	root *html.Node
}

func parsePage(t *testing.T, body string) *page {
	t.Helper()
	root, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse page: %v", err)
	}
	return &page{t: t, root: root}
}

func (p *page) find(testID string) *html.Node {
	var found *html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if found != nil {
			return
		}
		if n.Type == html.ElementNode && attr(n, "data-testid") == testID {
			found = n
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(p.root)
	return found
}

// has reports whether an element with the test id exists.
func (p *page) has(testID string) bool { return p.find(testID) != nil }

// text is the element's text with whitespace collapsed; the test fails
// when there is no such element.
func (p *page) text(testID string) string {
	p.t.Helper()
	n := p.find(testID)
	if n == nil {
		p.t.Fatalf("page has no data-testid=%q", testID)
	}
	return textOf(n)
}

// cells are the texts of a table row's cells.
func (p *page) cells(testID string) []string {
	p.t.Helper()
	n := p.find(testID)
	if n == nil {
		p.t.Fatalf("page has no row data-testid=%q", testID)
	}
	var out []string
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
			out = append(out, textOf(c))
		}
	}
	return out
}

// attr returns an attribute of the element with the test id.
func (p *page) attr(testID, name string) string {
	p.t.Helper()
	n := p.find(testID)
	if n == nil {
		p.t.Fatalf("page has no data-testid=%q", testID)
	}
	return attr(n, name)
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteString(" ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// buyIn makes user buy pkg in experience exp, pays, and waits for the
// webhook; it returns our purchase id and Whop's payment id.
func (a *app) buyIn(exp, user, pkg string) (purchaseID, paymentID string) {
	a.t.Helper()
	ch, plan, pur := a.chargeIn(exp, user, pkg)
	paymentID = a.pay(ch, plan, user)
	a.settle()
	return pur, paymentID
}

// form posts an HTML form as user, without following the redirect.
func (a *app) form(path, user string, values url.Values) (status int, location, body string) {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.url+path, strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		tok, err := a.sim.Token(user)
		if err != nil {
			a.t.Fatal(err)
		}
		req.Header.Set(whop.HeaderUserToken, tok)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		a.t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(b)
}

// simWorld is the part of the sandbox's state the money tests check.
type simWorld struct {
	Transfers map[string]whopsim.Transfer      `json:"transfers"`
	Ledgers   map[string]whopsim.LedgerAccount `json:"ledger_accounts"`
}

// world reads the sandbox's state through its control API.
func (a *app) world() simWorld {
	a.t.Helper()
	var w simWorld
	a.simState(&w)
	return w
}

// simState decodes the sandbox's state, as its control API reports it,
// into v: a struct of the parts a test checks.
func (a *app) simState(v any) {
	a.t.Helper()
	res, err := http.Get(a.env.URL + "/_sim/state")
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		a.t.Fatalf("sandbox state: %v", err)
	}
}

// ledgerBalance is a ledger account's balance at the sandbox.
func (w simWorld) ledgerBalance(id string) int64 { return w.Ledgers[id].Balance }

// balanceOf is the balance of the ledger account a company or user owns.
func (w simWorld) balanceOf(ownerID string) int64 {
	for _, l := range w.Ledgers {
		if l.OwnerID == ownerID {
			return l.Balance
		}
	}
	return -1
}
