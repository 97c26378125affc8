package binlog

// MySQL stores DECIMAL(M,D) in a packed binary form (strings/decimal.c,
// decimal2bin): the integer and fractional parts are split into groups of nine
// decimal digits, each stored big-endian in four bytes; a leading (integer) or
// trailing (fraction) group of fewer digits takes dig2bytes[digits] bytes. The
// sign is the top bit of the first byte (set = non-negative); negative numbers
// store every byte inverted.

const digitsPerGroup = 9

var dig2bytes = [10]int{0, 1, 1, 2, 2, 3, 3, 4, 4, 4}

var pow10 = [10]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}

// decimalSize returns the number of bytes DECIMAL(precision, scale) occupies.
func decimalSize(precision, scale int) int {
	intg := precision - scale
	return intg/digitsPerGroup*4 + dig2bytes[intg%digitsPerGroup] +
		scale/digitsPerGroup*4 + dig2bytes[scale%digitsPerGroup]
}

// appendDecimal decodes a packed DECIMAL(precision, scale) from data and
// appends its text form to dst: an optional '-', the integer part without
// leading zeros ("0" if none), and when scale > 0 a '.' followed by exactly
// scale digits. It returns the extended dst and the number of bytes consumed.
func appendDecimal(dst, data []byte, precision, scale int) ([]byte, int, error) {
	if precision < 1 || precision > 65 || scale < 0 || scale > 38 || scale > precision { // MariaDB: scale up to 38
		return dst, 0, corrupt("decimal(%d,%d) out of range", precision, scale)
	}
	size := decimalSize(precision, scale)
	if len(data) < size {
		return dst, 0, errTruncated
	}
	intg := precision - scale
	intg0, intg0x := intg/digitsPerGroup, intg%digitsPerGroup
	frac0, frac0x := scale/digitsPerGroup, scale%digitsPerGroup

	var mask byte
	if data[0]&0x80 == 0 {
		mask = 0xFF
	}
	// read returns the big-endian value of n bytes at p, with the mask applied
	// and the sign bit of the first byte flipped.
	read := func(p, n int) uint32 {
		var v uint32
		for i := range n {
			b := data[p+i] ^ mask
			if p+i == 0 {
				b ^= 0x80
			}
			v = v<<8 | uint32(b)
		}
		return v
	}

	start := len(dst)
	if mask != 0 {
		dst = append(dst, '-')
	}
	digitsStart := len(dst)
	p := 0
	leading := true // still skipping leading zeros of the integer part
	if n := dig2bytes[intg0x]; n > 0 {
		v := read(p, n)
		if v >= pow10[intg0x] {
			return dst[:start], 0, corrupt("decimal digit group %d out of range", v)
		}
		p += n
		if v != 0 {
			dst = appendUint(dst, uint64(v))
			leading = false
		}
	}
	for range intg0 {
		v := read(p, 4)
		if v >= pow10[9] {
			return dst[:start], 0, corrupt("decimal digit group %d out of range", v)
		}
		p += 4
		if leading {
			if v != 0 {
				dst = appendUint(dst, uint64(v))
				leading = false
			}
		} else {
			dst = appendPadded(dst, v, 9)
		}
	}
	if leading {
		dst = append(dst, '0')
	}
	if scale > 0 {
		dst = append(dst, '.')
		for range frac0 {
			v := read(p, 4)
			if v >= pow10[9] {
				return dst[:start], 0, corrupt("decimal digit group %d out of range", v)
			}
			p += 4
			dst = appendPadded(dst, v, 9)
		}
		if n := dig2bytes[frac0x]; n > 0 {
			v := read(p, n)
			if v >= pow10[frac0x] {
				return dst[:start], 0, corrupt("decimal digit group %d out of range", v)
			}
			p += n
			dst = appendPadded(dst, v, frac0x)
		}
	}
	// "-0.00" is not a value MySQL produces; print it as zero.
	if mask != 0 && allZeroDigits(dst[digitsStart:]) {
		copy(dst[start:], dst[digitsStart:])
		dst = dst[:len(dst)-1]
	}
	return dst, size, nil
}

func allZeroDigits(b []byte) bool {
	for _, c := range b {
		if c != '0' && c != '.' {
			return false
		}
	}
	return true
}

// appendUint appends the decimal digits of v.
func appendUint(dst []byte, v uint64) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	i--
	buf[i] = byte('0' + v)
	return append(dst, buf[i:]...)
}

// appendPadded appends v as exactly width digits, zero-padded on the left.
func appendPadded(dst []byte, v uint32, width int) []byte {
	var buf [10]byte
	for i := width - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[:width]...)
}
