// Package view turns billing's results into what the pages and the JSON API
// show: the templ pages' view models (dashboard, payment look-up, activity,
// receipts, premium), the revenue chart's layout, the CSV exports' records,
// the API's reply shapes and the formatting of counts, money and times they
// share. It decides nothing and reads nothing: the handlers in server call
// billing, then hand the result here.
package view
