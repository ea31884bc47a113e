package page_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/creditkit/creditkit/web/component"
	"github.com/creditkit/creditkit/web/layout"
	"github.com/creditkit/creditkit/web/page"
)

// BenchmarkExperiencePage renders the member page with ten receipts, the
// shape of the app's most frequent response.
func BenchmarkExperiencePage(b *testing.B) {
	v := page.ExperienceView{
		Layout:       layout.Props{Title: "Credits", AppID: "app_kCLsuetXarSdF6", ParentOrigins: "https://whop.com,https://dash.whop.com", AssetVersion: "6d2efd4194dd"},
		ExperienceID: "exp_Pp0gpuTrzEc33C",
		Balance:      component.BalanceProps{Credits: "12,500"},
		Packages: []page.PackageCard{
			{ID: "starter", Credits: "100", Price: "$4.99", PerUnit: "5.0¢ a credit"},
			{ID: "pro", Credits: "600", Price: "$24.99", PerUnit: "4.2¢ a credit"},
		},
		Items: []page.ItemRow{
			{ID: "sticker", Name: "Sticker pack", Description: "A pack of animated stickers for the chat.", Cost: "5 credits"},
			{ID: "boost", Name: "Profile boost", Description: "Pin your profile to the top of the member list for a day.", Cost: "20 credits"},
			{ID: "review", Name: "Expert review", Description: "A written review of your work by the creator.", Cost: "50 credits"},
		},
	}
	for i := 0; i < 10; i++ {
		v.Receipts = append(v.Receipts, page.ReceiptRow{ID: fmt.Sprintf("pur_%016d", i), When: "Nov 22, 10:41 UTC", Package: "starter",
			Credits: "+100", Amount: "$4.99", Status: component.BadgeProps{Label: "Paid", Tone: "ok"}})
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := page.Experience(v).Render(ctx, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
