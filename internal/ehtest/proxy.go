package ehtest

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy on 127.0.0.1 between the SDK and a Peer, for link faults the peer cannot
// make itself: a connection that goes silent (Stall) and a slow link (Throttle). The SDK connects
// to the proxy with ConnectionString; each connection it opens is forwarded to the peer.
type Proxy struct {
	// Port is the TCP port the proxy listens on, on 127.0.0.1.
	Port int

	ln     net.Listener
	target string
	done   chan struct{} // closed at cleanup

	mu        sync.Mutex
	conns     []*proxyConn
	rate      int           // bytes a second towards the peer, 0 = as fast as it goes
	delay     time.Duration // one-way latency, each way
	swallowed int           // bytes sent on stalled connections, by either side
}

// proxyConn is one forwarded connection.
type proxyConn struct {
	client, peer net.Conn
	mu           sync.Mutex
	stalled      bool
}

func (c *proxyConn) isStalled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stalled
}

// StartProxy starts a proxy to the peer p for the length of the test.
func StartProxy(t testing.TB, p *Peer) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	x := &Proxy{Port: ln.Addr().(*net.TCPAddr).Port, ln: ln, target: net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port)), done: make(chan struct{})}
	go x.accept()
	t.Cleanup(x.close)
	return x
}

// ConnectionString is a connection string for hub on the peer, through the proxy.
func (x *Proxy) ConnectionString(hub string) string { return connectionString(x.Port, hub) }

// Connections is how many connections the proxy has accepted.
func (x *Proxy) Connections() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.conns)
}

// Stall makes every connection open now go silent both ways, as a link does when a middlebox
// forgets it or the service's host dies: what either side sends is swallowed, and neither side
// hears a close or a reset. Connections opened later work.
func (x *Proxy) Stall() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, c := range x.conns {
		c.mu.Lock()
		c.stalled = true
		c.mu.Unlock()
	}
}

// Throttle limits what every connection, open now or later, carries towards the peer to about
// bytesPerSecond (0 lifts the limit). Answers from the peer are not slowed: they are small.
func (x *Proxy) Throttle(bytesPerSecond int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.rate = bytesPerSecond
}

// Swallowed is how many bytes either side has sent on stalled connections since they stalled: a
// test waits for it to grow to know that a call is stuck on a silent connection.
func (x *Proxy) Swallowed() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.swallowed
}

// Delay makes every byte, each way, arrive d later than it was sent (a round trip of 2d), on
// connections opened later, as on a link to a far region.
func (x *Proxy) Delay(d time.Duration) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.delay = d
}

func (x *Proxy) rateNow() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.rate
}

func (x *Proxy) accept() {
	for {
		client, err := x.ln.Accept()
		if err != nil {
			return
		}
		peer, err := net.Dial("tcp", x.target)
		if err != nil {
			client.Close()
			continue
		}
		c := &proxyConn{client: client, peer: peer}
		x.mu.Lock()
		x.conns = append(x.conns, c)
		x.mu.Unlock()
		x.mu.Lock()
		delay := x.delay
		x.mu.Unlock()
		go x.pipe(c, client, delayed(peer, delay, x.done), true)
		go x.pipe(c, peer, delayed(client, delay, x.done), false)
	}
}

// throttleChunk is the most a throttled link forwards at once, so that the rate holds within
// a fraction of a second.
const throttleChunk = 1024

// pipe copies from src to dst until either ends; towards the peer it keeps to the rate.
func (x *Proxy) pipe(c *proxyConn, src, dst net.Conn, toPeer bool) {
	defer func() {
		if !c.isStalled() {
			// A close on one side reaches the other, as on a working link.
			src.Close()
			dst.Close()
		}
	}()
	buf := make([]byte, 32*1024)
	// A throttled link keeps to its rate on average: each chunk waits until the bytes sent so far
	// would have taken that long at the rate.
	var (
		since time.Time
		sent  int
		rate  int
	)
	for {
		n := len(buf)
		if toPeer {
			if r := x.rateNow(); r != rate {
				rate, since, sent = r, time.Now(), 0
			}
			if rate > 0 {
				n = throttleChunk
			}
		}
		n, err := src.Read(buf[:n])
		if n > 0 && c.isStalled() {
			x.mu.Lock()
			x.swallowed += n
			x.mu.Unlock()
		} else if n > 0 {
			if rate > 0 {
				sent += n
				select {
				case <-time.After(time.Until(since.Add(time.Duration(sent) * time.Second / time.Duration(rate)))):
				case <-x.done:
					return
				}
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// delayed returns conn, or with a delay a net.Conn whose writes reach conn d later, in order.
func delayed(conn net.Conn, d time.Duration, done <-chan struct{}) net.Conn {
	if d <= 0 {
		return conn
	}
	type chunk struct {
		b  []byte
		at time.Time
	}
	q := make(chan chunk, 1024)
	dc := &delayConn{Conn: conn, q: func(b []byte) error {
		select {
		case q <- chunk{append([]byte(nil), b...), time.Now().Add(d)}:
			return nil
		case <-done:
			return net.ErrClosed
		}
	}}
	go func() {
		for {
			select {
			case c := <-q:
				select {
				case <-time.After(time.Until(c.at)):
				case <-done:
					return
				}
				if _, err := conn.Write(c.b); err != nil {
					return
				}
			case <-done:
				return
			}
		}
	}()
	return dc
}

// delayConn queues its writes for delayed.
type delayConn struct {
	net.Conn
	q func([]byte) error
}

func (c *delayConn) Write(b []byte) (int, error) {
	if err := c.q(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (x *Proxy) close() {
	close(x.done)
	x.ln.Close()
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, c := range x.conns {
		c.client.Close()
		c.peer.Close()
	}
}

// connectionString is a connection string for hub on a peer (or proxy) at port. The key is a
// dummy: the peer takes any token, and the SDK uses SASL ANONYMOUS and no TLS with
// UseDevelopmentEmulator=true.
func connectionString(port int, hub string) string {
	return fmt.Sprintf("Endpoint=sb://127.0.0.1:%d;SharedAccessKeyName=x;SharedAccessKey=y;EntityPath=%s;UseDevelopmentEmulator=true", port, hub)
}
