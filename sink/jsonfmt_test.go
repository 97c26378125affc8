package sink

import (
	"bytes"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestAppendJavaFloat(t *testing.T) {
	// Expected strings are what Java 21's Float.toString / Double.toString
	// print (the JDK 19+ shortest-decimal algorithm Jackson also uses).
	tests := []struct {
		f    float64
		bits int
		want string
	}{
		{1, 32, "1.0"},
		{float64(float32(0.1)), 32, "0.1"},
		{1e7, 32, "1.0E7"},
		{9999999, 32, "9999999.0"},
		{0.001, 32, "0.001"},
		{float64(float32(1e-4)), 32, "1.0E-4"},
		{float64(float32(123456.78)), 32, "123456.78"},
		{float64(math.MaxFloat32), 32, "3.4028235E38"},
		{float64(math.SmallestNonzeroFloat32), 32, "1.4E-45"},
		{float64(float32(10.22)), 32, "10.22"},
		{-0.5, 32, "-0.5"},
		{0, 32, "0.0"},
		{math.Copysign(0, -1), 64, "-0.0"},
		{100, 64, "100.0"},
		{1e21, 64, "1.0E21"},
		{12345678.9, 64, "1.23456789E7"},
		{float64(float32(0.1)), 64, "0.10000000149011612"},
		{math.SmallestNonzeroFloat64, 64, "4.9E-324"},
		{math.MaxFloat64, 64, "1.7976931348623157E308"},
		{1e-5, 64, "1.0E-5"},
		{29.789, 64, "29.789"},
		{0.00123, 64, "0.00123"},
		{1234567.0, 64, "1234567.0"},
		{math.NaN(), 64, `"NaN"`},
		{math.Inf(1), 64, `"Infinity"`},
		{math.Inf(-1), 32, `"-Infinity"`},
	}
	for _, tt := range tests {
		got := string(appendJavaFloat(nil, tt.f, tt.bits))
		if got != tt.want {
			t.Errorf("appendJavaFloat(%v, %d) = %s, want %s", tt.f, tt.bits, got, tt.want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`q"b\s/`, `"q\"b\\s/"`},
		{"\b\t\n\f\r", `"\b\t\n\f\r"`},
		{"\x00\x1f\x7f", `"\u0000\u001F` + "\x7f" + `"`},
		{"héllo ✓ 😀", `"héllo ✓ \uD83D\uDE00"`}, // Jackson escapes both surrogates
		{"\U0010FFFF", `"\uDBFF\uDFFF"`},
		{"\u2028", "\"\u2028\""},
		{"bad\xffbyte", "\"bad\uFFFDbyte\""},
	}
	for _, tt := range tests {
		if got := string(appendJSONString(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("appendJSONString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// javaUnscaled is BigInteger.toByteArray of the unscaled value, via math/big.
func javaUnscaled(text string, scale int) ([]byte, bool) {
	r, ok := new(big.Rat).SetString(text)
	if !ok {
		return nil, false
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	if !r.IsInt() {
		return nil, false
	}
	n := r.Num()
	if n.Sign() >= 0 {
		b := n.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b, true
	}
	// two's complement: 2^(8k) + n for the smallest k that keeps the sign.
	k := (n.BitLen() + 8) / 8
	m := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), uint(8*k)), n)
	b := m.FillBytes(make([]byte, k))
	for len(b) > 1 && b[0] == 0xFF && b[1]&0x80 != 0 {
		b = b[1:]
	}
	return b, true
}

func TestDecimalUnscaled(t *testing.T) {
	tests := []struct {
		text  string
		scale int
		want  []byte
	}{
		{"0", 0, []byte{0}},
		{"1", 0, []byte{1}},
		{"127", 0, []byte{0x7F}},
		{"128", 0, []byte{0, 0x80}},
		{"-1", 0, []byte{0xFF}},
		{"-128", 0, []byte{0x80}},
		{"-129", 0, []byte{0xFF, 0x7F}},
		{"12.34", 2, []byte{0x04, 0xD2}},
		{"12.3", 2, []byte{0x04, 0xCE}},
		{"-0.00", 2, []byte{0}},
		{".5", 1, []byte{5}},
		{"+7", 0, []byte{7}},
	}
	for _, tt := range tests {
		var out [33]byte
		got, ok := decimalUnscaled(&out, []byte(tt.text), tt.scale)
		if !ok || !bytes.Equal(got, tt.want) {
			t.Errorf("decimalUnscaled(%q, %d) = %x, %v; want %x", tt.text, tt.scale, got, ok, tt.want)
		}
	}
	big65 := strings.Repeat("9", 35) + "." + strings.Repeat("9", 30)
	for _, s := range []string{big65, "-" + big65, "-" + strings.Repeat("1", 35) + "." + strings.Repeat("1", 30)} {
		var out [33]byte
		got, ok := decimalUnscaled(&out, []byte(s), 30)
		want, _ := javaUnscaled(s, 30)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("decimalUnscaled(%q) = %x, %v; want %x", s, got, ok, want)
		}
	}
	for _, bad := range []string{"", "-", "1.2.3", "1e5", "12.345", "abc", strings.Repeat("9", 80)} {
		var out [33]byte
		if _, ok := decimalUnscaled(&out, []byte(bad), 2); ok {
			t.Errorf("decimalUnscaled(%q) accepted", bad)
		}
	}
}

func FuzzDecimalUnscaled(f *testing.F) {
	for _, s := range []string{"0", "-1", "128", "-129", "12.34", "-0.00", ".5", strings.Repeat("9", 65), "1.", "-", ""} {
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, text string, scale uint8) {
		sc := int(scale % 40)
		var out [33]byte
		got, ok := decimalUnscaled(&out, []byte(text), sc)
		if !ok {
			return
		}
		want, wok := javaUnscaled(text, sc)
		if !wok {
			t.Fatalf("decimalUnscaled(%q, %d) accepted what math/big rejects", text, sc)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("decimalUnscaled(%q, %d) = %x, want %x", text, sc, got, want)
		}
	})
}

func TestAppendBigDecimalString(t *testing.T) {
	tests := []struct {
		text  string
		scale int
		want  string
	}{
		{"12.34", 2, "12.34"},
		{"-12.30", 2, "-12.30"},
		{"0.00", 2, "0.00"},
		{"5", 0, "5"},
		{"0.000001", 6, "0.000001"},
		{"0.0000001", 7, "1E-7"},
		{"0.00000012", 8, "1.2E-7"},
		{"-0.00000001", 8, "-1E-8"},
		{"0.00000000", 8, "0E-8"},
	}
	for _, tt := range tests {
		if got := string(appendBigDecimalString(nil, []byte(tt.text), tt.scale)); got != tt.want {
			t.Errorf("appendBigDecimalString(%q, %d) = %s, want %s", tt.text, tt.scale, got, tt.want)
		}
	}
}

func TestSanitizeTopic(t *testing.T) {
	tests := []struct{ in, want string }{
		{"p.db.t", "p.db.t"},
		{"p.my db.t$1", "p.my_db.t_1"},
		{"p.db.tä", "p.db.t_"},
		{"p.db.t😀", "p.db.t__"},
		{strings.Repeat("a", 300), strings.Repeat("a", 249)},
	}
	for _, tt := range tests {
		if got := sanitizeTopic(tt.in); got != tt.want {
			t.Errorf("sanitizeTopic(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestAppendInt: appendInt writes what strconv.AppendInt writes, at every
// digit count and its edges, into full and roomy buffers alike.
func TestAppendInt(t *testing.T) {
	vals := []int64{0, 1, 9, 10, 11, 99, 100, 101, -1, -9, -10, -99, -100, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for p := int64(1); p <= math.MaxInt64/10; p *= 10 {
		vals = append(vals, p-1, p, p+1, -p+1, -p, -p-1, 10*p-1)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		vals = append(vals, int64(r.Uint64()), int64(r.Uint64()>>uint(r.IntN(64))), -int64(r.Uint64()>>uint(r.IntN(64))))
	}
	for _, v := range vals {
		want := strconv.AppendInt([]byte("x"), v, 10)
		if got := appendInt([]byte("x"), v); string(got) != string(want) {
			t.Fatalf("appendInt(%d) = %s, want %s", v, got, want)
		}
		roomy := make([]byte, 1, 64)
		roomy[0] = 'x'
		if got := appendInt(roomy, v); string(got) != string(want) {
			t.Fatalf("appendInt(%d) into a roomy buffer = %s, want %s", v, got, want)
		}
	}
}
