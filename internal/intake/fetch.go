package intake

import (
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/unlockd/unlockd/internal/mailheader"
)

// sized is a UID with its RFC822.SIZE.
type sized struct {
	uid  uint32
	size int64
}

// list returns, in UID order and with their sizes, the messages above last
// and those of the given UIDs below it (deferred messages due again), in
// one FETCH. The range "last+1:*" always matches the newest message even
// when its UID is lower, so the answer is filtered.
func (w *Watcher) list(c *imapclient.Client, last uint32, also []uint32) (fresh, old []sized, err error) {
	var set imap.UIDSet
	for _, u := range also {
		set.AddNum(imap.UID(u))
	}
	set.AddRange(imap.UID(last+1), 0)
	msgs, err := c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return nil, nil, fmt.Errorf("intake: list messages: %w", err)
	}
	for _, m := range msgs {
		s := sized{uint32(m.UID), m.RFC822Size}
		switch {
		case s.uid > last:
			fresh = append(fresh, s)
		case slices.Contains(also, s.uid):
			old = append(old, s)
		}
	}
	byUID := func(a, b sized) int { return int(a.uid) - int(b.uid) }
	slices.SortFunc(fresh, byUID)
	slices.SortFunc(old, byUID)
	return fresh, old, nil
}

// truncatedBodyBytes is how much of an oversized message's body is read.
const truncatedBodyBytes = 256 << 10

// maxHeaderBytes is what an oversized message's header may take in memory:
// as much as the header parser reads.
var maxHeaderBytes = int64(mailheader.DefaultLimits.Bytes)

// spoolBuffer is the buffer a spooled message is copied through.
const spoolBuffer = 32 << 10

// fetch downloads a batch: with one FETCH the messages held in memory
// whole, with another the header and first body bytes of oversized ones,
// and one at a time, streamed to a temporary file, those over SpoolBytes.
// A message expunged meanwhile is missing from the answer.
func (w *Watcher) fetch(c *imapclient.Client, uidvalidity uint32, batch []sized) (map[uint32]Message, error) {
	var whole, big imap.UIDSet
	var spooled []sized
	for _, m := range batch {
		switch {
		case m.size > w.cfg.MaxMessageBytes:
			big.AddNum(imap.UID(m.uid))
		case m.size > w.cfg.SpoolBytes:
			spooled = append(spooled, m)
		default:
			whole.AddNum(imap.UID(m.uid))
		}
	}
	wholeSection := &imap.FetchItemBodySection{Peek: true}
	headSection := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	textSection := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText, Peek: true,
		Partial: &imap.SectionPartial{Offset: 0, Size: truncatedBodyBytes}}
	out := make(map[uint32]Message, len(batch))
	for _, f := range []struct {
		set       imap.UIDSet
		sections  []*imap.FetchItemBodySection
		truncated bool
	}{{whole, []*imap.FetchItemBodySection{wholeSection}, false}, {big, []*imap.FetchItemBodySection{headSection, textSection}, true}} {
		if len(f.set) == 0 {
			continue
		}
		msgs, err := c.Fetch(f.set, &imap.FetchOptions{UID: true, RFC822Size: true, InternalDate: true, BodySection: f.sections}).Collect()
		if err != nil {
			return nil, fmt.Errorf("intake: fetch: %w", err)
		}
		for _, m := range msgs {
			msg := Message{Mailbox: w.cfg.Name, UIDValidity: uidvalidity, UID: uint32(m.UID), Size: m.RFC822Size,
				Received: m.InternalDate, Truncated: f.truncated}
			if f.truncated {
				msg.Raw = append(append([]byte{}, m.FindBodySection(headSection)...), m.FindBodySection(textSection)...)
			} else {
				msg.Raw = m.FindBodySection(wholeSection)
			}
			out[msg.UID] = msg
		}
	}
	for _, m := range spooled {
		msg, ok, err := w.spool(c, uidvalidity, m)
		if err != nil {
			for _, done := range out {
				removeSpool(done)
			}
			return nil, err
		}
		if ok {
			out[m.uid] = msg
		}
	}
	return out, nil
}

// spool fetches one message whole into a temporary file, streaming its
// literal: it is never held in memory. ok is false when the message is no
// longer in the mailbox.
func (w *Watcher) spool(c *imapclient.Client, uidvalidity uint32, s sized) (msg Message, ok bool, err error) {
	var set imap.UIDSet
	set.AddNum(imap.UID(s.uid))
	cmd := c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true, InternalDate: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	msg = Message{Mailbox: w.cfg.Name, UIDValidity: uidvalidity, UID: s.uid, Size: s.size}
	defer func() {
		if err != nil || !ok {
			removeSpool(msg)
			msg.Spool = nil
		}
	}()
	for data := cmd.Next(); data != nil; data = cmd.Next() {
		for item := data.Next(); item != nil; item = data.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				ok = ok || uint32(it.UID) == s.uid
			case imapclient.FetchItemDataInternalDate:
				msg.Received = it.Time
			case imapclient.FetchItemDataBodySection:
				if it.Literal == nil || msg.Spool != nil {
					continue
				}
				if msg.Spool, err = os.CreateTemp("", "unlockd-mail-*.eml"); err != nil {
					cmd.Close()
					return msg, false, fmt.Errorf("intake: spool uid %d: %w", s.uid, err)
				}
				if _, err = io.CopyBuffer(msg.Spool, it.Literal, make([]byte, spoolBuffer)); err != nil {
					cmd.Close()
					return msg, false, fmt.Errorf("intake: spool uid %d: %w", s.uid, err)
				}
			}
		}
	}
	if err := cmd.Close(); err != nil {
		return msg, false, fmt.Errorf("intake: fetch uid %d: %w", s.uid, err)
	}
	return msg, ok && msg.Spool != nil, nil
}

// removeSpool deletes a message's temporary file, if it has one.
func removeSpool(m Message) {
	if m.Spool != nil {
		m.Spool.Close()
		os.Remove(m.Spool.Name())
	}
}

// move files decided messages: one MOVE per folder (COPY, STORE \Deleted
// and UID EXPUNGE where the server lacks MOVE), or \Seen where no folder is
// configured.
func (w *Watcher) move(c *imapclient.Client, moves map[Folder][]uint32) error {
	for folder, uids := range moves {
		target := w.cfg.ProcessedFolder
		if folder == Rejected {
			target = w.cfg.RejectedFolder
		}
		var set imap.UIDSet
		for _, u := range uids {
			set.AddNum(imap.UID(u))
		}
		if target == "" {
			if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
				return fmt.Errorf("intake: flag seen: %w", err)
			}
			continue
		}
		if _, err := c.Move(set, target).Wait(); err != nil {
			return fmt.Errorf("intake: move to %s: %w", target, err)
		}
	}
	return nil
}
