// podattack: what a pod author can send the webhook, sent the way
// kube-apiserver sends it (Go's net/http over TLS, HTTP/1.1), for the
// hardening tests. Loopback only; every loop is bounded in count and time.
//
//	attack amplify ...  large reviews on their own connections (attack
//	                    flood, a process of its own), while one more
//	                    connection sends small ones and times them;
//	                    reports every answer and the server's peak memory
//	attack steady  ...  the same reviews again and again on a few
//	                    connections until told to stop; reports how many
//	                    different answers each review got
//	attack pods -out DIR  writes the large reviews amplify sends
//
// Each prints one JSON summary on stdout; the shell script judges it.
package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"imagebuilder-webhook/tests/internal/testkit"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "attack: "+format+"\n", a...)
	os.Exit(2)
}

// client: one HTTP/1.1 connection (kube-apiserver does not negotiate
// HTTP/2 with webhooks), a bounded wait per request.
func client(ca string, timeout time.Duration) *http.Client {
	pool, err := testkit.LoadPool(ca)
	if err != nil {
		die("%v", err)
	}
	t := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}},
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxIdleConnsPerHost: 1,
		MaxConnsPerHost:     1,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	return &http.Client{Transport: t, Timeout: timeout}
}

// answer: what one request got, in a form to count.
type answer struct {
	status int
	body   []byte
	ms     float64
	err    error
}

