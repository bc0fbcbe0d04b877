package mailtest

import (
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// FetchAll times one plain-IMAP session fetching every body of the INBOX
// at addr, read-only, and returns how many messages it fetched: the floor
// a drain of the same mailbox is measured against. A first, untimed pass
// fetches only UIDs, so that the server has indexed new mail, as it has by
// the time a drain runs.
func FetchAll(addr, user, password string) (int, time.Duration, error) {
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("mailtest: fetch all: %w", err)
	}
	defer c.Close()
	if err := c.Login(user, password).Wait(); err != nil {
		return 0, 0, fmt.Errorf("mailtest: fetch all: login: %w", err)
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return 0, 0, fmt.Errorf("mailtest: fetch all: select: %w", err)
	}
	var all imap.UIDSet
	all.AddRange(1, 0)
	if _, err := c.Fetch(all, &imap.FetchOptions{UID: true}).Collect(); err != nil {
		return 0, 0, fmt.Errorf("mailtest: fetch all: uids: %w", err)
	}
	start := time.Now()
	msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		return 0, 0, fmt.Errorf("mailtest: fetch all: bodies: %w", err)
	}
	return len(msgs), time.Since(start), nil
}
