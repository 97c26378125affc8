package binlog

import "encoding/binary"

// Temporal row-image formats (MySQL sql-common/my_time.cc, "Date and Time Data
// Type Representation" in the MySQL internals manual). The *2 types (MySQL
// 5.6.4+, MariaDB 10.1.2+ by default) are big-endian with an offset so that
// they sort as bytes; the old types are little-endian integers.

const usPerSec = 1_000_000
const usPerDay = 86_400 * usPerSec

// daysFromCivil returns days since 1970-01-01 of the proleptic Gregorian date
// y-m-d (Howard Hinnant's algorithm; valid for any year).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	var era int64
	if y >= 0 {
		era = y / 400
	} else {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// fracSize is the number of bytes the fractional part of a *2 temporal value
// with fsp digits occupies.
func fracSize(fsp int) int { return (fsp + 1) / 2 }

// readFrac reads the fractional seconds of a *2 value as microseconds.
func readFrac(b []byte, fsp int) int64 {
	switch fsp {
	case 1, 2:
		return int64(b[0]) * 10000
	case 3, 4:
		return int64(binary.BigEndian.Uint16(b)) * 100
	case 5, 6:
		return int64(b[0])<<16 | int64(b[1])<<8 | int64(b[2])
	}
	return 0
}

func be40(b []byte) int64 {
	return int64(b[0])<<32 | int64(b[1])<<24 | int64(b[2])<<16 | int64(b[3])<<8 | int64(b[4])
}

// decodeDate decodes a 3-byte DATE. ok is false for a zero or invalid date:
// year, month or day zero, as in '0000-00-00', '2020-00-15' or '0000-01-01'
// (Debezium's RowDeserializers.deserializeDate returns null for those).
func decodeDate(b []byte) (days int64, n int, ok bool, err error) {
	if len(b) < 3 {
		return 0, 0, false, errTruncated
	}
	v := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
	d, m, y := int64(v&31), int64(v>>5&15), int64(v>>9)
	if y == 0 || d == 0 || m == 0 || m > 12 {
		return 0, 3, false, nil
	}
	return daysFromCivil(y, m, d), 3, true, nil
}

// decodeDateTime2 decodes DATETIME(fsp) in the 5.6.4 format to microseconds
// since the epoch, reading the wall clock as UTC. ok is false for zero or
// invalid dates.
func decodeDateTime2(b []byte, fsp int) (us int64, n int, ok bool, err error) {
	n = 5 + fracSize(fsp)
	if fsp < 0 || fsp > 6 {
		return 0, 0, false, corrupt("datetime fsp %d", fsp)
	}
	if len(b) < n {
		return 0, 0, false, errTruncated
	}
	intPart := be40(b) - 0x8000000000
	frac := readFrac(b[5:], fsp)
	if intPart <= 0 {
		// Negative datetimes do not exist; 0 is '0000-00-00 00:00:00'.
		return 0, n, false, nil
	}
	ymd := intPart >> 17
	ym := ymd >> 5
	day, month, year := ymd&31, ym%13, ym/13
	hms := intPart & (1<<17 - 1)
	sec, minute, hour := hms&63, hms>>6&63, hms>>12
	if year == 0 || day == 0 || month == 0 {
		return 0, n, false, nil
	}
	us = daysFromCivil(year, month, day)*usPerDay + ((hour*60+minute)*60+sec)*usPerSec + frac
	return us, n, true, nil
}

// decodeDateTime decodes the pre-5.6.4 DATETIME: 8 bytes little-endian holding
// YYYYMMDDhhmmss as a decimal number.
func decodeDateTime(b []byte) (us int64, n int, ok bool, err error) {
	if len(b) < 8 {
		return 0, 0, false, errTruncated
	}
	v := binary.LittleEndian.Uint64(b)
	d, t := v/1000000, v%1000000
	year, month, day := int64(d/10000), int64(d%10000/100), int64(d%100)
	hour, minute, sec := int64(t/10000), int64(t%10000/100), int64(t%100)
	if year == 0 || day == 0 || month == 0 || month > 12 {
		return 0, 8, false, nil
	}
	us = daysFromCivil(year, month, day)*usPerDay + ((hour*60+minute)*60+sec)*usPerSec
	return us, 8, true, nil
}

// decodeTimestamp2 decodes TIMESTAMP(fsp) in the 5.6.4 format: seconds since
// the epoch (4 bytes big-endian) plus fraction. ok is false for the zero
// timestamp.
func decodeTimestamp2(b []byte, fsp int) (us int64, n int, ok bool, err error) {
	if fsp < 0 || fsp > 6 {
		return 0, 0, false, corrupt("timestamp fsp %d", fsp)
	}
	n = 4 + fracSize(fsp)
	if len(b) < n {
		return 0, 0, false, errTruncated
	}
	sec := int64(binary.BigEndian.Uint32(b))
	if sec == 0 {
		return 0, n, false, nil
	}
	return sec*usPerSec + readFrac(b[4:], fsp), n, true, nil
}

// decodeTimestamp decodes the pre-5.6.4 TIMESTAMP: 4 bytes little-endian seconds.
func decodeTimestamp(b []byte) (us int64, n int, ok bool, err error) {
	if len(b) < 4 {
		return 0, 0, false, errTruncated
	}
	sec := int64(binary.LittleEndian.Uint32(b))
	if sec == 0 {
		return 0, 4, false, nil
	}
	return sec * usPerSec, 4, true, nil
}

// decodeTime2 decodes TIME(fsp) in the 5.6.4 format to signed microseconds
// (MySQL allows -838:59:59 to 838:59:59).
func decodeTime2(b []byte, fsp int) (us int64, n int, err error) {
	if fsp < 0 || fsp > 6 {
		return 0, 0, corrupt("time fsp %d", fsp)
	}
	n = 3 + fracSize(fsp)
	if len(b) < n {
		return 0, 0, errTruncated
	}
	var packed int64 // TIME packed as in my_time.cc: hms<<24 | microseconds, signed
	intPart := (int64(b[0])<<16 | int64(b[1])<<8 | int64(b[2])) - 0x800000
	switch fsp {
	case 0:
		packed = intPart << 24
	case 1, 2:
		frac := int64(b[3])
		if intPart < 0 && frac != 0 {
			// Negative values store the fraction reversed (0x100 - frac) for byte ordering.
			intPart++
			frac -= 0x100
		}
		packed = intPart<<24 + frac*10000
	case 3, 4:
		frac := int64(binary.BigEndian.Uint16(b[3:]))
		if intPart < 0 && frac != 0 {
			intPart++
			frac -= 0x10000
		}
		packed = intPart<<24 + frac*100
	case 5, 6:
		packed = (int64(b[0])<<40 | int64(b[1])<<32 | int64(b[2])<<24 | int64(b[3])<<16 | int64(b[4])<<8 | int64(b[5])) - 0x800000000000
	}
	neg := packed < 0
	if neg {
		packed = -packed
	}
	hms := packed >> 24
	frac := packed & (1<<24 - 1)
	hour, minute, sec := hms>>12&0x3FF, hms>>6&63, hms&63
	us = ((hour*60+minute)*60+sec)*usPerSec + frac
	if neg {
		us = -us
	}
	return us, n, nil
}

// decodeTime decodes the pre-5.6.4 TIME: 3 bytes little-endian signed,
// holding ±HHMMSS as a decimal number.
func decodeTime(b []byte) (us int64, n int, err error) {
	if len(b) < 3 {
		return 0, 0, errTruncated
	}
	v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8 // sign-extend 24 bits
	neg := v < 0
	if neg {
		v = -v
	}
	h, m, s := int64(v/10000), int64(v%10000/100), int64(v%100)
	us = ((h*60+m)*60 + s) * usPerSec
	if neg {
		us = -us
	}
	return us, 3, nil
}

// MariaDB 5.3 "hires" temporal formats: TIME(n), DATETIME(n) and
// TIMESTAMP(n) with n > 0 in tables created with mysql56_temporal_format=OFF
// (or by MariaDB 5.3-10.0 and upgraded). They are logged as MYSQL_TYPE_TIME,
// DATETIME and TIMESTAMP without metadata, the record bytes as they are
// (Field::pack), so the fractional precision comes from the table
// definition (sql/field.cc Field_time_hires, Field_datetime_hires,
// Field_timestamp_hires; sql-common/my_time.c pack_time).
var (
	timeHiresBytes     = [7]int{3, 4, 4, 5, 5, 5, 6}
	datetimeHiresBytes = [7]int{5, 6, 6, 7, 7, 7, 8}
	secPartBytes       = [7]int{0, 1, 1, 2, 2, 3, 3}
	fracScale          = [7]int64{1000000, 100000, 10000, 1000, 100, 10, 1}
)

// readBigEndian reads b as an unsigned big-endian integer (len(b) <= 8).
func readBigEndian(b []byte) int64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return int64(v)
}