func post(c *http.Client, url string, body []byte) answer {
	t0 := time.Now()
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return answer{err: err, ms: msSince(t0)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	return answer{status: resp.StatusCode, body: b, err: err, ms: msSince(t0)}
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// describe: "200 denied 400: <message>", "200 allowed", "400 <text>" ...
func (a answer) describe() string {
	if a.err != nil {
		return "error: " + a.err.Error()
	}
	var r struct {
		Response struct {
			Allowed bool `json:"allowed"`
			Status  struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"status"`
			Patch string `json:"patch"`
		} `json:"response"`
	}
	if a.status != 200 || json.Unmarshal(a.body, &r) != nil {
		return fmt.Sprintf("%d %s", a.status, strings.TrimSpace(string(a.body)))
	}
	if !r.Response.Allowed {
		return fmt.Sprintf("200 denied %d: %s", r.Response.Status.Code, r.Response.Status.Message)
	}
	if r.Response.Patch != "" {
		return "200 mutated"
	}
	return "200 allowed"
}

func readFile(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		die("%v", err)
	}
	return b
}

// vmhwm: the peak resident set of a process, from /proc (KiB).
func vmhwm(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			v, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(l, "VmHWM:"), "kB")), 10, 64)
			return v
		}
	}
	return -1
}

type bigSummary struct {
	Sent     int            `json:"sent"`
	Answers  map[string]int `json:"answers"`
	MaxBytes int            `json:"max_bytes"`
	MaxMs    float64        `json:"max_ms"`
}

type smallSummary struct {
	N      int     `json:"n"`
	Failed int     `json:"failed"`
	MaxMs  float64 `json:"max_ms"`
	P99Ms  float64 `json:"p99_ms"`
	P50Ms  float64 `json:"p50_ms"`
}

// runFlood: the large reviews, each on its own connections (or one after
// the other on one), `rounds` times; prints {"big": {file: summary}}.
func runFlood(args []string) {
	fs := flag.NewFlagSet("flood", flag.ExitOnError)
	url := fs.String("url", "", "the admission URL")
	ca := fs.String("ca", "", "CA file")
	bigs := fs.String("big", "", "comma-separated review files sent on their own connections")
	conns := fs.Int("conns", 1, "connections per large review")
	rounds := fs.Int("rounds", 10, "times each connection sends its review")
	serial := fs.Bool("serial", false, "send the large reviews one after the other on one connection")
	fs.Parse(args)
	var mu sync.Mutex
	out := map[string]*bigSummary{}
	send := func(c *http.Client, s *bigSummary, body []byte) {
		a := post(c, *url, body)
		d := a.describe()
		if len(d) > 200 {
			d = d[:200]
		}
		mu.Lock()
		defer mu.Unlock()
		s.Sent++
		s.Answers[d]++
		if len(a.body) > s.MaxBytes {
			s.MaxBytes = len(a.body)
		}
		if a.ms > s.MaxMs {
			s.MaxMs = a.ms
		}
	}
	files := strings.Split(*bigs, ",")
	bodies := make([][]byte, len(files))
	sums := make([]*bigSummary, len(files))
	for i, f := range files {
		bodies[i] = readFile(f)
		sums[i] = &bigSummary{Answers: map[string]int{}}
		out[filepath.Base(f)] = sums[i]
	}
	var wg sync.WaitGroup
	run := func(fn func(c *http.Client)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(client(*ca, 60*time.Second))
		}()
	}
	if *serial {
		run(func(c *http.Client) {
			for r := 0; r < *rounds; r++ {
				for i := range files {
					send(c, sums[i], bodies[i])
				}
			}
		})
	}
	for i := range files {
		for k := 0; k < *conns && !*serial; k++ {
			i := i
			run(func(c *http.Client) {
				for r := 0; r < *rounds; r++ {
					send(c, sums[i], bodies[i])
				}
			})
		}
	}
	wg.Wait()
	json.NewEncoder(os.Stdout).Encode(map[string]interface{}{"big": out})
}

// runAmplify: a flood (in a process of its own, so that its work does not
// delay this one's timing) while one connection sends the small review
// every -every and times each answer.
func runAmplify(args []string) {
	fs := flag.NewFlagSet("amplify", flag.ExitOnError)
	url := fs.String("url", "", "the admission URL")
	ca := fs.String("ca", "", "CA file")
	small := fs.String("small", "", "the small review timed on another connection")
	smallURL := fs.String("small-url", "", "where to send the small review (default: -url)")
	every := fs.Duration("every", 10*time.Millisecond, "pause between small reviews")
	pid := fs.Int("pid", 0, "server pid, for VmHWM")
	bigs := fs.String("big", "", "(flood) comma-separated large reviews")
	conns := fs.Int("conns", 1, "(flood) connections per large review")
	rounds := fs.Int("rounds", 10, "(flood) times each connection sends its review")
	serial := fs.Bool("serial", false, "(flood) one connection, one review after the other")
	var expect expectations
	fs.Var(&expect, "expect", "FILE=TEXT: every answer to FILE contains TEXT (repeat the flag)")
	fs.Parse(args)

	sc := client(*ca, 10*time.Second)
	smallBody := readFile(*small)
	if *smallURL == "" {
		smallURL = url
	}
	if a := post(sc, *smallURL, smallBody); a.err != nil || a.status != 200 {
		die("the small review is not answered: %s", a.describe())
	}
	var floodOut bytes.Buffer
	flood := exec.Command(os.Args[0], "flood", "-url", *url, "-ca", *ca, "-big", *bigs,
		"-conns", strconv.Itoa(*conns), "-rounds", strconv.Itoa(*rounds), "-serial="+strconv.FormatBool(*serial))
	flood.Stdout = &floodOut
	flood.Stderr = os.Stderr
	if err := flood.Start(); err != nil {
		die("%v", err)
	}
	// On loopback the attacker's CPU is this machine's: let it yield to the
	// server and to the timing here, as a remote attacker's would.
	syscall.Setpriority(syscall.PRIO_PROCESS, flood.Process.Pid, 19)
	done := make(chan error, 1)
	go func() { done <- flood.Wait() }()
	var lat []float64
	ss := smallSummary{}
	deadline := time.After(120 * time.Second)
loop:
	for {
		select {
		case err := <-done:
			if err != nil {
				die("flood: %v", err)
			}
			break loop
		case <-deadline:
			flood.Process.Kill()
			die("the large reviews were not answered within 120 s")
		default:
		}
		a := post(sc, *smallURL, smallBody)
		// ATTACK_TRACE=1: say when each slow one was sent, to match with the server's log
		if os.Getenv("ATTACK_TRACE") != "" && a.ms > 25 {
			fmt.Fprintf(os.Stderr, "slow small review: %.1f ms, sent at %s\n", a.ms,
				time.Now().Add(-time.Duration(a.ms*float64(time.Millisecond))).UTC().Format("15:04:05.000"))
		}
		ss.N++
		if a.err != nil || a.status != 200 {
			ss.Failed++
		}
		lat = append(lat, a.ms)
		time.Sleep(*every)
	}
	sort.Float64s(lat)
	if len(lat) > 0 {
		ss.MaxMs = lat[len(lat)-1]
		ss.P99Ms = lat[len(lat)*99/100]
		ss.P50Ms = lat[len(lat)/2]
	}
	var fl struct {
		Big map[string]*bigSummary `json:"big"`
	}
	if err := json.Unmarshal(floodOut.Bytes(), &fl); err != nil {
		die("flood output: %v", err)
	}
	unexpected, maxBytes, odd := 0, 0, []string{}
	for f, b := range fl.Big {
		want, known := expect[f]
		for d, n := range b.Answers {
			if !known || !strings.Contains(d, want) {
				unexpected += n
				odd = append(odd, f+": "+d)
			}
		}
		if b.MaxBytes > maxBytes {
			maxBytes = b.MaxBytes
		}
	}
	// the flat fields last, for the shell
	json.NewEncoder(os.Stdout).Encode(map[string]interface{}{
		"big": fl.Big, "small": ss, "unexpected_answers": odd,
		"z_unexpected": unexpected, "z_max_answer_bytes": maxBytes, "z_small_n": ss.N,
		"z_small_failed": ss.Failed, "z_small_max_ms": ss.MaxMs, "z_small_p50_ms": ss.P50Ms,
		"z_vmhwm_kib": vmhwm(*pid),
	})
}

// expectations: -expect FILE=TEXT, repeated.
type expectations map[string]string

func (e *expectations) String() string { return fmt.Sprint(map[string]string(*e)) }

func (e *expectations) Set(v string) error {
	f, text, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want FILE=TEXT, got %q", v)
	}
	if *e == nil {
		*e = expectations{}
	}
	(*e)[f] = text
	return nil
}

type steadySummary struct {
	Sent     int                       `json:"sent"`
	Failed   int                       `json:"failed"`
	Distinct map[string]int            `json:"distinct"` // per review file: how many different answers
	Answers  map[string]map[string]int `json:"answers"`  // per review file: answer (first 160 bytes) -> count
	Errors   []string                  `json:"errors"`
	// flat, last, for the shell
	ZSent        int `json:"z_sent"`
	ZFailed      int `json:"z_failed"`
	ZMaxDistinct int `json:"z_max_distinct"` // the most different answers one review got
	digests      map[string]map[string]bool
}

func (s *steadySummary) write(path string) {
	s.ZSent, s.ZFailed, s.ZMaxDistinct = s.Sent, s.Failed, 0
	for _, n := range s.Distinct {
		if n > s.ZMaxDistinct {
			s.ZMaxDistinct = n
		}
	}
	if path == "" {
		return
	}
	b, _ := json.Marshal(s)
	tmp := path + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil {
		os.Rename(tmp, path)
	}
}

func runSteady(args []string) {
	fs := flag.NewFlagSet("steady", flag.ExitOnError)
	url := fs.String("url", "", "the admission URL")
	ca := fs.String("ca", "", "CA file")
	bodies := fs.String("body", "", "comma-separated review files, sent in turn")
	conns := fs.Int("conns", 4, "connections")
	max := fs.Duration("duration", 60*time.Second, "stop after this long at the latest")
	stopFile := fs.String("stop-file", "", "stop once this file exists")
	progress := fs.String("progress", "", "keep the running summary in this file")
	fs.Parse(args)

	files := strings.Split(*bodies, ",")
	data := make([][]byte, len(files))
	for i, f := range files {
		data[i] = readFile(f)
	}
	s := &steadySummary{Distinct: map[string]int{}, Answers: map[string]map[string]int{},
		digests: map[string]map[string]bool{}}
	for _, f := range files {
		s.Answers[f] = map[string]int{}
		s.digests[f] = map[string]bool{}
	}
	var mu sync.Mutex
	end := time.Now().Add(*max)
	stopped := func() bool {
		if time.Now().After(end) {
			return true
		}
		_, err := os.Stat(*stopFile)
		return *stopFile != "" && err == nil
	}
	var wg sync.WaitGroup
	for k := 0; k < *conns; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			c := client(*ca, 10*time.Second)
			for i := k; !stopped(); i++ {
				f := files[i%len(files)]
				a := post(c, *url, data[i%len(files)])
				sum := sha256.Sum256(a.body)
				d := a.describe()
				if len(d) > 160 {
					d = d[:160]
				}
				mu.Lock()
				s.Sent++
				if a.err != nil || a.status != 200 {
					s.Failed++
					if len(s.Errors) < 8 {
						s.Errors = append(s.Errors, d)
					}
				} else {
					s.digests[f][hex.EncodeToString(sum[:])] = true
					s.Distinct[f] = len(s.digests[f])
					s.Answers[f][d]++
				}
				if s.Sent%200 == 0 {
					s.write(*progress)
				}
				mu.Unlock()
			}
		}(k)
	}
	wg.Wait()
	s.write(*progress)
	json.NewEncoder(os.Stdout).Encode(s)
}

// review: an AdmissionReview of a labelled pod with the ImageSpec `spec`
// and the containers `containers` (JSON text of the array).
func review(uid, spec, containers string) []byte {
	ann, _ := json.Marshal(spec)
	return []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"` + uid +
		`","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},` +
		`"namespace":"flytesnacks-development","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod",` +
		`"metadata":{"name":"attack","namespace":"flytesnacks-development","labels":{"imagebuilder.union.ai/builder":"union"},` +
		`"annotations":{"imagebuilder.union.ai/image-spec":` + string(ann) + `}},"spec":{"containers":` + containers + `}}}}`)
}

// containers: n containers running the spec image "big-image" with tags
// made by tag(i), each padded with `pad` bytes of environment.
func containers(n int, tag func(int) string, pad int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"c%d","image":"big-image:%s","env":[{"name":"P","value":"%s"}]}`, i, tag(i),
			strings.Repeat("x", pad))
	}
	b.WriteByte(']')
	return b.String()
}

// spec: an ImageSpec of about `size` bytes (a long packages list).
func spec(size int) string {
	var b strings.Builder
	b.WriteString(`{"name":"big-image","builder":"union","packages":[`)
	for i := 0; b.Len() < size-32; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"package-%d==1.0"`, i)
	}
	b.WriteString("]}")
	return b.String()
}

func runPods(args []string) {
	fs := flag.NewFlagSet("pods", flag.ExitOnError)
	out := fs.String("out", ".", "directory")
	fs.Parse(args)
	small := `{"name":"big-image","builder":"union"}`
	files := map[string][]byte{
		// 18000 containers, each with its own tag of the spec image: about 2.98 MB
		"containers.json": review("attack-containers", small,
			containers(18000, func(i int) string { return fmt.Sprintf("t%05d-%s", i, strings.Repeat("y", 60)) }, 28)),
		// a 1 MiB ImageSpec used by 40 tags: about 1.4 MB, each build would carry the spec
		"bigspec.json": review("attack-bigspec", spec(1<<20),
			containers(40, func(i int) string { return fmt.Sprintf("t%d", i) }, 0)),
		// a 250 KiB spec (under the annotation bound) built 8 times: past maxPatchBytes
		"patch.json": review("attack-patch", spec(250<<10),
			containers(8, func(i int) string { return fmt.Sprintf("t%d", i) }, 0)),
		// a pod of about 1 MiB that is simply mutated: two containers of one
		// built image, each with 512 KiB of environment (sent in a burst)
		"burst.json": review("attack-burst", small,
			containers(2, func(int) string { return "v1" }, 512<<10)),
		// nine tags of a small spec: one build more than maxBuildsPerPod
		"builds.json": review("attack-builds", small,
			containers(9, func(i int) string { return fmt.Sprintf("t%d", i) }, 0)),
	}
	// the most JSON values a review may hold, in their most costly form
	// ("":"" members: a node and two strings each), and 3 MiB of values past it
	members := strings.TrimSuffix(strings.Repeat(`"":"",`, 262000), ",")
	files["values.json"] = []byte(strings.Replace(string(review("attack-values", small, "[]")),
		`"spec":{`, `"x":{`+members+`},"spec":{`, 1))
	files["too-many-values.json"] = []byte(strings.Replace(string(review("attack-too-many", small, "[]")),
		`"spec":{`, `"x":[`+strings.TrimSuffix(strings.Repeat("0,", 1500000), ",")+`],"spec":{`, 1))
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(*out, name), b, 0o644); err != nil {
			die("%v", err)
		}
	}
}

func main() {
	if len(os.Args) < 2 {
		die("usage: attack amplify|steady|pods [flags]")
	}
	switch os.Args[1] {
	case "amplify":
		runAmplify(os.Args[2:])
	case "flood":
		runFlood(os.Args[2:])
	case "steady":
		runSteady(os.Args[2:])
	case "pods":
		runPods(os.Args[2:])
	default:
		die("unknown mode %q", os.Args[1])
	}
}
