package config

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
)

// errPKCS8Password is a PKCS#8 key that the password does not decrypt.
var errPKCS8Password = errors.New("wrong password")

// ASN.1 of an encrypted PKCS#8 key with PBES2 (RFC 8018 appendix A.4),
// what Kafka's PEM keystores carry (openssl pkcs8 -topk8 -v2 ...).
type encryptedPrivateKeyInfo struct {
	Algo struct {
		OID    asn1.ObjectIdentifier
		Params asn1.RawValue
	}
	Data []byte
}

type pbes2Params struct {
	KDF struct {
		OID    asn1.ObjectIdentifier
		Params asn1.RawValue
	}
	Cipher struct {
		OID asn1.ObjectIdentifier
		IV  []byte
	}
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int `asn1:"optional"`
	PRF        struct {
		OID    asn1.ObjectIdentifier
		Params asn1.RawValue `asn1:"optional"`
	} `asn1:"optional"`
}

var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
)

var prfs = map[string]func() hash.Hash{
	"1.2.840.113549.2.7":  sha1.New,
	"1.2.840.113549.2.8":  sha256.New224,
	"1.2.840.113549.2.9":  sha256.New,
	"1.2.840.113549.2.10": sha512.New384,
	"1.2.840.113549.2.11": sha512.New,
}

var ciphers = map[string]struct {
	keyLen int
	block  func([]byte) (cipher.Block, error)
}{
	"2.16.840.1.101.3.4.1.2":  {16, aes.NewCipher},
	"2.16.840.1.101.3.4.1.22": {24, aes.NewCipher},
	"2.16.840.1.101.3.4.1.42": {32, aes.NewCipher},
	"1.2.840.113549.3.7":      {24, des.NewTripleDESCipher},
}

// decryptPKCS8 returns the DER PKCS#8 key inside an EncryptedPrivateKeyInfo
// protected with PBES2 (PBKDF2 and AES-CBC or 3DES-CBC).
func decryptPKCS8(der, password []byte) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		return nil, fmt.Errorf("not an encrypted PKCS#8 key: %w", err)
	}
	if !info.Algo.OID.Equal(oidPBES2) {
		return nil, fmt.Errorf("encryption scheme %s is not PBES2", info.Algo.OID)
	}
	var p pbes2Params
	if _, err := asn1.Unmarshal(info.Algo.Params.FullBytes, &p); err != nil {
		return nil, fmt.Errorf("PBES2 parameters: %w", err)
	}
	if !p.KDF.OID.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("key derivation %s is not PBKDF2", p.KDF.OID)
	}
	var kp pbkdf2Params
	if _, err := asn1.Unmarshal(p.KDF.Params.FullBytes, &kp); err != nil {
		return nil, fmt.Errorf("PBKDF2 parameters: %w", err)
	}
	prf := sha1.New
	if len(kp.PRF.OID) > 0 {
		f, ok := prfs[kp.PRF.OID.String()]
		if !ok {
			return nil, fmt.Errorf("PBKDF2 PRF %s is not supported", kp.PRF.OID)
		}
		prf = f
	}
	c, ok := ciphers[p.Cipher.OID.String()]
	if !ok {
		return nil, fmt.Errorf("cipher %s is not supported (use AES-CBC)", p.Cipher.OID)
	}
	if kp.Iterations < 1 || kp.Iterations > 10_000_000 {
		return nil, fmt.Errorf("PBKDF2 iteration count %d is out of range", kp.Iterations)
	}
	key, err := pbkdf2.Key(prf, string(password), kp.Salt, kp.Iterations, c.keyLen)
	if err != nil {
		return nil, err
	}
	block, err := c.block(key)
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize()
	if len(p.Cipher.IV) != bs || len(info.Data) == 0 || len(info.Data)%bs != 0 {
		return nil, errors.New("malformed ciphertext")
	}
	out := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, p.Cipher.IV).CryptBlocks(out, info.Data)
	// PKCS#7 padding; a wrong password leaves garbage here or below.
	n := int(out[len(out)-1])
	if n == 0 || n > bs {
		return nil, errPKCS8Password
	}
	for _, b := range out[len(out)-n:] {
		if int(b) != n {
			return nil, errPKCS8Password
		}
	}
	out = out[:len(out)-n]
	if _, err := x509.ParsePKCS8PrivateKey(out); err != nil {
		return nil, errPKCS8Password
	}
	return out, nil
}
