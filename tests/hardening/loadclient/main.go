// loadclient: the load and fault generator of the hardening tests
// (loopback only, every loop bounded in count and time).
//
//	loadclient load  ...  concurrent POSTs over TLS (HTTP/1.1 keep-alive or HTTP/2)
//	loadclient slow  ...  idle and one-byte-a-second connections while good clients are served
//	loadclient hang  ...  a server that accepts connections and never answers
//	loadclient big   ...  a 100 MB body, to see it refused before it is read
//
// load and slow print one JSON summary on stdout; the shell scripts judge it.
// load can also keep its running summary in a file (-progress) and stop
// when a file appears (-stop-file), so that a script can act once enough
// requests went through, and end the load once it has seen what it waits
// for, instead of sleeping.
package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"imagebuilder-webhook/tests/internal/testkit"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "loadclient: "+format+"\n", a...)
	os.Exit(2)
}

func tlsConfig(caFiles string, h2 bool) *tls.Config {
	var files []string
	for _, f := range strings.Split(caFiles, ",") {
		if f != "" {
			files = append(files, f)
		}
	}
	pool, err := testkit.LoadPool(files...)
	if err != nil {
		die("%v", err)
	}
	c := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if h2 {
		c.NextProtos = []string{"h2", "http/1.1"}
	} else {
		c.NextProtos = []string{"http/1.1"}
	}
	return c
}

