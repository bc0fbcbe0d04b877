package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in configuration files as Go
// duration text ("30s", "12h", "1h30m") with one extension: a "d" unit
// for days of 24 hours ("7d", "1d12h"). A bare 0 means zero; any other
// number without a unit is an error.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d the way ParseDuration reads it, using days for whole
// multiples of 24 hours: 7d, 1d12h, 1h30m, 30s.
func (d Duration) String() string {
	v := time.Duration(d)
	if v == 0 {
		return "0s"
	}
	sign := ""
	if v < 0 {
		if v == math.MinInt64 {
			return v.String()
		}
		sign, v = "-", -v
	}
	const day = 24 * time.Hour
	days, rest := v/day, v%day
	var b strings.Builder
	b.WriteString(sign)
	if days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10))
		b.WriteByte('d')
	}
	if rest > 0 {
		s := rest.String()
		// time.Duration prints 1h30m0s and 2h0m0s; drop the zero tail.
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		b.WriteString(s)
	}
	return b.String()
}

// MarshalYAML writes d as its String form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a duration scalar; see [ParseDuration].
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("expected a duration such as 30s, 12h or 7d")
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ParseDuration parses Go duration text extended with a "d" unit of 24
// hours: "7d", "1d12h", "1.5d", "90m", "-1h". A bare "0" is zero.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "0" || in == "+0" || in == "-0" {
		return 0, nil
	}
	bad := func(why string) error {
		return fmt.Errorf("invalid duration %q: %s (use e.g. 30s, 1h30m or 7d)", s, why)
	}
	if in == "" {
		return 0, bad("empty")
	}
	neg := false
	rest := in
	if rest[0] == '-' || rest[0] == '+' {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	var total time.Duration
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] == '.' || rest[i] >= '0' && rest[i] <= '9') {
			i++
		}
		num := rest[:i]
		j := i
		for j < len(rest) && rest[j] != '.' && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		unit := rest[i:j]
		rest = rest[j:]
		if num == "" {
			return 0, bad("expected a number")
		}
		if unit == "" {
			return 0, bad("missing unit")
		}
		var part time.Duration
		if unit == "d" {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, bad("bad number " + strconv.Quote(num))
			}
			days := f * float64(24*time.Hour)
			if days > math.MaxInt64 {
				return 0, bad("too large")
			}
			part = time.Duration(days)
		} else {
			v, err := time.ParseDuration(num + unit)
			if err != nil {
				return 0, bad("unknown unit or bad number in " + strconv.Quote(num+unit))
			}
			part = v
		}
		if total > math.MaxInt64-part {
			return 0, bad("too large")
		}
		total += part
	}
	if neg {
		total = -total
	}
	return total, nil
}

// ByteSize is a size in bytes written either as a plain integer or as an
// integer with a unit: B, decimal KB MB GB TB (powers of 1000) or binary
// KiB MiB GiB TiB (powers of 1024). Units are case-insensitive and may be
// separated from the number by a space: "10MiB", "512 KiB", "100KB", "123B".
type ByteSize int64

// Binary and decimal byte units.
const (
	KiB ByteSize = 1 << 10
	MiB ByteSize = 1 << 20
	GiB ByteSize = 1 << 30
	TiB ByteSize = 1 << 40
	KB  ByteSize = 1e3
	MB  ByteSize = 1e6
	GB  ByteSize = 1e9
	TB  ByteSize = 1e12
)

var byteUnits = []struct {
	name string
	size ByteSize
}{
	{"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB},
	{"TB", TB}, {"GB", GB}, {"MB", MB}, {"KB", KB},
	{"B", 1},
}

// String formats b with the largest unit that divides it exactly,
// preferring binary units: 10MiB, 100KB, 123B.
func (b ByteSize) String() string {
	if b != 0 {
		for _, u := range byteUnits {
			if b%u.size == 0 {
				return strconv.FormatInt(int64(b/u.size), 10) + u.name
			}
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// MarshalYAML writes b as its String form.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

// UnmarshalYAML reads a size scalar; see [ParseByteSize].
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("expected a size such as 10MiB, 512KiB or 1048576")
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// ParseByteSize parses a plain integer number of bytes or an integer
// followed by a unit (see [ByteSize]).
func ParseByteSize(s string) (ByteSize, error) {
	in := strings.TrimSpace(s)
	i := 0
	for i < len(in) && (in[i] >= '0' && in[i] <= '9' || i == 0 && in[i] == '-') {
		i++
	}
	num, unit := in[:i], strings.TrimSpace(in[i:])
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("invalid size %q: too large", s)
		}
		return 0, fmt.Errorf("invalid size %q: expected an integer with an optional unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)", s)
	}
	if unit == "" {
		return ByteSize(n), nil
	}
	for _, u := range byteUnits {
		if strings.EqualFold(unit, u.name) {
			if n > int64(math.MaxInt64/u.size) || n < int64(math.MinInt64/u.size) {
				return 0, fmt.Errorf("invalid size %q: too large", s)
			}
			return ByteSize(n) * u.size, nil
		}
	}
	return 0, fmt.Errorf("invalid size %q: unknown unit %q (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", s, unit)
}
