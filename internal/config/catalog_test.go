package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestSpendItemsParsing(t *testing.T) {
	long := strings.Repeat("x", MaxItemTitle+1)
	tests := []struct {
		name     string
		in       string
		want     []SpendItem
		problems []string // each line after "config: SPEND_ITEMS: ", in order
	}{
		{name: "unset gives the shipped catalog", in: "", want: []SpendItem{
			{ID: "sticker", Cost: 5, Title: "Sticker pack", Description: "A pack of animated stickers for the chat."},
			{ID: "boost", Cost: 20, Title: "Profile boost", Description: "Pin your profile to the top of the member list for a day."},
			{ID: "review", Cost: 50, Title: "Expert review", Description: "A written review of your work by the creator."},
		}},
		{name: "the issue's example", in: "sticker:5:Sticker pack,boost:20:Profile boost", want: []SpendItem{
			{ID: "sticker", Cost: 5, Title: "Sticker pack"},
			{ID: "boost", Cost: 20, Title: "Profile boost"},
		}},
		{name: "spaces trimmed, description keeps its colons", in: " hint : 3 : Hint : Next step: read it , ", want: []SpendItem{
			{ID: "hint", Cost: 3, Title: "Hint", Description: "Next step: read it"},
		}},
		{name: "unicode title at the limit", in: "e:1:" + strings.Repeat("é", MaxItemTitle), want: []SpendItem{
			{ID: "e", Cost: 1, Title: strings.Repeat("é", MaxItemTitle)},
		}},
		{name: "unknown syntax", in: "sticker:5", problems: []string{`item 1: "sticker:5" is not id:credits:title (e.g. sticker:5:Sticker pack)`}},
		{name: "a comma inside a title", in: "a:1:Hats, scarves", problems: []string{`item 2: "scarves" is not id:credits:title`}},
		{name: "bad id", in: "Big Item:5:Big", problems: []string{`item 1: id "Big Item" must be 1-32 of a-z, 0-9, - or _`}},
		{name: "duplicate id", in: "a:1:One,b:2:Two,a:3:Again", problems: []string{`item 3: id "a" appears twice`}},
		{name: "zero cost", in: "a:0:Free", problems: []string{`item 1: "a": credits must be from 1 to 1000000000, got "0"`}},
		{name: "cost past the most", in: "a:1000000001:Dear", problems: []string{`item 1: "a": credits must be from 1 to 1000000000, got "1000000001"`}},
		{name: "negative cost", in: "a:-5:Minus", problems: []string{`item 1: "a": credits must be from 1 to 1000000000, got "-5"`}},
		{name: "fractional cost", in: "a:2.5:Half", problems: []string{`item 1: "a": credits must be a whole number above 0, got "2.5"`}},
		{name: "title too long", in: "a:1:" + long, problems: []string{`item 1: "a": the title is 61 characters, at most 60`}},
		{name: "empty title", in: "a:1: ", problems: []string{`item 1: "a": the title is empty`}},
		{name: "description too long", in: "a:1:T:" + strings.Repeat("d", MaxItemDescription+1), problems: []string{`item 1: "a": the description is 201 characters, at most 200`}},
		{name: "only commas", in: " , ,", problems: []string{`lists no item`}},
		{name: "every problem reported, one line each", in: "ok:1:Fine,x:0:,ok:2:Twice,Y:1:Bad id", problems: []string{
			`item 2: "x": credits must be from 1 to 1000000000, got "0"`,
			`item 2: "x": the title is empty`,
			`item 3: id "ok" appears twice`,
			`item 4: id "Y" must be`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validEnv()
			e["SPEND_ITEMS"] = tt.in
			cfg, err := Load(env(e))
			if len(tt.problems) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if !reflect.DeepEqual(cfg.SpendItems, tt.want) {
					t.Fatalf("items:\n got %#v\nwant %#v", cfg.SpendItems, tt.want)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load error = %v, want *config.Error", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.problems) {
				t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(tt.problems), err)
			}
			for i, w := range tt.problems {
				if !strings.HasPrefix(lines[i], "config: SPEND_ITEMS: "+w) {
					t.Errorf("line %d = %q, want it to start with %q", i, lines[i], "config: SPEND_ITEMS: "+w)
				}
			}
		})
	}
}
