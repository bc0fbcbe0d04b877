package senderauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// ProbeDNS looks up the TXT records of name through the resolver DKIM key
// lookups use (resolver, a host:port, or the system's when empty), within
// timeout. An answer that the name does not exist counts: the resolver
// answered. A timeout, SERVFAIL or refused query is the error.
func ProbeDNS(ctx context.Context, resolverAddr, name string, timeout time.Duration) (string, error) {
	if timeout <= 0 {
		timeout = DefaultDNSTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	via := "the system resolver"
	if resolverAddr != "" {
		via = resolverAddr
	}
	txts, err := resolver(resolverAddr).LookupTXT(ctx, name)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("TXT %s through %s: no such name (the resolver answered)", name, via), nil
	case err != nil:
		return "", fmt.Errorf("senderauth: TXT %s through %s: %w", name, via, err)
	}
	return fmt.Sprintf("TXT %s through %s: %d record(s)", name, via, len(txts)), nil
}
