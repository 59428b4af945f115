// Package testkit is what the test programs share: the test certificate
// authority, AdmissionReview decoding and the checks kube-apiserver applies
// to an answer, bounded waits, and starting `imagebuilder-webhook serve` on
// port 0 with its bound addresses read from its log.
package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// CA is a test certificate authority (ECDSA P-256, valid for a day).
type CA struct {
	Cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	PEM    []byte         // the CA certificate, PEM
	Pool   *x509.CertPool // holding only this CA
	serial int64
}

// NewCA makes a CA named name (its certificate has serial 1).
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	ca := &CA{Cert: cert, key: key, Pool: x509.NewCertPool(), serial: 1}
	ca.PEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	ca.Pool.AddCert(cert)
	return ca, nil
}

// Leaf describes a certificate to issue. Usages lists the extended key
// usages; DNS names and IP addresses go into the SAN only (TLS clients in
// Go, like kube-apiserver's, ignore the common name).
type Leaf struct {
	CommonName string
	DNSNames   []string
	IPs        []net.IP
	Usages     []x509.ExtKeyUsage
}

// Issued is a certificate and its key, PEM encoded (the key as PKCS #8).
type Issued struct {
	CertPEM, KeyPEM []byte
	Serial          int64
}

// Issue signs a new certificate; serials count up from 2.
func (ca *CA) Issue(l Leaf) (Issued, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Issued{}, err
	}
	sn := atomic.AddInt64(&ca.serial, 1)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(sn),
		Subject:      pkix.Name{CommonName: l.CommonName},
		DNSNames:     l.DNSNames,
		IPAddresses:  l.IPs,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  l.Usages,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return Issued{}, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Issued{}, err
	}
	return Issued{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
		Serial:  sn,
	}, nil
}

// LocalServer is the SAN of a server certificate for loopback: localhost
// and 127.0.0.1, plus the given DNS names.
func LocalServer(dnsNames ...string) Leaf {
	return Leaf{
		CommonName: "localhost",
		DNSNames:   append(append([]string{}, dnsNames...), "localhost"),
		IPs:        []net.IP{net.ParseIP("127.0.0.1")},
		Usages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
}

// LoadPool reads PEM certificates from files into a pool.
func LoadPool(files ...string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("%s: no certificate", f)
		}
	}
	return pool, nil
}

// WritePEM writes one PEM block of type typ to path.
func WritePEM(path, typ string, der []byte, mode os.FileMode) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}
