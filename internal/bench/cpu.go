package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// cpuSample is the CPU time every process has used so far, by command
// name, and the machine's total, from /proc (Linux). The difference of two
// samples says where a load's CPU went: unlockd, PostgreSQL, the load
// generator, or other work sharing the machine.
type cpuSample struct {
	byName map[string]time.Duration
	byPID  map[int]time.Duration
	total  time.Duration // busy time of all CPUs
	ok     bool
}

// clockTick is Linux's USER_HZ, the unit of /proc's CPU times, 100 on
// every common architecture.
const clockTick = 10 * time.Millisecond

func sampleCPU() cpuSample {
	s := cpuSample{byName: map[string]time.Duration{}, byPID: map[int]time.Duration{}}
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	for i := 1; i < len(f); i++ {
		if i == 4 || i == 5 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(f[i], 10, 64)
		s.total += time.Duration(n) * clockTick
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		open, close := strings.IndexByte(string(b), '('), strings.LastIndexByte(string(b), ')')
		if open < 0 || close < open {
			continue
		}
		name := string(b[open+1 : close])
		// After the name: state, then fields 4 on; utime, stime, cutime
		// and cstime are fields 14 to 17. For PostgreSQL the children's
		// part counts too: it is what exited backends used, which the
		// postmaster reaps. (The bench's own children are the load
		// generators, counted apart.)
		rest := strings.Fields(string(b[close+1:]))
		if len(rest) < 15 {
			continue
		}
		fields := []int{11, 12}
		if name == "postgres" {
			fields = append(fields, 13, 14)
		}
		var ticks int64
		for _, i := range fields {
			n, _ := strconv.ParseInt(rest[i], 10, 64)
			ticks += n
		}
		s.byName[name] += time.Duration(ticks) * clockTick
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(d))); err == nil {
			s.byPID[pid] = time.Duration(ticks) * clockTick
		}
	}
	s.ok = true
	return s
}

// cpuGroups name where a load's CPU may go: serve's process by its pid
// (other unlockd processes on the machine are someone else's), and
// processes by name (PostgreSQL's, of every client: the server is shared).
type cpuGroups struct {
	pids  map[string]int
	names map[string][]string
}

// split describes where the CPU went between before and after: cores used
// on average by each group, by the load generator (its own CPU time, as it
// has exited and left /proc), and by everything else.
func (after cpuSample) split(before cpuSample, wall time.Duration, groups cpuGroups, gen string, genCPU time.Duration) string {
	if !before.ok || !after.ok || wall <= 0 {
		return ""
	}
	used := map[string]time.Duration{}
	if gen != "" { // a load generator that has exited, with its CPU time
		used[gen] = genCPU
	}
	named := genCPU
	for g, pid := range groups.pids {
		d := max(after.byPID[pid]-before.byPID[pid], 0)
		used[g] += d
		named += d
	}
	for name, t := range after.byName {
		d := t - before.byName[name]
		if d <= 0 {
			continue
		}
		for g, names := range groups.names {
			for _, n := range names {
				if name == n {
					used[g] += d
					named += d
				}
			}
		}
	}
	keys := slices.Sorted(maps.Keys(used))
	var parts []string
	for _, g := range keys {
		parts = append(parts, fmt.Sprintf("%s %.2f", g, cores(used[g], wall)))
	}
	other := after.total - before.total - named
	parts = append(parts, fmt.Sprintf("other %.2f", cores(max(other, 0), wall)))
	return "cores used: " + strings.Join(parts, ", ")
}

func cores(d, wall time.Duration) float64 { return float64(d) / float64(wall) }
