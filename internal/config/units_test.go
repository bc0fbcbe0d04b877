package config

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "30s", want: 30 * time.Second},
		{in: "12h", want: 12 * time.Hour},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "7d", want: 7 * 24 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "1.5d", want: 36 * time.Hour},
		{in: "2d3h4m5s", want: 51*time.Hour + 4*time.Minute + 5*time.Second},
		{in: "500ms", want: 500 * time.Millisecond},
		{in: "-1h", want: -time.Hour},
		{in: " 10m ", want: 10 * time.Minute},
		{in: "0", want: 0},
		{in: "0s", want: 0},
		{in: "30", wantErr: "missing unit"},
		{in: "", wantErr: "empty"},
		{in: "d", wantErr: "expected a number"},
		{in: "7x", wantErr: "unknown unit"},
		{in: "1.2.3d", wantErr: "bad number"},
		{in: "1d-2h", wantErr: "unknown unit"},
		{in: "999999999999d", wantErr: "too large"},
		{in: "100000d100000d", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDuration(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{30 * time.Second, "30s"},
		{90 * time.Minute, "1h30m"},
		{2 * time.Hour, "2h"},
		{24 * time.Hour, "1d"},
		{7 * 24 * time.Hour, "7d"},
		{36 * time.Hour, "1d12h"},
		{25*time.Hour + 30*time.Second, "1d1h0m30s"},
		{-48 * time.Hour, "-2d"},
		{1500 * time.Millisecond, "1.5s"},
	}
	for _, tt := range tests {
		got := Duration(tt.in).String()
		if got != tt.want {
			t.Errorf("Duration(%v).String() = %q, want %q", tt.in, got, tt.want)
		}
		back, err := ParseDuration(got)
		if err != nil || back != tt.in {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v (round trip)", got, back, err, tt.in)
		}
	}
}

func TestDurationYAML(t *testing.T) {
	var v struct {
		A Duration `yaml:"a"`
		B Duration `yaml:"b"`
	}
	if err := yaml.Unmarshal([]byte("a: 1d12h\nb: 0\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.Std() != 36*time.Hour || v.B != 0 {
		t.Fatalf("got %v %v", v.A, v.B)
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "a: 1d12h\nb: 0s\n"; got != want {
		t.Fatalf("Marshal = %q, want %q", got, want)
	}
	if err := yaml.Unmarshal([]byte("a: [1]\n"), &v); err == nil {
		t.Fatal("a list decoded as a duration")
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    ByteSize
		wantErr string
	}{
		{in: "0", want: 0},
		{in: "1048576", want: 1 << 20},
		{in: "123B", want: 123},
		{in: "512KiB", want: 512 << 10},
		{in: "10MiB", want: 10 << 20},
		{in: "1GiB", want: 1 << 30},
		{in: "2TiB", want: 2 << 40},
		{in: "100KB", want: 100_000},
		{in: "10MB", want: 10_000_000},
		{in: "1GB", want: 1_000_000_000},
		{in: "10 mib", want: 10 << 20},
		{in: "-1", want: -1},
		{in: "", wantErr: "expected an integer"},
		{in: "MiB", wantErr: "expected an integer"},
		{in: "1.5MiB", wantErr: "unknown unit"},
		{in: "10M", wantErr: "unknown unit"},
		{in: "10 parsecs", wantErr: "unknown unit"},
		{in: "99999999999999999999", wantErr: "too large"},
		{in: "9999999TiB", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseByteSize(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseByteSize(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseByteSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestByteSizeStringAndYAML(t *testing.T) {
	tests := []struct {
		in   ByteSize
		want string
	}{
		{0, "0B"},
		{123, "123B"},
		{10 * MiB, "10MiB"},
		{512 * KiB, "512KiB"},
		{GiB, "1GiB"},
		{100 * KB, "100KB"},
		{1_500_000, "1500KB"},
		{1025, "1025B"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("ByteSize(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
		var back ByteSize
		if err := yaml.Unmarshal([]byte(tt.want), &back); err != nil || back != tt.in {
			t.Errorf("yaml.Unmarshal(%q) = %d, %v; want %d", tt.want, back, err, tt.in)
		}
	}
	out, err := yaml.Marshal(map[string]ByteSize{"max": 10 * MiB})
	if err != nil || string(out) != "max: 10MiB\n" {
		t.Fatalf("Marshal = %q, %v", out, err)
	}
}