func newTransport(caFiles string, h2 bool, conns int) *http.Transport {
	t := &http.Transport{
		TLSClientConfig:     tlsConfig(caFiles, h2),
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		ForceAttemptHTTP2:   h2,
	}
	if !h2 {
		t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return t
}

type summary struct {
	Sent       int64            `json:"sent"`
	OK         int64            `json:"ok"`
	Status     map[string]int64 `json:"status"`
	Refused    int64            `json:"refused"`     // no connection: refused, or reset before the TLS handshake ended
	IdleClosed int64            `json:"idle_closed"` // the server closed an idle keep-alive connection first
	Failed     int64            `json:"failed"`      // anything else: accepted and not answered
	Errors     []string         `json:"errors"`
	MaxMs      float64          `json:"max_ms"`
	Proto      map[string]int64 `json:"proto"`
	Certs      map[string]int64 `json:"certs"`
	Contains   map[string]int64 `json:"contains"`
	Seconds    float64          `json:"seconds"`
	mu         sync.Mutex
}

func (s *summary) addErr(e string) {
	if len(s.Errors) < 8 {
		s.Errors = append(s.Errors, e)
	}
}

// classify names a failed request. connected says whether the request had
// a connection with a finished TLS handshake: without one no request byte
// was sent, so the server cannot have accepted it (during a shutdown the
// kernel may still complete TCP handshakes on the listening socket and
// reset them when it closes).
func classify(err error, connected bool) string {
	var op *net.OpError
	if !connected || errors.As(err, &op) && op.Op == "dial" {
		return "refused"
	}
	if strings.Contains(err.Error(), "server closed idle connection") {
		return "idle"
	}
	return "failed"
}

func runLoad(args []string) {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	url := fs.String("url", "", "target URL")
	ca := fs.String("ca", "", "CA files, comma separated")
	bodies := fs.String("body", "", "request body files, comma separated (round robin)")
	conns := fs.Int("conns", 8, "concurrent clients")
	n := fs.Int64("n", 1000, "requests in total (0: until -duration)")
	dur := fs.Duration("duration", 60*time.Second, "upper bound on the run")
	h2 := fs.Bool("h2", false, "HTTP/2 (else HTTP/1.1 keep-alive)")
	fresh := fs.Int("fresh-every", 0, "drop idle connections every N requests of a client (new handshakes)")
	stopRefused := fs.Bool("stop-on-refused", false, "a client stops at its first refused connection")
	expect := fs.String("expect", "", "substrings to count in the answers, comma separated")
	progress := fs.String("progress", "", "keep the running summary in this file")
	stopFile := fs.String("stop-file", "", "stop once this file exists")
	fs.Parse(args)
	if *url == "" || *bodies == "" {
		die("load: -url and -body are required")
	}
	var payloads [][]byte
	for _, f := range strings.Split(*bodies, ",") {
		b, err := os.ReadFile(f)
		if err != nil {
			die("%v", err)
		}
		payloads = append(payloads, b)
	}
	var subs []string
	if *expect != "" {
		subs = strings.Split(*expect, ",")
	}
	s := &summary{Status: map[string]int64{}, Proto: map[string]int64{}, Certs: map[string]int64{},
		Contains: map[string]int64{}, Errors: []string{}}
	var next int64
	deadline := time.Now().Add(*dur)
	start := time.Now()
	var stopped int32
	running := func() bool { return atomic.LoadInt32(&stopped) == 0 && time.Now().Before(deadline) }
	watched := make(chan struct{})
	go func() { // the progress file and the stop file, every Poll
		defer close(watched)
		for running() {
			if *progress != "" {
				s.writeTo(*progress)
			}
			if *stopFile != "" {
				if _, err := os.Stat(*stopFile); err == nil {
					atomic.StoreInt32(&stopped, 1)
				}
			}
			time.Sleep(testkit.Poll)
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < *conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			tr := newTransport(*ca, *h2, 1)
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 15 * time.Second}
			for i := 0; running(); i++ {
				k := atomic.AddInt64(&next, 1)
				if *n > 0 && k > *n {
					return
				}
				if *fresh > 0 && i > 0 && i%*fresh == 0 {
					tr.CloseIdleConnections()
				}
				body := payloads[int(k)%len(payloads)]
				req, _ := http.NewRequest("POST", *url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				connected := false
				req = req.WithContext(httptrace.WithClientTrace(req.Context(),
					&httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected = true }}))
				t0 := time.Now()
				resp, err := client.Do(req)
				var data []byte
				if err == nil {
					data, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				ms := float64(time.Since(t0).Microseconds()) / 1000
				s.mu.Lock()
				s.Sent++
				if ms > s.MaxMs {
					s.MaxMs = ms
				}
				if err != nil {
					kind := classify(err, connected)
					switch kind {
					case "refused":
						s.Refused++
					case "idle":
						s.IdleClosed++
					default:
						s.Failed++
						s.addErr(err.Error())
					}
					s.mu.Unlock()
					if *stopRefused && kind == "refused" {
						return
					}
					continue
				}
				s.Status[fmt.Sprint(resp.StatusCode)]++
				s.Proto[resp.Proto]++
				if resp.StatusCode == 200 {
					s.OK++
				} else {
					s.addErr(fmt.Sprintf("status %d: %.200s", resp.StatusCode, data))
				}
				if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
					sum := sha256.Sum256(resp.TLS.PeerCertificates[0].Raw)
					s.Certs[hex.EncodeToString(sum[:8])]++
				}
				for _, sub := range subs {
					if bytes.Contains(data, []byte(sub)) {
						s.Contains[sub]++
					}
				}
				s.mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	atomic.StoreInt32(&stopped, 1)
	<-watched
	s.mu.Lock()
	s.Seconds = time.Since(start).Seconds()
	s.mu.Unlock()
	if *progress != "" {
		s.writeTo(*progress)
	}
	json.NewEncoder(os.Stdout).Encode(s)
}

// writeTo replaces path with the summary so far (written aside, then
// renamed: a reader never sees half of it).
func (s *summary) writeTo(path string) {
	s.mu.Lock()
	b, err := json.Marshal(s)
	s.mu.Unlock()
	if err != nil {
		die("%v", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		die("%v", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		die("%v", err)
	}
}

type slowSummary struct {
	Idle          int      `json:"idle_opened"`
	SlowOpened    int      `json:"slow_opened"`
	IdleClosedN   int      `json:"idle_closed"`
	SlowClosedN   int      `json:"slow_closed"`
	IdleMaxCloseS float64  `json:"idle_max_close_s"`
	SlowMaxCloseS float64  `json:"slow_max_close_s"`
	GoodOK        int64    `json:"good_ok"`
	GoodFailed    int64    `json:"good_failed"`
	GoodMaxMs     float64  `json:"good_max_ms"`
	Errors        []string `json:"errors"`
}

// waitClosed reads until the server closes the connection or `hold` passes;
// returns the seconds it took, or -1 when it stayed open.
func waitClosed(c net.Conn, start time.Time, hold time.Duration) float64 {
	c.SetReadDeadline(start.Add(hold))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return -1
		}
		return time.Since(start).Seconds()
	}
}

func runSlow(args []string) {
	fs := flag.NewFlagSet("slow", flag.ExitOnError)
	addr := fs.String("addr", "", "host:port of the TLS listener")
	url := fs.String("url", "", "URL for the good clients")
	ca := fs.String("ca", "", "CA file")
	body := fs.String("body", "", "request body of the good clients")
	idle := fs.Int("idle", 500, "connections that send nothing")
	slow := fs.Int("slow", 500, "connections that finish TLS, then send a request one byte a second")
	hold := fs.Duration("hold", 20*time.Second, "how long to wait for the server to close them")
	good := fs.Int("good", 4, "good clients, each sending requests in a loop while the others wait")
	fs.Parse(args)
	payload, err := os.ReadFile(*body)
	if err != nil {
		die("%v", err)
	}
	s := &slowSummary{Errors: []string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	record := func(isIdle bool, t float64) {
		mu.Lock()
		defer mu.Unlock()
		if t < 0 {
			return
		}
		if isIdle {
			s.IdleClosedN++
			if t > s.IdleMaxCloseS {
				s.IdleMaxCloseS = t
			}
		} else {
			s.SlowClosedN++
			if t > s.SlowMaxCloseS {
				s.SlowMaxCloseS = t
			}
		}
	}
	for i := 0; i < *idle; i++ {
		c, err := net.DialTimeout("tcp", *addr, 5*time.Second)
		if err != nil {
			s.Errors = append(s.Errors, "idle dial: "+err.Error())
			break
		}
		s.Idle++
		wg.Add(1)
		go func(c net.Conn) {
			defer wg.Done()
			defer c.Close()
			record(true, waitClosed(c, start, *hold))
		}(c)
	}
	cfg := tlsConfig(*ca, false)
	if host, _, err := net.SplitHostPort(*addr); err == nil {
		cfg.ServerName = host
	}
	for i := 0; i < *slow; i++ {
		raw, err := net.DialTimeout("tcp", *addr, 5*time.Second)
		if err != nil {
			s.Errors = append(s.Errors, "slow dial: "+err.Error())
			break
		}
		c := tls.Client(raw, cfg.Clone())
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if err := c.Handshake(); err != nil {
			s.Errors = append(s.Errors, "slow handshake: "+err.Error())
			raw.Close()
			break
		}
		c.SetDeadline(time.Time{})
		s.SlowOpened++
		opened := time.Now()
		wg.Add(1)
		go func(c *tls.Conn) {
			defer wg.Done()
			defer c.Close()
			req := fmt.Sprintf("POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(payload))
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; i < len(req) && time.Since(opened) < *hold; i++ {
					c.SetWriteDeadline(time.Now().Add(2 * time.Second))
					if _, err := c.Write([]byte{req[i]}); err != nil {
						return
					}
					time.Sleep(time.Second)
				}
			}()
			record(false, waitClosed(c, opened, *hold))
			c.Close()
			<-done
		}(c)
	}
	// Good clients, new connections and keep-alive both, while the others hang on.
	var gwg sync.WaitGroup
	goodUntil := time.Now().Add(*hold / 2)
	for g := 0; g < *good; g++ {
		gwg.Add(1)
		go func(g int) {
			defer gwg.Done()
			tr := newTransport(*ca, false, 1)
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			for i := 0; time.Now().Before(goodUntil); i++ {
				if g%2 == 0 {
					tr.CloseIdleConnections()
				}
				req, _ := http.NewRequest("POST", *url, bytes.NewReader(payload))
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				ms := float64(time.Since(t0).Microseconds()) / 1000
				mu.Lock()
				if ms > s.GoodMaxMs {
					s.GoodMaxMs = ms
				}
				if err != nil || resp.StatusCode != 200 {
					s.GoodFailed++
					if err != nil && len(s.Errors) < 8 {
						s.Errors = append(s.Errors, "good: "+err.Error())
					}
				} else {
					s.GoodOK++
				}
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}(g)
	}
	gwg.Wait()
	wg.Wait()
	json.NewEncoder(os.Stdout).Encode(s)
}

func runHang(args []string) {
	fs := flag.NewFlagSet("hang", flag.ExitOnError)
	addr := fs.String("listen", "127.0.0.1:0", "address to listen on")
	max := fs.Duration("max", 300*time.Second, "exit after this long")
	fs.Parse(args)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		die("%v", err)
	}
	fmt.Println(ln.Addr().String())
	go func() { time.Sleep(*max); os.Exit(0) }()
	for {
		c, err := ln.Accept()
		if err != nil {
			die("%v", err)
		}
		fmt.Println("accepted", c.RemoteAddr().String())
		go func(c net.Conn) {
			defer c.Close()
			io.Copy(io.Discard, c) // read everything, answer nothing
		}(c)
	}
}

// runBig sends the headers of a huge body and then the body in chunks while
// reading the answer; it reports the status and how much of the body had
// been written when the answer came (the server must not read it all).
func runBig(args []string) {
	fs := flag.NewFlagSet("big", flag.ExitOnError)
	addr := fs.String("addr", "", "host:port of the TLS listener")
	ca := fs.String("ca", "", "CA file")
	size := fs.Int64("size", 100<<20, "declared body size")
	chunked := fs.Bool("chunked", false, "chunked transfer encoding instead of Content-Length")
	fs.Parse(args)
	cfg := tlsConfig(*ca, false)
	if host, _, err := net.SplitHostPort(*addr); err == nil {
		cfg.ServerName = host
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", *addr, cfg)
	if err != nil {
		die("%v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	hdr := "POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	if *chunked {
		hdr += "Transfer-Encoding: chunked\r\n\r\n"
	} else {
		hdr += fmt.Sprintf("Content-Length: %d\r\n\r\n", *size)
	}
	if _, err := c.Write([]byte(hdr)); err != nil {
		die("%v", err)
	}
	var written int64
	stop := make(chan struct{})
	go func() {
		chunk := bytes.Repeat([]byte("["), 64<<10)
		for written < *size {
			select {
			case <-stop:
				return
			default:
			}
			out := chunk
			if *chunked {
				out = append([]byte(fmt.Sprintf("%x\r\n", len(chunk))), append(chunk, '\r', '\n')...)
			}
			if _, err := c.Write(out); err != nil {
				return
			}
			atomic.AddInt64(&written, int64(len(chunk)))
		}
	}()
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	close(stop)
	status := ""
	if n > 12 {
		status = string(buf[9:12])
	}
	res := map[string]interface{}{"status": status, "written": atomic.LoadInt64(&written), "size": *size}
	if err != nil && n == 0 {
		res["error"] = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(res)
}

func main() {
	if len(os.Args) < 2 {
		die("usage: loadclient load|slow|hang|big [flags]")
	}
	switch os.Args[1] {
	case "load":
		runLoad(os.Args[2:])
	case "slow":
		runSlow(os.Args[2:])
	case "hang":
		runHang(os.Args[2:])
	case "big":
		runBig(os.Args[2:])
	default:
		die("unknown mode %q", os.Args[1])
	}
}
