package whop

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
)

// AccessLevel is a user's relation to a company, product or experience.
type AccessLevel string

// Access levels. Only AccessAdmin may see a company's dashboard.
const (
	AccessAdmin    AccessLevel = "admin"
	AccessCustomer AccessLevel = "customer"
	AccessNone     AccessLevel = "no_access"
)

// Access is the answer to "may this user see that resource?".
type Access struct {
	HasAccess bool
	Level     AccessLevel
}

// User is a Whop user.
type User struct {
	ID       string
	Username string
	Name     string
	Email    string // only with a permission to read it
}

// Experience is an installed instance of an app inside a company.
type Experience struct {
	ID        string // "exp_…"
	Name      string
	CompanyID string
	// CompanyTitle and CompanyRoute name the company (its slug on whop.com).
	CompanyTitle, CompanyRoute string
	// Products are the products (access passes) that give access to the
	// experience: what someone without access would buy or join.
	Products []Product
}

// Product is a Whop product ("prod_…", formerly an access pass).
type Product struct {
	ID        string
	Title     string
	Route     string // its slug on whop.com
	CompanyID string // its seller; read by GetProduct (an experience's list leaves it empty)
}

// Company is a Whop company ("biz_…"), the seller.
type Company struct {
	ID    string
	Title string
	Route string // the company's slug on whop.com
}

// CheckAccess asks whether userID may access resourceID: a company
// ("biz_…"), a product ("prod_…") or an experience ("exp_…").
func (c *Client) CheckAccess(ctx context.Context, userID, resourceID string) (Access, error) {
	user, ok1 := pathID(userID)
	res, ok2 := pathID(resourceID)
	if !ok1 || !ok2 {
		return Access{}, fmt.Errorf("%w: access check for %q on %q", ErrInvalidArgument, userID, resourceID)
	}
	var w struct {
		HasAccess   optBool    `json:"has_access"`
		AccessLevel flexString `json:"access_level"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, url: c.v1("/users/" + user + "/access/" + res)}, &w); err != nil {
		return Access{}, err
	}
	level := AccessLevel(w.AccessLevel)
	if level == "" {
		level = AccessNone
	}
	return Access{HasAccess: w.HasAccess.val, Level: level}, nil
}

// GetUser retrieves a user by id ("user_…") or username.
func (c *Client) GetUser(ctx context.Context, idOrUsername string) (*User, error) {
	var w link
	if err := c.getV1(ctx, "user", "/users/", idOrUsername, &w); err != nil {
		return nil, err
	}
	return &User{ID: w.ID, Username: w.Username, Name: w.Name, Email: w.Email}, nil
}

// GetExperience retrieves an experience, chiefly to learn its company.
func (c *Client) GetExperience(ctx context.Context, id string) (*Experience, error) {
	var w struct {
		ID        flexString `json:"id"`
		Name      flexString `json:"name"`
		Company   link       `json:"company"`
		CompanyID flexString `json:"company_id"`
		Products  []link     `json:"products"`
	}
	if err := c.getV1(ctx, "experience id", "/experiences/", id, &w); err != nil {
		return nil, err
	}
	e := &Experience{ID: string(w.ID), Name: string(w.Name), CompanyID: cmp.Or(w.Company.ID, string(w.CompanyID)),
		CompanyTitle: w.Company.Title, CompanyRoute: w.Company.Route}
	for _, p := range w.Products {
		e.Products = append(e.Products, Product{ID: p.ID, Title: p.Title, Route: p.Route})
	}
	return e, nil
}

// GetCompany retrieves a company.
func (c *Client) GetCompany(ctx context.Context, id string) (*Company, error) {
	var w link
	if err := c.getV1(ctx, "company id", "/companies/", id, &w); err != nil {
		return nil, err
	}
	return &Company{ID: w.ID, Title: w.Title, Route: w.Route}, nil
}
