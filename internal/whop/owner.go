package whop

import (
	"cmp"
	"context"
)

// App is a Whop app, as the API key that belongs to it sees it.
type App struct {
	ID        string
	Name      string
	CompanyID string // the company that owns the app
}

// Plan is a price of a product ("plan_…").
type Plan struct {
	ID        string
	CompanyID string // the owner: "company" before 2026-06-09, "account" after
	ProductID string
}

// GetApp retrieves an app. Whop shows an app key its own app only, so a
// not-found answer for an id means the key belongs to another app (or the
// id is wrong). Whop documents the developer:manage_api_key permission for
// it.
func (c *Client) GetApp(ctx context.Context, id string) (*App, error) {
	var w struct {
		ID      flexString `json:"id"`
		Name    flexString `json:"name"`
		Company link       `json:"company"`
		Account link       `json:"account"`
	}
	if err := c.getV1(ctx, "app id", "/apps/", id, &w); err != nil {
		return nil, err
	}
	return &App{ID: string(w.ID), Name: string(w.Name), CompanyID: cmp.Or(w.Company.ID, w.Account.ID)}, nil
}

// GetProduct retrieves a product.
func (c *Client) GetProduct(ctx context.Context, id string) (*Product, error) {
	var w struct {
		ID        flexString `json:"id"`
		Title     flexString `json:"title"`
		Route     flexString `json:"route"`
		Company   link       `json:"company"`
		Account   link       `json:"account"`
		CompanyID flexString `json:"company_id"`
	}
	if err := c.getV1(ctx, "product id", "/products/", id, &w); err != nil {
		return nil, err
	}
	return &Product{ID: string(w.ID), Title: string(w.Title), Route: string(w.Route),
		CompanyID: cmp.Or(w.Company.ID, w.Account.ID, string(w.CompanyID))}, nil
}

// GetPlan retrieves a plan. Its owner is read from whichever of account
// and company the answering version sends, so a client pinned to either
// side of 2026-06-09 (or a server that answers otherwise) reads it.
func (c *Client) GetPlan(ctx context.Context, id string) (*Plan, error) {
	var w struct {
		ID        flexString `json:"id"`
		Account   link       `json:"account"`
		Company   link       `json:"company"`
		AccountID flexString `json:"account_id"`
		CompanyID flexString `json:"company_id"`
		Product   link       `json:"product"`
	}
	if err := c.getV1(ctx, "plan id", "/plans/", id, &w); err != nil {
		return nil, err
	}
	return &Plan{ID: string(w.ID), ProductID: w.Product.ID,
		CompanyID: cmp.Or(w.Account.ID, w.Company.ID, string(w.AccountID), string(w.CompanyID))}, nil
}
