// Starting `imagebuilder-webhook serve` on port 0: the server picks a free
// port and its "serving" log line names the address it bound.
package testkit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Serve describes a `serve` run. Args come after "serve --config Config
// --listen 127.0.0.1:0"; Wrapper (e.g. valgrind and its options) runs the
// server when set. The server's stdout and stderr go to Log.
type Serve struct {
	Bin     string
	Config  string
	Log     string
	Args    []string
	Wrapper []string
}

// Command is the command line of this run, not started.
func (o Serve) Command() *exec.Cmd {
	argv := append([]string{o.Bin, "serve", "--config", o.Config, "--listen", "127.0.0.1:0"}, o.Args...)
	if len(o.Wrapper) > 0 {
		argv = append(append([]string{}, o.Wrapper...), argv...)
	}
	return exec.Command(argv[0], argv[1:]...)
}

// Server is a running `serve`.
type Server struct {
	Cmd         *exec.Cmd
	LogPath     string
	Addr        string // the TLS listener as bound, HOST:PORT
	MetricsAddr string // the plain metrics listener as bound, or ""
	Exited      chan struct{}
	ExitErr     error // once Exited is closed
	stopOnce    sync.Once
}

// Start runs o and waits up to `within` for its "serving" line.
func Start(o Serve, within time.Duration) (*Server, error) {
	logf, err := os.Create(o.Log)
	if err != nil {
		return nil, err
	}
	s := &Server{Cmd: o.Command(), LogPath: o.Log, Exited: make(chan struct{})}
	s.Cmd.Stdout = logf
	s.Cmd.Stderr = logf
	if err := s.Cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() {
		s.ExitErr = s.Cmd.Wait()
		logf.Close()
		close(s.Exited)
	}()
	var line map[string]interface{}
	err = WaitFor(within, func() bool {
		line = s.serving()
		return line != nil || s.exited()
	}, `the "serving" log line`)
	if err == nil && line == nil {
		err = fmt.Errorf("exited: %v", s.ExitErr)
	}
	if err == nil {
		s.Addr, s.MetricsAddr = ServingAddrs(line)
		if s.Addr == "" {
			err = errors.New(`the "serving" line names no address`)
		}
	}
	if err != nil {
		s.Kill(0)
		return nil, fmt.Errorf("server did not start: %v\n%s", err, s.Log())
	}
	return s, nil
}

// ServingAddrs reads the bound addresses from a "serving" log line: the
// TLS listener from "addr" when the line has it, else "listen"; the metrics
// listener from "metricsListen".
func ServingAddrs(line map[string]interface{}) (addr, metrics string) {
	addr, _ = line["addr"].(string)
	if addr == "" {
		addr, _ = line["listen"].(string)
	}
	metrics, _ = line["metricsListen"].(string)
	return addr, metrics
}

func (s *Server) serving() map[string]interface{} {
	f, err := os.Open(s.LogPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		if !strings.Contains(sc.Text(), `"msg":"serving"`) {
			continue
		}
		var m map[string]interface{}
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "serving" {
			return m
		}
	}
	return nil
}

func (s *Server) exited() bool {
	select {
	case <-s.Exited:
		return true
	default:
		return false
	}
}

// Port is the TLS listener's port.
func (s *Server) Port() string {
	_, p, _ := net.SplitHostPort(s.Addr)
	return p
}

// Log is everything the server has logged so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.LogPath)
	return string(b)
}

// WaitLogCount waits up to d for n log lines containing substr.
func (s *Server) WaitLogCount(substr string, n int, d time.Duration) error {
	return WaitFor(d, func() bool { return strings.Count(s.Log(), substr) >= n },
		fmt.Sprintf("%d log lines with %s", n, substr))
}

// Signal sends sig to the server.
func (s *Server) Signal(sig syscall.Signal) error { return s.Cmd.Process.Signal(sig) }

// Stop sends SIGTERM and waits up to d for the exit; it returns the exit
// error (nil for exit 0). Only the first Stop or Kill acts.
func (s *Server) Stop(d time.Duration) error {
	var err error
	s.stopOnce.Do(func() {
		if e := s.Signal(syscall.SIGTERM); e != nil {
			err = e
			return
		}
		select {
		case <-s.Exited:
			err = s.ExitErr
		case <-time.After(d):
			s.Cmd.Process.Kill()
			<-s.Exited
			err = errors.New("server did not exit in time after SIGTERM")
		}
	})
	return err
}

// Kill ends the server whatever its state. With grace > 0 it sends SIGTERM
// first and waits that long (a server under valgrind writes its report
// then).
func (s *Server) Kill(grace time.Duration) {
	s.stopOnce.Do(func() {
		if grace > 0 && s.Signal(syscall.SIGTERM) == nil {
			select {
			case <-s.Exited:
				return
			case <-time.After(grace):
			}
		}
		s.Cmd.Process.Kill()
		<-s.Exited
	})
}

// MetricsListen is a webhook.metricsListen value for a test config: port 0
// when the configuration accepts it (the server then logs the port it
// bound), else a port that is free now.
func MetricsListen(bin, dir string) (string, error) {
	metricsOnce.Do(func() {
		cfg := filepath.Join(dir, "metrics-port-0.yaml")
		metricsErr = os.WriteFile(cfg, []byte("imageBuilder:\n  defaultRepository: localhost:5000/union\n"+
			"webhook:\n  metricsListen: \"127.0.0.1:0\"\n"), 0o644)
		if metricsErr == nil && exec.Command(bin, "check-config", "--config", cfg).Run() == nil {
			metricsPort0 = true
		}
	})
	if metricsErr != nil {
		return "", metricsErr
	}
	if metricsPort0 {
		return "127.0.0.1:0", nil
	}
	p, err := FreePort()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", p), nil
}

var (
	metricsOnce  sync.Once
	metricsPort0 bool
	metricsErr   error
)

// FreePort is a loopback port nobody listens on now (for a server that
// must be told its port in advance and cannot bind port 0).
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
