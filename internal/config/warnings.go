package config

import (
	"fmt"
	"net"
	"strings"
)

// Warnings lists what is valid in c but unsafe outside a loopback setup:
// check-config prints them and the program logs them at start.
func (c *Config) Warnings() []string {
	h := &c.HTTP
	var ws []string
	if !listensOnLoopback(h.Listen) && !strings.HasPrefix(strings.ToLower(h.PublicURL), "https://") {
		ws = append(ws, "http.listen "+h.Listen+" is not a loopback address but http.public_url is not https://: "+
			"the web UI's session cookies are sent without Secure and can be read on the wire; "+
			"serve it over https and set public_url to the https address")
	}
	if h.LinkBase("") == "" {
		ws = append(ws, "http.public_url is not set and http.listen "+h.Listen+" is not a loopback address: "+
			"replies carry no confirmation links (email_confirmation), so unverified requests wait for staff; "+
			"set public_url to the address users reach")
	}
	metrics := h.MetricsListen
	if metrics == "" {
		metrics = h.Listen
	}
	if h.MetricsToken == "" && !listensOnLoopback(metrics) {
		ws = append(ws, "/metrics on "+metrics+" is open to anyone who can reach that address: "+
			"set http.metrics_token, or a loopback or internal http.metrics_listen")
	}
	for i, m := range c.Mailboxes {
		if c.Limits.Retention > 0 && (m.IMAP.ProcessedFolder == "" || m.IMAP.RejectedFolder == "") {
			ws = append(ws, fmt.Sprintf("mailboxes[%d] leaves decided mail in %s (processed_folder or rejected_folder is empty): "+
				"should the server's UIDVALIDITY change, mail older than limits.retention %s, whose decisions are deleted by then, "+
				"would be decided again; set both folders, or limits.retention: 0", i, m.IMAP.Mailbox, c.Limits.Retention))
		}
	}
	return ws
}

// listensOnLoopback reports whether a listen address (host:port, already
// validated) is bound to loopback only; an empty host is every interface.
func listensOnLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && host != "" && isLoopback(host)
}

// LinkBase is where links in mail point (confirmation links): public_url,
// or, without one, http://bound when the listener is on loopback (local
// use and the demo; bound is the address it listens on, listen when
// empty); "" when there is no address a reader could reach.
func (h HTTP) LinkBase(bound string) string {
	switch {
	case h.PublicURL != "":
		return strings.TrimRight(h.PublicURL, "/")
	case !listensOnLoopback(h.Listen):
		return ""
	case bound == "":
		bound = h.Listen
	}
	return "http://" + bound
}
