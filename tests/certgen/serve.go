// `serve` with the files of a Secret certgen made: TLS for every name of
// the Service with the Secret's CA, and the certificate expiry gauge right
// at start, after a reload onto an expiring certificate, after certgen's
// renewal and another reload, and unchanged by a failed reload.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"imagebuilder-webhook/tests/internal/testkit"
)

const gauge = "imagebuilder_webhook_certificate_expiry_timestamp_seconds"

// writeFiles puts tls.crt and tls.key in dir, each replaced by a rename.
func writeFiles(dir string, crt, key []byte) error {
	for name, data := range map[string][]byte{"tls.key": key, "tls.crt": crt} {
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// healthz: GET /healthz over TLS to addr, as `name`, trusting only caPEM.
func healthz(addr, name string, caPEM []byte) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("no CA certificate")
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: name}}}
	defer c.CloseIdleConnections()
	resp, err := c.Get("https://" + addr + "/healthz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		return fmt.Errorf("HTTP %d %q", resp.StatusCode, body)
	}
	return nil
}

// gaugeValue reads the expiry gauge from the metrics listener (-1: absent).
func gaugeValue(metrics string) (int64, error) {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + metrics + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, gauge+" ") {
			return strconv.ParseInt(strings.TrimPrefix(l, gauge+" "), 10, 64)
		}
	}
	return -1, nil
}

// waitGauge waits up to 10 s for the gauge to read want.
func waitGauge(metrics string, want int64) error {
	var got int64
	var err error
	werr := testkit.WaitFor(10*time.Second, func() bool {
		got, err = gaugeValue(metrics)
		return err == nil && got == want
	}, fmt.Sprintf("%s %d", gauge, want))
	if werr != nil {
		return fmt.Errorf("%v (last read %d, %v)", werr, got, err)
	}
	return nil
}

func serveCases(e *env) {
	e.api.reset()
	if err := succeeded(e.run(), "created"); err != nil {
		e.t.Failed("serve: a Secret to serve with", err.Error())
		return
	}
	first, _ := e.stored()
	dir := filepath.Join(e.work, "serve")
	metrics, err := testkit.MetricsListen(e.bin, e.work)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		err = writeFiles(dir, first.crtPEM, first.keyPEM)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err == nil {
		err = os.WriteFile(cfg, []byte(fmt.Sprintf("imageBuilder:\n  defaultRepository: localhost:5000/union\n"+
			"webhook:\n  metricsListen: %q\n  tls:\n    certFile: %s\n    keyFile: %s\n", metrics,
			filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))), 0o644)
	}
	var srv *testkit.Server
	if err == nil {
		srv, err = testkit.Start(testkit.Serve{Bin: e.bin, Config: cfg, Log: filepath.Join(dir, "serve.log")}, 30*time.Second)
	}
	if err != nil {
		e.t.Failed("serve: starts with the Secret's tls.crt and tls.key", err.Error())
		return
	}
	defer srv.Kill(0)
	for _, n := range names {
		e.t.Check("serve: TLS as "+n+" verified with the Secret's ca.crt", healthz(srv.Addr, n, first.caPEM))
	}
	e.t.Check("serve: the expiry gauge is the certificate's notAfter", waitGauge(srv.MetricsAddr, first.leaf.NotAfter.Unix()))

	// The Secret's certificate comes close to its end: the server reloads it.
	expiring := makePair(names, time.Now().Add(10*day).Truncate(time.Second))
	e.api.reset()
	e.api.putSecret(ns, secretName, "kubernetes.io/tls", expiring)
	old, _ := e.stored()
	err = writeFiles(dir, expiring["tls.crt"], expiring["tls.key"])
	if err == nil {
		err = srv.Signal(syscall.SIGHUP)
	}
	e.t.Check("serve: after a reload onto an expiring certificate, the gauge is its notAfter",
		all(err, waitGauge(srv.MetricsAddr, old.leaf.NotAfter.Unix())))

	// certgen renews it; the new files are reloaded.
	r := e.run()
	renewed, derr := e.stored()
	err = all(succeeded(r, "renewed"), derr)
	if err == nil {
		err = writeFiles(dir, renewed.crtPEM, renewed.keyPEM)
	}
	if err == nil {
		err = srv.Signal(syscall.SIGHUP)
	}
	e.t.Check("serve: after certgen's renewal and a reload, the gauge is the new notAfter (about a year out)",
		all(err, waitGauge(srv.MetricsAddr, renewed.leaf.NotAfter.Unix()), near(renewed.leaf.NotAfter, 365*day, "it")))
	e.t.Check("serve: the renewed certificate verifies with the renewed ca.crt", healthz(srv.Addr, names[2], renewed.caPEM))
	if healthz(srv.Addr, names[2], first.caPEM) == nil {
		e.t.Failed("serve: the first CA no longer vouches for the server")
	} else {
		e.t.OK("serve: the first CA no longer vouches for the server")
	}

	// A broken certificate file: the reload fails, the gauge stays.
	failures := strings.Count(srv.Log(), "certificate reload failed")
	err = writeFiles(dir, []byte("not a certificate\n"), renewed.keyPEM)
	if err == nil {
		err = srv.Signal(syscall.SIGHUP)
	}
	if err == nil {
		err = srv.WaitLogCount("certificate reload failed", failures+1, 10*time.Second)
	}
	v, gerr := gaugeValue(srv.MetricsAddr)
	e.t.Check("serve: a failed reload keeps the certificate in use and its gauge", all(err, gerr,
		healthz(srv.Addr, names[2], renewed.caPEM), func() error {
			if v != renewed.leaf.NotAfter.Unix() {
				return fmt.Errorf("gauge %d, want %d", v, renewed.leaf.NotAfter.Unix())
			}
			return nil
		}()))
	e.t.Check("serve: exits 0 on SIGTERM", srv.Stop(20*time.Second))
}
