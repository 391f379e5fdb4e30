package eventhub

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
	"github.com/Azure/go-amqp"
	"github.com/sethvargo/go-retry"
)

// backoff is a retry schedule (go-retry's); Next says how long to wait before the next try.
type backoff = retry.Backoff

// defaultBackoff waits about 0.25, 0.5, 1, 2 and 4 s between tries (20% jitter, so that partitions
// sent at once do not retry in step), five retries at most; the caller's deadline may cut it short.
func defaultBackoff() backoff {
	b := retry.NewExponential(250 * time.Millisecond)
	b = retry.WithJitterPercent(20, b)
	b = retry.WithCappedDuration(5*time.Second, b)
	return retry.WithMaxRetries(5, b)
}

// errTryTimeout marks a try cut for lack of progress (see retry).
var errTryTimeout = errors.New("no answer from Event Hubs")

// retry runs fn until it succeeds, fails with an error that is not transient, the schedule ends,
// or ctx is done.
//
// A try is cut when its connection shows no progress, not after a fixed time: on a slow link the
// batches in flight share the bandwidth and each takes longer, but they still complete. Progress
// is a call on the producer completing (the SDK sends a batch per call and says nothing about the
// bytes under way), and a try is cut when no call has completed, since it started, for the send
// timeout times the number of calls in flight: the send timeout is what one batch may take with
// the link to itself. A try that is cut, or that ctx's deadline ends, also replaces the producer:
// its connection may be dead without the client knowing (see the package doc), and the next try
// on it would hang the same way. (When ctx's deadline ending a try was taken as final, a tick
// timeout under the send timeout left a dead connection in place for every later tick.) A
// cancelled caller says nothing about the connection.
func (s *Sink) retry(ctx context.Context, what string, fn func(ctx context.Context, pc *azeventhubs.ProducerClient) error) error {
	tries := 0
	var last error
	err := retry.Do(ctx, s.deadlineBound(ctx, what, &tries, &last), func(ctx context.Context) error {
		tries++
		pc, pr := s.current()
		tctx, stop := pr.watch(ctx, s.sendTimeout)
		err := fn(tctx, pc)
		stop(err == nil)
		if err == nil {
			return nil
		}
		last = err
		cut := context.Cause(tctx)
		noAnswer := errors.Is(cut, errTryTimeout) || errors.Is(tctx.Err(), context.DeadlineExceeded)
		if noAnswer {
			s.replaceProducer(pc)
		}
		switch {
		case ctx.Err() != nil:
			return err // the caller's deadline: reported below
		case noAnswer:
			last = fmt.Errorf("%w: %w", cut, err)
		case s.client() != pc:
			// Another try replaced the producer while this one used it (and its close may be what
			// failed this try): the next try goes out on the new one.
		case !transient(err):
			return err
		}
		return retry.RetryableError(last)
	})
	// The caller names the operation; this says how it ended.
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && (last == nil || errors.Is(last, ctx.Err())):
		return fmt.Errorf("%w before the deadline (%d tries): %w", errTryTimeout, tries, ctx.Err())
	case ctx.Err() != nil:
		// go-retry reports only the context's error when it ends during a wait; keep the cause.
		return fmt.Errorf("gave up at the deadline after %d tries (%w); last error: %w", tries, ctx.Err(), last)
	case tries > 1:
		return fmt.Errorf("%d tries, last error: %w", tries, last)
	}
	return err
}

// deadlineBound wraps the retry schedule: it stops when the next wait would end past ctx's
// deadline (a try that cannot finish in time is not worth starting), and logs each retry it allows.
// The schedule is made at the first retry: most calls succeed at once and never need it.
func (s *Sink) deadlineBound(ctx context.Context, what string, tries *int, last *error) backoff {
	var b backoff
	return retry.BackoffFunc(func() (time.Duration, bool) {
		if b == nil {
			b = s.backoff()
		}
		next, stop := b.Next()
		if stop {
			return 0, true
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < next {
			return 0, true
		}
		s.log.Warn("retrying Event Hubs call", "op", what, "hub", s.target, "try", *tries, "wait", next, "err", *last)
		return next, false
	})
}

// transient reports whether a failed call may succeed if tried again: timeouts, a lost connection
// or link (the SDK's ErrorCodeConnectionLost, after its own reconnect failed), ownership changes,
// and the service saying it is busy. Bad credentials, a missing hub or partition, a message too
// large are not: trying again would fail the same way.
func transient(err error) bool {
	if errors.Is(err, errTryTimeout) {
		return true
	}
	// The caller's own deadline or cancellation is final (context.DeadlineExceeded is also a net.Error).
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	var ehErr *azeventhubs.Error
	if errors.As(err, &ehErr) {
		return ehErr.Code == azeventhubs.ErrorCodeConnectionLost || ehErr.Code == azeventhubs.ErrorCodeOwnershipLost
	}
	var amqpErr *amqp.Error
	if errors.As(err, &amqpErr) {
		switch amqpErr.Condition {
		case "com.microsoft:server-busy", "com.microsoft:timeout", "com.microsoft:operation-cancelled",
			amqp.ErrCondConnectionForced, amqp.ErrCondDetachForced, amqp.ErrCondInternalError:
			return true
		}
		return false
	}
	var connErr *amqp.ConnError
	var linkErr *amqp.LinkError
	var sessErr *amqp.SessionError
	var netErr net.Error
	return errors.As(err, &connErr) || errors.As(err, &linkErr) || errors.As(err, &sessErr) || errors.As(err, &netErr)
}

// progress is what one producer's calls have done: how many are in flight, and when one last
// completed. retry cuts a try by it.
type progress struct {
	mu       sync.Mutex
	inFlight int
	done     time.Time // when a call last completed; zero before the first
}

// watch starts a try: it returns ctx with a cancel that cuts the try (cause errTryTimeout) once
// no call on the producer has completed, since the try started, for timeout times the calls in
// flight. The try calls stop when it ends, saying whether it completed.
func (p *progress) watch(ctx context.Context, timeout time.Duration) (tctx context.Context, stop func(completed bool)) {
	tctx, cancel := context.WithCancelCause(ctx)
	start := time.Now()
	p.mu.Lock()
	p.inFlight++
	p.mu.Unlock()

	var (
		mu      sync.Mutex
		timer   *time.Timer
		stopped bool
	)
	var check func()
	check = func() {
		p.mu.Lock()
		since := start
		if p.done.After(since) {
			since = p.done
		}
		window := timeout * time.Duration(max(p.inFlight, 1))
		p.mu.Unlock()
		wait := time.Until(since.Add(window))
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		if wait <= 0 {
			cancel(fmt.Errorf("%w: no call on its connection completed for %v", errTryTimeout, time.Since(since).Round(time.Millisecond)))
			return
		}
		timer = time.AfterFunc(wait, check)
	}
	mu.Lock()
	timer = time.AfterFunc(timeout, check)
	mu.Unlock()

	return tctx, func(completed bool) {
		mu.Lock()
		stopped = true
		timer.Stop()
		mu.Unlock()
		p.mu.Lock()
		p.inFlight--
		if completed {
			p.done = time.Now()
		}
		p.mu.Unlock()
		cancel(nil)
	}
}
