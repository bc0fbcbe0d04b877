package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// result is one load's figures.
type result struct {
	Rate     float64 // requests or transactions per second
	P50, P99 time.Duration
	// Failed counts requests answered with an error status, or failed
	// transactions.
	Failed int64
	Total  int64
	// CPU is what the load generator (wrk or pgbench) itself used.
	CPU time.Duration
}

func (r result) String() string {
	s := fmt.Sprintf("%9s/s  p50 %6s  p99 %6s", thousands(r.Rate), ms(r.P50), ms(r.P99))
	if r.Failed > 0 {
		s += fmt.Sprintf("  FAILED %d of %d", r.Failed, r.Total)
	}
	return s
}

// pair is one figure: unlockd's load and PostgreSQL's floor for it, in
// each round, and the targets it is held to.
type pair struct {
	name        string
	ours, floor []result
	minRatio    float64       // ours.Rate / floor.Rate at least this
	maxP99      time.Duration // ours.P99 below this
}

func (p *pair) ratio(i int) float64 {
	if p.floor[i].Rate == 0 {
		return 0
	}
	return p.ours[i].Rate / p.floor[i].Rate
}

// met reports whether round i met both targets.
func (p *pair) met(i int) bool {
	return p.ratio(i) >= p.minRatio && p.ours[i].P99 < p.maxP99 && p.ours[i].Failed == 0
}

// summarise prints each pair's ratio and p99 per round against its
// targets, and returns how many rounds missed one.
func summarise(w io.Writer, pairs []*pair) int {
	missed := 0
	fmt.Fprintln(w, "summary (one column per round):")
	for _, p := range pairs {
		var ratios, p99s []string
		for i := range p.ours {
			mark := ""
			if !p.met(i) {
				mark, missed = " (missed)", missed+1
			}
			ratios = append(ratios, fmt.Sprintf("%.2f%s", p.ratio(i), mark))
			p99s = append(p99s, ms(p.ours[i].P99))
		}
		fmt.Fprintf(w, "  %-8s ratio %s (target >= %.2f); p99 %s (target < %s)\n",
			p.name, strings.Join(ratios, ", "), p.minRatio, strings.Join(p99s, ", "), ms(p.maxP99))
	}
	return missed
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

// thousands formats v rounded, with a comma every three digits.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
