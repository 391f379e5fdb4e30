// Package ehtest gives tests an Event Hub to talk to through the real Go SDK: by default the local
// AMQP peer in test/ehpeer (Node.js, started per test on a free port), or, when the environment
// variable EVENTHUB_TEST_CONNECTION_STRING is set, the hub it names (the official emulator or a
// real namespace). It is for tests only.
//
// The peer needs Node.js 20 or later. A missing node fails the test with a message saying so: the
// Event Hubs tests are meant to run in CI, not to vanish quietly.
package ehtest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvConnectionString names the environment variable that points the tests at another hub.
const EnvConnectionString = "EVENTHUB_TEST_CONNECTION_STRING"

// DefaultHub is the hub name the peer serves when Options.Hubs is empty.
const DefaultHub = "opensky"

// startTimeout bounds npm ci plus the peer's start; both are quick unless something is wrong.
const startTimeout = 2 * time.Minute

// Options configure the peer. Zero values mean the defaults given on each field. Only Hubs has a
// meaning for Target when it uses EVENTHUB_TEST_CONNECTION_STRING; a test that depends on the
// other fields (limits, faults) calls Start.
type Options struct {
	Hubs           []string      // hub names; default [DefaultHub]
	Partitions     int           // partitions per hub; default 4
	MaxMessageSize int           // bytes advertised on producer links; default 1048576 (1 MB, Standard tier)
	DropAfterSends int           // drop the connection abruptly when the Nth send arrives (once); 0 = never
	BusySends      int           // reject the first N sends with com.microsoft:server-busy
	StallSends     int           // leave the first N sends unanswered, as on a dead connection
	IdleClose      time.Duration // close connections idle this long with amqp:connection:forced; 0 = never
	Verbose        bool          // copy the peer's log (links, faults) to t.Log
}

// Peer is a running test/ehpeer process. Its methods may be called from the test's goroutine only.
type Peer struct {
	// Port is the TCP port the peer listens on, on 127.0.0.1.
	Port int

	cmd     *exec.Cmd
	stdin   io.WriteCloser
	replies chan string
	done    chan struct{} // closed when the process has exited
	stopped sync.Once
	mu      sync.Mutex
	logOK   bool // t.Log may still be called (false once cleanup began)
	stderr  strings.Builder
}

var readyLine = regexp.MustCompile(`^listening on 127\.0\.0\.1:(\d+)$`)

// Start runs the peer for the length of the test: it installs the peer's npm packages if
// test/ehpeer/node_modules is missing, starts node on a free port, waits for the peer's readiness
// line and registers a t.Cleanup that stops it.
func Start(t testing.TB, opts Options) *Peer {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("the Event Hubs test peer needs Node.js 20 or later, and no `node` is on PATH: install it (CI does), "+
			"or set %s to test against the Event Hubs emulator or a real hub", EnvConnectionString)
	}
	dir, err := PeerDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := ensureInstalled(dir); err != nil {
		t.Fatal(err)
	}
	args := []string{filepath.Join(dir, "peer.js"), "--port", "0", "--exit-with-stdin"}
	hubs := opts.Hubs
	if len(hubs) == 0 {
		hubs = []string{DefaultHub}
	}
	args = append(args, "--hub", strings.Join(hubs, ","))
	for _, f := range []struct {
		flag string
		v    int
	}{
		{"--partitions", opts.Partitions},
		{"--max-message-size", opts.MaxMessageSize},
		{"--drop-after-sends", opts.DropAfterSends},
		{"--busy-sends", opts.BusySends},
		{"--stall-sends", opts.StallSends},
		{"--idle-close-ms", int(opts.IdleClose / time.Millisecond)},
	} {
		if f.v > 0 {
			args = append(args, f.flag, strconv.Itoa(f.v))
		}
	}
	if opts.Verbose {
		args = append(args, "--verbose")
	}

	p := &Peer{replies: make(chan string, 16), done: make(chan struct{}), logOK: true}
	p.cmd = exec.Command(node, args...)
	p.cmd.Dir = dir
	// The peer exits when its standard input closes, so a killed test binary leaves no node behind.
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting the Event Hubs test peer: %v", err)
	}
	t.Cleanup(p.stop)

	ready := make(chan int, 1)
	var pipes sync.WaitGroup
	pipes.Add(2)
	go func() {
		defer pipes.Done()
		p.readStdout(t, stdout, ready)
	}()
	go func() {
		defer pipes.Done()
		p.readStderr(t, stderr, opts.Verbose)
	}()
	go func() {
		pipes.Wait() // Wait must follow the last read of the pipes
		_ = p.cmd.Wait()
		close(p.done)
	}()

	select {
	case p.Port = <-ready:
	case <-p.done:
		t.Fatalf("the Event Hubs test peer exited before it was ready (%v): %s", p.cmd.ProcessState, p.stderrText())
	case <-time.After(startTimeout):
		t.Fatalf("the Event Hubs test peer did not print its readiness line within %v: %s", startTimeout, p.stderrText())
	}
	t.Logf("Event Hubs target: local test peer (test/ehpeer) on 127.0.0.1:%d, hubs %v", p.Port, hubs)
	return p
}