// decodeTimeHires decodes a 5.3 TIME(fsp): pack_time(µs) shifted to fsp
// digits, plus a zero point so that it sorts as unsigned bytes.
func decodeTimeHires(b []byte, fsp int) (us int64, n int, err error) {
	if fsp < 1 || fsp > 6 {
		return 0, 0, corrupt("time fsp %d", fsp)
	}
	n = timeHiresBytes[fsp]
	if len(b) < n {
		return 0, 0, errTruncated
	}
	zero := (3020399 + 1) * usPerSec / fracScale[fsp] // (TIME_MAX_VALUE_SECONDS+1) µs, shifted
	return (readBigEndian(b[:n]) - zero) * fracScale[fsp], n, nil
}

// decodeDateTimeHires decodes a 5.3 DATETIME(fsp): pack_time (the date and
// time as ((((year*13+month)*32+day)*24+hour)*60+minute)*60+second µs)
// shifted to fsp digits. ok is false for zero or invalid dates.
func decodeDateTimeHires(b []byte, fsp int) (us int64, n int, ok bool, err error) {
	if fsp < 1 || fsp > 6 {
		return 0, 0, false, corrupt("datetime fsp %d", fsp)
	}
	n = datetimeHiresBytes[fsp]
	if len(b) < n {
		return 0, 0, false, errTruncated
	}
	p := readBigEndian(b[:n]) * fracScale[fsp]
	frac := p % usPerSec
	p /= usPerSec
	sec, minute, hour := p%60, p/60%60, p/3600%24
	p /= 86400
	day, month, year := p%32, p/32%13, p/32/13
	if year == 0 || day == 0 || month == 0 {
		return 0, n, false, nil
	}
	return daysFromCivil(year, month, day)*usPerDay + ((hour*60+minute)*60+sec)*usPerSec + frac, n, true, nil
}

// decodeTimestampHires decodes a 5.3 TIMESTAMP(fsp): 4 bytes big-endian
// seconds, then the fraction shifted to fsp digits, big-endian. ok is false
// for the zero timestamp.
func decodeTimestampHires(b []byte, fsp int) (us int64, n int, ok bool, err error) {
	if fsp < 1 || fsp > 6 {
		return 0, 0, false, corrupt("timestamp fsp %d", fsp)
	}
	n = 4 + secPartBytes[fsp]
	if len(b) < n {
		return 0, 0, false, errTruncated
	}
	sec := int64(binary.BigEndian.Uint32(b))
	frac := readBigEndian(b[4:n]) * fracScale[fsp]
	if sec == 0 && frac == 0 {
		return 0, n, false, nil
	}
	return sec*usPerSec + frac, n, true, nil
}
