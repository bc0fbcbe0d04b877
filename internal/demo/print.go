package demo

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// printer writes the printout for a person. Only one goroutine uses it at
// a time: Run's.
type printer struct{ w io.Writer }

// line prints a labelled line, indented under the sample it belongs to.
func (p *printer) line(label, format string, args ...any) {
	fmt.Fprintf(p.w, "  %-9s %s\n", label, fmt.Sprintf(format, args...))
}

// quoted prints text indented and marked as quoted mail.
func (p *printer) quoted(text string) {
	for l := range strings.SplitSeq(text, "\n") {
		fmt.Fprintln(p.w, strings.TrimRight("            | "+l, " \t"))
	}
}

func (p *printer) header(dir, imapAddr, smtpAddr, dkimRecord, httpAddr string) {
	fmt.Fprintf(p.w, "unlockd demo: the whole service in this process, with sample data; nothing is kept.\n")
	p.line("store", "SQLite in %s", dir)
	p.line("mailbox", "IMAP server %s holding %s (INBOX)", imapAddr, imapUser)
	p.line("outgoing", "SMTP sink %s: captures mail, delivers nothing", smtpAddr)
	p.line("sender", "DKIM, with a key made at start and served in-process as %s", dkimRecord)
	p.line("HTTP", "%s", baseURL(httpAddr))
}

// seeded prints the org and its users as the store holds them.
func (p *printer) seeded(ctx context.Context, st *store.Store) error {
	users, err := st.ListUsers(ctx, orgSlug, store.UserFilter{})
	if err != nil {
		return fmt.Errorf("demo: list users: %w", err)
	}
	p.org()
	for _, u := range users {
		state := "active"
		switch {
		case u.Lock != nil && u.Lock.Reason == domain.LockFailedLogins:
			state = fmt.Sprintf("locked after %d failed logins", u.FailedLogins)
		case u.Lock != nil:
			state = fmt.Sprintf("locked by an admin: %q", u.Lock.Note)
		}
		fmt.Fprintf(p.w, "  %-8s %-12s %s\n", u.Username, u.DisplayName, state)
	}
	p.delivering()
	return nil
}

// delivering announces the samples.
func (p *printer) delivering() {
	fmt.Fprintf(p.w, "\nDelivering %d sample requests to the support mailbox.\n", len(samples))
}

// org prints who is who.
func (p *printer) org() {
	fmt.Fprintf(p.w, "\nOrg %s (%s), authorised contact %s, org admin %s; support staff %s.\n",
		orgSlug, orgName, contactEmail, adminEmail, staffEmail)
}

func (p *printer) request(n, of int, d delivery) {
	fmt.Fprintf(p.w, "\n[%d/%d] %s\n", n, of, d.title)
	p.line("mail", "%q from %s", d.subject, contactEmail)
}

// verdictWords explain the verdicts that have no items to show.
var verdictWords = map[domain.Verdict]string{
	domain.VerdictIgnored:    "ignored: auto-generated mail is never acted on or answered",
	domain.VerdictRejected:   "rejected: the sender is not an authorised contact",
	domain.VerdictNoUsername: "no username found; the reply asks for one",
}

// decision prints the verdict, how the sender was judged, and what became
// of each requested username.
func (p *printer) decision(v domain.Verdict, items []store.Request) {
	if len(items) == 0 {
		words, ok := verdictWords[v]
		if !ok {
			words = string(v)
		}
		p.line("decision", "%s", words)
		return
	}
	auth := "sender authenticated"
	if !items[0].Authenticated {
		auth = "sender NOT authenticated"
	}
	p.line("decision", "%s; %s (%s)", v, auth, items[0].AuthReason)
	for _, it := range items {
		p.line("outcome", "%s: %s", it.Username, outcome(it.Item))
	}
}

// outcome names an item's state the way the API does.
func outcome(it domain.Item) string {
	switch it.State {
	case domain.ItemApplied:
		return "unlocked"
	case domain.ItemPending:
		return fmt.Sprintf("queued for review (%s)", it.Reason)
	}
	return strings.ReplaceAll(string(it.State), "_", " ")
}

func (p *printer) noMail() { p.line("mail out", "none") }

// mail prints a captured mail: a reply in full, a notification in a line.
func (p *printer) mail(c captured) {
	to := strings.Join(c.to, ", ")
	if c.inReplyTo == "" {
		p.line("notice", "to %s: %q", to, c.subject)
		return
	}
	p.line("reply", "to %s: %q", to, c.subject)
	p.line("", "In-Reply-To: <%s>", c.inReplyTo)
	p.quoted(c.text)
}

func (p *printer) summary(n int, t tally, elapsed time.Duration) {
	fmt.Fprintf(p.w, "\nAll %d sample requests decided; %d replies and %d notifications captured, %.1fs after start.\n",
		n, t.replies, t.notices, elapsed.Seconds())
}

// signIns prints how to look further: the web UI with the operators'
// sign-ins, the readiness check, and what waits in the queue.
func (p *printer) signIns(ctx context.Context, st *store.Store, httpAddr string, accounts []signIn) error {
	pending, err := st.ListRequests(ctx, store.RequestFilter{State: domain.ItemPending, Limit: store.MaxLimit})
	if err != nil {
		return fmt.Errorf("demo: pending requests: %w", err)
	}
	url := baseURL(httpAddr)
	fmt.Fprintf(p.w, "\nWeb UI    %s\n", url)
	for _, a := range accounts {
		scope := "all orgs"
		if a.OrgSlug != "" {
			scope = "org " + a.OrgSlug + " only"
		}
		fmt.Fprintf(p.w, "          %-5s %-20s password %s  (%s)\n", a.Role, a.Email, a.password, scope)
	}
	fmt.Fprintf(p.w, "          (passwords made for this run; the store goes when the demo stops;\n")
	fmt.Fprintf(p.w, "          staff enrol an authenticator app from a QR code at their first sign-in)\n")
	fmt.Fprintf(p.w, "Check     curl -s %sreadyz\n", url)
	if len(pending) > 0 {
		names := make([]string, len(pending))
		for i, r := range pending {
			names[i] = r.Username
		}
		fmt.Fprintf(p.w, "Queue     %s wait for review; approve or decline them and the reply shows up here.\n", strings.Join(names, ", "))
	}
	fmt.Fprintf(p.w, "Press Ctrl-C to stop; the temporary folder is then removed.\n")
	return nil
}

// baseURL is the URL of the HTTP server at addr, with a host a browser can
// reach when addr listens on every interface.
func baseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + "/"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
