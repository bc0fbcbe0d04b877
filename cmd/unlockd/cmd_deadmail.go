package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

const (
	deadMailListUsage    = "dead-mail list --config FILE [--after ID] [--limit N]"
	deadMailRetryUsage   = "dead-mail retry --config FILE ID"
	deadMailDiscardUsage = "dead-mail discard --config FILE ID"
)

// cmdDeadMail lists mail the outbox gave up on (smtp.max_attempts, or a
// permanent refusal) and retries or discards it.
func cmdDeadMail(ctx context.Context, s streams, args []string) error {
	return subcommands{
		"list":    {deadMailListUsage, deadMailList},
		"retry":   {deadMailRetryUsage, deadMailRetry},
		"discard": {deadMailDiscardUsage, deadMailDiscard},
	}.dispatch(ctx, s, "dead-mail", args)
}

// deadMailList prints dead mail, oldest first, with its last error.
func deadMailList(ctx context.Context, s streams, args []string) error {
	fs := newFlags("dead-mail list", deadMailListUsage, s)
	cfgPath := configFlag(fs)
	after := fs.Int64("after", 0, "list only mail with an ID above `ID` (the next page)")
	limit := fs.Int("limit", 100, fmt.Sprintf("list at most `N` mails, 1 to %d", store.MaxLimit))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "config"); err != nil {
		return err
	}
	if *limit < 1 || *limit > store.MaxLimit {
		return usagef("--limit must be from 1 to %d", store.MaxLimit)
	}
	if *after < 0 {
		return usagef("--after must not be negative")
	}
	return withStore(ctx, *cfgPath, func(st *store.Store) error {
		mails, err := st.ListDeadMail(ctx, store.DeadMailFilter{AfterID: *after, Limit: *limit})
		if err != nil {
			return err
		}
		rows := make([][]string, len(mails))
		for i, m := range mails {
			rows[i] = []string{strconv.FormatInt(m.ID, 10), string(m.Kind), cell(m.To, 254), strconv.Itoa(m.Attempts),
				when(m.CreatedAt), cell(m.Subject, 60), cell(m.LastError, 200)}
		}
		return table(s.stdout, "ID KIND TO ATTEMPTS CREATED SUBJECT LAST_ERROR", rows)
	})
}

// deadMailRetry puts one dead mail back in the queue; a running serve
// sends it within its poll interval.
func deadMailRetry(ctx context.Context, s streams, args []string) error {
	return deadMailByID(ctx, s, args, "dead-mail retry", deadMailRetryUsage, func(st *store.Store, id int64) error {
		m, err := st.RetryMail(ctx, id, "cli", "cli")
		if err == nil {
			fmt.Fprintf(s.stderr, "mail %d to %s is queued again\n", m.ID, m.To)
		}
		return err
	})
}

// deadMailDiscard deletes one dead mail unsent.
func deadMailDiscard(ctx context.Context, s streams, args []string) error {
	return deadMailByID(ctx, s, args, "dead-mail discard", deadMailDiscardUsage, func(st *store.Store, id int64) error {
		m, err := st.DiscardMail(ctx, id, "cli", "cli")
		if err == nil {
			fmt.Fprintf(s.stderr, "mail %d to %s discarded\n", m.ID, m.To)
		}
		return err
	})
}

// deadMailByID parses --config and the ID and runs fn with the store; an
// ID that names no dead mail is a usage error.
func deadMailByID(ctx context.Context, s streams, args []string, name, usage string, fn func(*store.Store, int64) error) error {
	fs := newFlags(name, usage, s)
	cfgPath := configFlag(fs)
	arg, err := parseWithArg(fs, args, "the mail's ID")
	if err != nil {
		return err
	}
	id, err := idArg("ID", arg)
	if err != nil {
		return err
	}
	if err := required(fs, "config"); err != nil {
		return err
	}
	return withStore(ctx, *cfgPath, func(st *store.Store) error {
		err := fn(st, id)
		if errors.Is(err, domain.ErrNotFound) {
			return &usageError{domain.ErrorMessage(err)}
		}
		return err
	})
}