func (p *Peer) readStdout(t testing.TB, r io.Reader, ready chan<- int) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if m := readyLine.FindStringSubmatch(line); m != nil {
			port, _ := strconv.Atoi(m[1])
			ready <- port
			continue
		}
		select {
		case p.replies <- line:
		default:
			p.log(t, "ehpeer (unread): "+line)
		}
	}
}

func (p *Peer) readStderr(t testing.TB, r io.Reader, verbose bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		p.mu.Lock()
		if p.stderr.Len() < 64*1024 {
			p.stderr.WriteString(sc.Text() + "\n")
		}
		p.mu.Unlock()
		if verbose {
			p.log(t, sc.Text())
		}
	}
}

// log forwards a line to t.Log while the test runs; after that, t.Log would panic.
func (p *Peer) log(t testing.TB, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.logOK {
		t.Log(line)
	}
}

func (p *Peer) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stderr.Len() == 0 {
		return "(no output on stderr)"
	}
	return p.stderr.String()
}

// stop ends the peer and waits for it. It is safe to call more than once.
func (p *Peer) stop() {
	p.stopped.Do(func() {
		p.mu.Lock()
		p.logOK = false
		p.mu.Unlock()
		_ = p.stdin.Close()
		_ = p.cmd.Process.Kill()
		<-p.done
	})
}

// Stop ends the peer before the test does, e.g. to test what a sink does when its hub is gone.
func (p *Peer) Stop() { p.stop() }

// ConnectionString is a connection string for hub on this peer (see connectionString).
func (p *Peer) ConnectionString(hub string) string { return connectionString(p.Port, hub) }

// Control sends one control line to the peer (see test/ehpeer/peer.js: "stats", "busy N",
// "drop N", "stall N", "close-all", "idle-close MS", "max-size BYTES", "refuse-partition N") and
// returns its one-line answer.
func (p *Peer) Control(t testing.TB, line string) string {
	t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		t.Fatalf("sending %q to the Event Hubs test peer: %v", line, err)
	}
	select {
	case r := <-p.replies:
		if strings.HasPrefix(r, "error ") {
			t.Fatalf("the Event Hubs test peer refused %q: %s", line, r)
		}
		return r
	case <-p.done:
		t.Fatalf("the Event Hubs test peer exited: %s", p.stderrText())
	case <-time.After(10 * time.Second):
		t.Fatalf("the Event Hubs test peer did not answer %q", line)
	}
	return ""
}

// Stats are the peer's counters.
type Stats struct {
	Connections      int `json:"connections"`
	Sends            int `json:"sends"`    // transfers on producer links (one per batch)
	Accepted         int `json:"accepted"` // events stored
	RejectedBusy     int `json:"rejectedBusy"`
	RejectedTooLarge int `json:"rejectedTooLarge"`
	RejectedRefused  int `json:"rejectedRefused"` // sends to a partition refused by refuse-partition
	ProducerLinks    int `json:"producerLinks"`   // producer links attached (to a hub or a partition)
	Stalled          int `json:"stalled"`
	Drops            int `json:"drops"`
	ForcedCloses     int `json:"forcedCloses"`     // idle closes and close-all
	MaxTransferBytes int `json:"maxTransferBytes"` // the largest transfer (batch message) received
	// Hubs holds the number of stored events by hub name and partition id.
	Hubs map[string]map[string]int `json:"hubs"`
}

