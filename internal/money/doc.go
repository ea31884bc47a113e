// Package money represents amounts of money exactly, as integer minor units
// of a currency, and converts them to and from the decimal major units that
// Whop's API and the app's configuration use.
//
// Nothing here uses floating point: a price of "4.99" becomes 499 cents by
// reading its digits, and 499 cents becomes "4.99" by writing them. The
// conversion happens only at the boundary, so arithmetic inside the app is
// always on integers.
package money
