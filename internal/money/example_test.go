package money_test

import (
	"fmt"

	"github.com/creditkit/creditkit/internal/money"
)

func ExampleParseMajor() {
	cents, err := money.ParseMajor("4.99", money.USD)
	fmt.Println(cents, err)
	yen, err := money.ParseMajor("500", money.JPY)
	fmt.Println(yen, err)
	_, err = money.ParseMajor("4.999", money.USD)
	fmt.Println(err)
	// Output:
	// 499 <nil>
	// 500 <nil>
	// parse "4.999" as usd: money: more decimal places than the currency allows
}

func ExampleAmount_String() {
	fmt.Println(money.Amount{Minor: 499, Currency: money.USD})
	fmt.Println(money.Amount{Minor: -100, Currency: money.USD})
	fmt.Println(money.Amount{Minor: 123456, Currency: money.EUR})
	fmt.Println(money.Amount{Minor: 500, Currency: money.JPY})
	fmt.Println(money.Amount{Minor: 499, Currency: money.WhopUSD})
	fmt.Println(money.FormatMajor(1050, money.USD))
	// Output:
	// $4.99
	// -$1.00
	// €1,234.56
	// ¥500
	// 4.99 WHOP_USD
	// 10.5
}