// Stats asks the peer for its counters.
func (p *Peer) Stats(t testing.TB) Stats {
	t.Helper()
	r := p.Control(t, "stats")
	var s Stats
	if err := json.Unmarshal([]byte(strings.TrimPrefix(r, "stats ")), &s); err != nil {
		t.Fatalf("reading the Event Hubs test peer's stats %q: %v", r, err)
	}
	return s
}

// Target returns a connection string for the first hub of opts.Hubs (default DefaultHub): the hub
// named by EVENTHUB_TEST_CONNECTION_STRING when it is set, else a local peer started with opts.
// cleanup stops the peer early; t.Cleanup does so anyway. t.Log says which target is used.
func Target(t testing.TB, opts Options) (connString string, cleanup func()) {
	t.Helper()
	hub := DefaultHub
	if len(opts.Hubs) > 0 {
		hub = opts.Hubs[0]
	}
	if cs := os.Getenv(EnvConnectionString); cs != "" {
		if !strings.Contains(strings.ToLower(cs), "entitypath=") {
			cs = strings.TrimSuffix(cs, ";") + ";EntityPath=" + hub
		}
		t.Logf("Event Hubs target: %s from %s (not the local peer)", endpointOf(cs), EnvConnectionString)
		return cs, func() {}
	}
	p := Start(t, opts)
	return p.ConnectionString(hub), p.stop
}

// endpointOf returns the endpoint and hub of a connection string, never its key.
func endpointOf(cs string) string {
	var endpoint, hub string
	for _, kv := range strings.Split(cs, ";") {
		k, v, _ := strings.Cut(kv, "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "endpoint":
			endpoint = v
		case "entitypath":
			hub = v
		}
	}
	return endpoint + " hub " + hub
}

// RepoRoot finds the module's root: the nearest folder above the working directory with a go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run the tests inside the repository")
		}
		dir = parent
	}
}

// PeerDir is the folder of the peer's sources, test/ehpeer under the repository root.
func PeerDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "test", "ehpeer")
	if _, err := os.Stat(filepath.Join(dir, "peer.js")); err != nil {
		return "", fmt.Errorf("the Event Hubs test peer is missing: %w", err)
	}
	return dir, nil
}

// Install makes sure the peer can run: node is on PATH and the peer's npm packages are installed
// (npm ci when node_modules is missing); it fails tb otherwise. It is for tests that start the
// peer some other way, such as through scripts/demo.sh.
func Install(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		tb.Fatal("the Event Hubs test peer needs Node.js 20 or later, and no `node` is on PATH: install it (CI does)")
	}
	dir, err := PeerDir()
	if err != nil {
		tb.Fatal(err)
	}
	if err := ensureInstalled(dir); err != nil {
		tb.Fatal(err)
	}
}

var installMu sync.Mutex

// ensureInstalled runs npm ci when node_modules is missing. Test binaries of several packages may
// run at once, so each installs into a folder of its own and renames it into place: the first
// rename wins, and a later one fails harmlessly because node_modules then exists.
func ensureInstalled(dir string) error {
	installMu.Lock()
	defer installMu.Unlock()
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "rhea", "package.json")); err == nil {
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("test/ehpeer/node_modules is missing and no `npm` is on PATH to install it: install Node.js 20 with npm, or run `npm ci` in %s", dir)
	}
	tmp, err := os.MkdirTemp(dir, ".install-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, name := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return err
		}
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci for the Event Hubs test peer in %s: %v\n%s", dir, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, "node_modules"), modules); err != nil {
		if _, statErr := os.Stat(filepath.Join(modules, "rhea", "package.json")); statErr == nil {
			return nil // another test binary installed it first
		}
		return fmt.Errorf("moving the peer's node_modules into place: %w", err)
	}
	return nil
}
