package sip

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // substring, "" for valid
	}{
		{name: "defaults", cfg: Config{}},
		{name: "port zero", cfg: Config{Addr: "127.0.0.1:0"}},
		{name: "unspecified needs media addr", cfg: Config{Addr: "0.0.0.0:5060"}, wantErr: "media address"},
		{name: "unspecified with media addr", cfg: Config{Addr: "0.0.0.0:5060", MediaAddr: netip.MustParseAddr("10.0.0.1")}},
		{name: "hostname", cfg: Config{Addr: "example.com:5060"}, wantErr: "IP address"},
		{name: "bad port", cfg: Config{Addr: "127.0.0.1:99999"}, wantErr: "bad port"},
		{name: "rtp range", cfg: Config{RTPPortMin: 20000, RTPPortMax: 30000}},
		{name: "half rtp range", cfg: Config{RTPPortMin: 20000}, wantErr: "rtp port range"},
		{name: "inverted rtp range", cfg: Config{RTPPortMin: 3000, RTPPortMax: 2000}, wantErr: "rtp port range"},
		{name: "negative timeout", cfg: Config{RTPTimeout: -time.Second}, wantErr: "negative"},
		{name: "tls without cert", cfg: Config{TLSAddr: "127.0.0.1:5061"}, wantErr: "cert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate = %v, want error with %q", err, tt.wantErr)
			}
		})
	}
}

func TestRTPPortRange(t *testing.T) {
	s := startServer(t, Config{RTPPortMin: 31001, RTPPortMax: 31011}, Echo{})
	for range 3 {
		c, err := s.bindRTP()
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		_ = c.Close()
		if port < 31001 || port > 31011 || port%2 != 0 {
			t.Fatalf("rtp port %d outside the even ports of 31001-31011", port)
		}
	}
}

// TestTLSOptions checks that the TLS listener serves SIP: an OPTIONS over
// TLS with a self-signed certificate gets 200.
func TestTLSOptions(t *testing.T) {
	cert, key := selfSigned(t)
	s := startServer(t, Config{TLSAddr: "127.0.0.1:0", TLSCertFile: cert, TLSKeyFile: key}, Echo{})
	addr, ok := s.TLSAddr()
	if !ok {
		t.Fatal("no TLS listener")
	}
	conn, err := tls.Dial("tcp", addr.String(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // self-signed test cert
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := strings.ReplaceAll(tlsRequest("OPTIONS", addr.String(), conn.LocalAddr().String()), "\n", "\r\n")
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
		t.Fatalf("response:\n%s", buf[:n])
	}
}

// tlsRequest builds a minimal out-of-dialog request over TLS.
func tlsRequest(method, server, local string) string {
	return method + " sip:ivr@" + server + ";transport=tls SIP/2.0\n" +
		"Via: SIP/2.0/TLS " + local + ";branch=z9hG4bKtls1\n" +
		"From: <sip:caller@" + local + ">;tag=t1\n" +
		"To: <sip:ivr@" + server + ">\n" +
		"Call-ID: tls-options\nCSeq: 1 " + method + "\nMax-Forwards: 70\nContent-Length: 0\n\n"
}

func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
