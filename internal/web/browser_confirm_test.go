package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserConfirmLink drives a confirmation link in a real browser, as
// a contact arriving from their mail would: the page names the user and
// the organisation, the Confirm button unlocks the user, and pressing it
// again (back and reload) changes nothing. Screenshots of both pages are
// kept (confirm.png, confirmed.png).
func TestBrowserConfirmLink(t *testing.T) {
	ctx := newChromium(t)
	cf := newConfirmFixture(t, nil)
	text := func(css string) string { t.Helper(); return pageText(t, ctx, css) }

	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(cf.Server.URL+cf.path()))
	if err != nil || resp.Status != 200 {
		t.Fatalf("open the link: %v, %+v", err, resp)
	}
	if got := text("main h1"); !strings.Contains(got, "Confirm your unlock request") {
		t.Fatalf("the link's page is headed %q", got)
	}
	if got := text("[data-username]"); got != "carol" {
		t.Errorf("the page names %q, want carol", got)
	}
	if got := text("[data-orgs]"); got != "Acme Ltd" {
		t.Errorf("the page names the organisation %q, want Acme Ltd", got)
	}
	if got := text("main"); !strings.Contains(got, "Carol Cooper") || !strings.Contains(got, "it@acme.example") {
		t.Errorf("the page does not say who and for whom:\n%s", got)
	}
	first := screenshot(t, ctx, "confirm.png")
	cf.wantUntouched(t) // a real browser opening the page changes nothing

	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`form[action^="/confirm/"] button`))); err != nil {
		t.Fatalf("click Confirm: %v", err)
	}
	if got := text("main h1"); !strings.Contains(got, "Request confirmed") {
		t.Fatalf("after Confirm the page is headed %q", got)
	}
	if got := text("main .badge"); got != "unlocked" {
		t.Errorf("after Confirm carol's badge reads %q", got)
	}
	second := screenshot(t, ctx, "confirmed.png")
	if u := cf.user(t, "acme", "carol"); u.Lock != nil {
		t.Fatalf("carol is still locked after Confirm: %+v", u.Lock)
	}

	// Opening the link again shows it used.
	resp, err = chromedp.Run(ctx, chromedp.NavigateResponse(cf.Server.URL+cf.path()))
	if err != nil || resp.Status != 410 {
		t.Fatalf("the used link: %v, status %d, want 410", err, resp.Status)
	}
	if got := text("main"); !strings.Contains(got, "already used") {
		t.Errorf("the used link's page reads %q", got)
	}
	if len(cf.answers) != 1 {
		t.Errorf("%d answers, want 1", len(cf.answers))
	}
	t.Logf("screenshots: %s, %s", first, second)
}
