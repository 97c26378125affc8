package sink

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// This file puts column defaults into the field schemas the way Debezium
// does: TableSchemaBuilder.addField sets the field's default to
// DefaultValueConverter.parseDefaultValue of the column's
// defaultValueExpression, which for MySQL and MariaDB is
// BinlogDefaultValueConverter.convert (string → the Java object the binlog
// would have produced) followed by the column's value converter; Kafka's
// JsonConverter writes it as "default" with the same rendering as a value.
// A default that cannot be converted is left out, as Debezium does when
// parseDefaultValue throws (logged, no default) or returns null.

var (
	// BinlogDefaultValueConverter.EPOCH_EQUIVALENT_TIMESTAMP / _DATE.
	epochEquivalentTimestamp = regexp.MustCompile(`^(\d{4}-\d{2}-00|\d{4}-00-\d{2}|0000-\d{2}-\d{2}) (00:00:00(\.\d{1,6})?)$`)
	epochEquivalentDate      = regexp.MustCompile(`^(\d{4}-\d{2}-00|\d{4}-00-\d{2}|0000-\d{2}-\d{2})$`)
	charsetIntroducer        = regexp.MustCompile(`^_[A-Za-z0-9]+'(.*)'$`)
	// TIMESTAMP_PATTERN (a datetime whose time part a TIME default takes)
	// and BinlogValueConverters.TIME_FIELD_PATTERN.
	datetimePattern  = regexp.MustCompile(`^([0-9]*-[0-9]*-[0-9]*) ([0-9]*:[0-9]*:[0-9]*(\.([0-9]*))?)$`)
	timeFieldPattern = regexp.MustCompile(`^(-?[0-9]*):([0-9]*)(:([0-9]*))?(\.([0-9]*))?$`)
	// ISO_LOCAL_DATE, optionally followed by " " and ISO_LOCAL_TIME.
	isoLocalDateTime = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})(?: ([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{0,9}))?)?)?$`)
)

// defaultJSON returns the JSON of c's default in the field schema of e, or
// nil when Debezium writes none.
func defaultJSON(cfg *JSONConfig, c *schema.Column, e *colEnc) []byte {
	if c.Default == nil {
		return nil
	}
	v, ok := defaultValue(cfg, c, *c.Default)
	if !ok || v.Kind == event.KindNull {
		return nil
	}
	enc := *e
	enc.nullable = false
	switch enc.kind {
	case kBytes, kBinBase64, kBinBase64URL, kBinHex:
		enc.n = 0 // a String default is not padded (normalizeBinaryData is for byte[])
	}
	out, err := enc.appendValue(nil, &v)
	if err != nil {
		return nil
	}
	return out
}

// isNumberType: BinlogDefaultValueConverter.NUMBER_DATA_TYPES (JDBC BIT,
// TINYINT, SMALLINT, INTEGER, BIGINT, FLOAT, REAL, DOUBLE, NUMERIC, DECIMAL).
func isNumberType(c *schema.Column) bool {
	switch c.Type {
	case schema.TypeBit, schema.TypeSmallInt, schema.TypeMediumInt, schema.TypeInt, schema.TypeBigInt,
		schema.TypeFloat, schema.TypeDouble, schema.TypeDecimal:
		return true
	case schema.TypeTinyInt:
		return !isBoolTypeName(c.TypeName)
	}
	return false
}

// defaultValue is BinlogDefaultValueConverter.convert, producing the
// event.Value the row decoder would have produced for that value.
func defaultValue(cfg *JSONConfig, c *schema.Column, s string) (event.Value, bool) {
	switch c.Type {
	case schema.TypeDate, schema.TypeDateTime, schema.TypeTimestamp, schema.TypeTime:
		s = strings.TrimSpace(s)
	default:
		if isNumberType(c) || c.Type == schema.TypeTinyInt {
			s = strings.TrimSpace(s)
		}
	}
	if m := charsetIntroducer.FindStringSubmatch(s); m != nil {
		s = m[1]
	}
	if isNumberType(c) && (strings.EqualFold(s, "true") || strings.EqualFold(s, "false")) {
		s = map[bool]string{true: "1", false: "0"}[strings.EqualFold(s, "true")]
	}
	switch c.Type {
	case schema.TypeTinyInt, schema.TypeSmallInt, schema.TypeMediumInt, schema.TypeInt, schema.TypeBigInt:
		if !isNumberType(c) { // BOOLEAN: convertToBoolean
			if n, err := strconv.ParseInt(s, 10, 32); err == nil {
				return event.Int(b2i(n != 0)), true
			}
			return event.Int(b2i(strings.EqualFold(s, "true"))), true
		}
		if c.Type == schema.TypeBigInt && c.Unsigned && cfg.BigIntUnsignedMode == BigIntUnsignedPrecise {
			// new BigDecimal(value): only integral values fit Decimal(20,0)
			u, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 10, 64)
			if err != nil {
				return event.Null, false
			}
			return event.Uint(u), true
		}
		// BinlogValueConverters.convert{TinyInt,SmallInt,Integer,BigInt}:
		// Math.round(Double.parseDouble(s)), narrowed to the Connect type.
		f, ok := parseJavaDouble(s)
		if !ok {
			return event.Null, false
		}
		n := javaRound(f)
		switch connectIntBits(c) {
		case 16:
			n = int64(int16(n))
		case 32:
			n = int64(int32(n))
		}
		return event.Int(n), true
	case schema.TypeBit:
		if c.Length <= 1 { // convertToBit
			if n, err := strconv.ParseInt(s, 10, 16); err == nil {
				return event.Int(b2i(n != 0)), true
			}
			return event.Int(b2i(strings.EqualFold(s, "true"))), true
		}
		// convertToBits: binary digits, big-endian bytes
		nb := (len(s) + 7) / 8
		be := make([]byte, nb)
		for i := 0; i < nb; i++ {
			start := max(len(s)-8, 0)
			b, err := strconv.ParseInt(s[start:], 2, 32)
			if err != nil {
				return event.Null, false
			}
			be[nb-i-1] = byte(b)
			s = s[:start]
		}
		return event.Bytes(event.KindBits, be), true
	case schema.TypeFloat, schema.TypeDouble:
		f, ok := parseJavaDouble(s)
		if !ok {
			return event.Null, false
		}
		return event.Double(f), true
	case schema.TypeDecimal:
		text, ok := decimalSetScale(s, c.Scale)
		if !ok {
			return event.Null, false
		}
		return event.Bytes(event.KindDecimal, []byte(text)), true
	case schema.TypeDate:
		return dateDefault(c, s)
	case schema.TypeDateTime:
		return dateTimeDefault(c, s)
	case schema.TypeTimestamp:
		return timestampDefault(c, s)
	case schema.TypeTime:
		if m := datetimePattern.FindStringSubmatch(s); m != nil {
			s = m[2]
		}
		us, ok := stringToDuration(s)
		if !ok {
			return event.Null, false
		}
		return event.Value{Kind: event.KindTime, I: us}, true
	case schema.TypeYear:
		y, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return event.Null, false
		}
		return event.Int(adjustYear(y)), true
	case schema.TypeBinary, schema.TypeVarbinary, schema.TypeBlob:
		return event.Bytes(event.KindBytes, []byte(s)), true
	case schema.TypeJSON:
		return event.Bytes(event.KindJSON, []byte(s)), true
	case schema.TypeGeometry, schema.TypeUnknown:
		return event.Null, false
	}
	return event.Bytes(event.KindString, []byte(s)), true
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// connectIntBits is the width of the Connect integer an integer column maps
// to (see typeMappers).
func connectIntBits(c *schema.Column) int {
	switch c.Type {
	case schema.TypeTinyInt:
		return 16
	case schema.TypeSmallInt:
		if c.Unsigned {
			return 32
		}
		return 16
	case schema.TypeMediumInt:
		return 32
	case schema.TypeInt:
		if c.Unsigned {
			return 64
		}
		return 32
	}
	return 64
}

// parseJavaDouble is Double.parseDouble for the decimal forms a DEFAULT
// holds (Go's hexadecimal, "inf" and underscore forms are refused).
func parseJavaDouble(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	t := strings.TrimLeft(s, "+-")
	switch t {
	case "NaN":
		return math.NaN(), true
	case "Infinity":
		if strings.HasPrefix(s, "-") {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	if t == "" || strings.ContainsAny(t, "xXpP_nNiI") {
		return 0, false
	}
	t = strings.TrimRight(s, "dDfF") // Java accepts a type suffix
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && f == 0 {
		return 0, false
	}
	return f, true
}

// javaRound is Math.round(double): floor(x + 0.5), saturating.
func javaRound(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(math.Floor(f + 0.5))
}

// decimalSetScale is new BigDecimal(s).setScale(scale, HALF_UP).toPlainString().
func decimalSetScale(s string, scale int) (string, bool) {
	if s == "" || strings.ContainsAny(s, "/ _") {
		return "", false
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", false
	}
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	r.Mul(r, new(big.Rat).SetInt(p))
	num, den := r.Num(), r.Denom()
	q, m := new(big.Int).QuoRem(new(big.Int).Abs(num), den, new(big.Int))
	if new(big.Int).Mul(m, big.NewInt(2)).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1)) // HALF_UP: ties away from zero
	}
	digits := q.String()
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	out := digits
	if scale > 0 {
		out = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if num.Sign() < 0 && q.Sign() != 0 {
		out = "-" + out
	}
	return out, true
}

// stringToDuration is BinlogValueConverters.stringToDuration in micros.
func stringToDuration(s string) (int64, bool) {
	m := timeFieldPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	neg := s != "" && s[0] == '-'
	h, err1 := strconv.ParseInt(m[1], 10, 64)
	mi, err2 := strconv.ParseInt(m[2], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	var sec, ns int64
	if m[4] != "" || m[3] != "" {
		var err error
		if sec, err = strconv.ParseInt(m[4], 10, 64); err != nil {
			return 0, false
		}
		if m[5] != "" {
			f := (m[6] + "000000000")[:9]
			if len(m[6]) > 9 {
				return 0, false
			}
			ns, _ = strconv.ParseInt(f, 10, 64)
		}
	}
	// Duration.ofHours(h) then plus (h >= 0) or minus (h < 0, or "-0")
	// the minutes, seconds and nanos.
	total := h * 3600e9
	rest := mi*60e9 + sec*1e9 + ns
	if h >= 0 && !neg {
		total += rest
	} else {
		total -= rest
	}
	return total / 1000, true
}

// adjustYear is BinlogValueConverters.adjustTemporal (enable.time.adjuster,
// Debezium's default): years 0-69 are 2000-2069, 70-99 are 1970-1999.
func adjustYear(y int64) int64 {
	switch {
	case y >= 0 && y <= 69:
		return y + 2000
	case y >= 70 && y <= 99:
		return y + 1900
	}
	return y
}

// parseLocalDateTime parses ISO_LOCAL_DATE optionally followed by " " and
// ISO_LOCAL_TIME with the SMART resolver (a day past the month's end but
// within 1-31 is its last day), into micros since the epoch of that wall
// clock read as UTC, with the year adjusted (adjustTemporal).
func parseLocalDateTime(s string) (int64, bool) {
	m := isoLocalDateTime.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	num := func(x string) int { n, _ := strconv.Atoi(x); return n }
	y, mo, d := num(m[1]), num(m[2]), num(m[3])
	h, mi, sec := num(m[4]), num(m[5]), num(m[6])
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 {
		return 0, false
	}
	y = int(adjustYear(int64(y)))
	if last := time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day(); d > last {
		d = last
	}
	ns := 0
	if m[7] != "" {
		ns = num((m[7] + "000000000")[:9])
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC).UnixMicro(), true
}

// dateDefault is convertToLocalDate: zero dates are null for a nullable
// column and the epoch otherwise, as are values that do not parse.
func dateDefault(c *schema.Column, s string) (event.Value, bool) {
	zero := epochEquivalentDate.MatchString(s) || epochEquivalentTimestamp.MatchString(s) || s == "0"
	us, ok := parseLocalDateTime(s)
	if zero || !ok {
		if c.Nullable {
			return event.Null, true
		}
		us = 0
	}
	return event.Value{Kind: event.KindDate, I: floorDiv(us, microsPerDay)}, true
}

// dateTimeDefault is convertToLocalDateTime.
func dateTimeDefault(c *schema.Column, s string) (event.Value, bool) {
	zero := epochEquivalentTimestamp.MatchString(s) || s == "0"
	us, ok := parseLocalDateTime(s)
	if zero || !ok {
		if c.Nullable {
			return event.Null, true
		}
		us = 0
	}
	return event.Value{Kind: event.KindDateTime, I: us}, true
}

// timestampDefault is convertToTimestamp: zero dates and
// "1970-01-01 00:00:00" (what the DDL parser makes of CURRENT_TIMESTAMP)
// are null for a nullable column and the epoch otherwise; other values are
// read by Timestamp.valueOf in the JVM's zone, taken to be UTC (Debezium's
// container images run in UTC).
func timestampDefault(c *schema.Column, s string) (event.Value, bool) {
	if epochEquivalentTimestamp.MatchString(s) || s == "0" || s == "1970-01-01 00:00:00" {
		if c.Nullable {
			return event.Null, true
		}
		return event.Value{Kind: event.KindTimestamp}, true
	}
	us, ok := cleanTimestamp(s)
	if !ok {
		return event.Null, false
	}
	return event.Value{Kind: event.KindTimestamp, I: us}, true
}

// cleanTimestamp reads a timestamp the lenient way
// BinlogDefaultValueConverter.cleanTimestamp and Timestamp.valueOf do: any
// non-digits separate year, month, day, hour, minute and second; month and
// day must be 1-12 and 1-31, overflowing days roll into the next month.
func cleanTimestamp(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	var parts []string
	frac := ""
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j > i {
			if len(parts) == 6 {
				break
			}
			if len(parts) == 5 && i > 0 && s[i-1] == '.' {
				frac = s[i:j]
				break
			}
			parts = append(parts, s[i:j])
			if len(parts) == 6 && j < len(s) && s[j] == '.' {
				k := j + 1
				for k < len(s) && s[k] >= '0' && s[k] <= '9' {
					k++
				}
				frac = s[j+1 : k]
				break
			}
			i = j
			continue
		}
		i++
	}
	if len(parts) < 3 {
		return 0, false
	}
	n := make([]int, 6)
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			return 0, false
		}
		n[i] = v
	}
	if n[1] < 1 || n[1] > 12 || n[2] < 1 || n[2] > 31 || len(frac) > 9 {
		return 0, false
	}
	ns := 0
	if frac != "" {
		ns, _ = strconv.Atoi((frac + "000000000")[:9])
	}
	return time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], ns, time.UTC).UnixMicro(), true
}
