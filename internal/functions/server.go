package functions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/opensky-eventhubs/handler/internal/tick"
)

// FunctionName is the timer function's folder name, which is also its route.
const FunctionName = "OpenSkyTimer"

// MaxBodyBytes caps an invocation body; a timer invocation is well under 4 KiB.
const MaxBodyBytes = 1 << 20

// InvocationIDHeader carries the host's invocation id.
const InvocationIDHeader = "X-Azure-Functions-InvocationId"

// SummaryLogPrefix starts the last Logs entry of a successful tick, which is the tick's summary
// (the ReturnValue) as JSON. The host writes each Logs entry to Application Insights as a trace
// whose message is the text alone, so this entry is what makes the summary's fields, such as
// credits_remaining, queryable there: parse_json(substring(message, strlen(SummaryLogPrefix))).
// infra/ (the credits alert and the workbook) reads it.
const SummaryLogPrefix = "tick summary "

// Ticker runs one tick. It returns the summary as far as the tick got, and an error unless every
// event of the snapshot was published.
type Ticker interface {
	Tick(ctx context.Context, req tick.Request) (tick.Summary, error)
}

// NewServer returns the handler's routes:
//
//	GET  /             readiness: the host polls it until any answer comes
//	POST /OpenSkyTimer one timer tick
func NewServer(logger *slog.Logger, t Ticker) http.Handler {
	r := chi.NewRouter()
	r.Use(recoverer(logger))
	r.Get("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	r.Post("/"+FunctionName, handleTimer(logger, t))
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, InvocationResponse{
			Outputs: map[string]any{},
			Logs:    []string{fmt.Sprintf("no function %q here; the only one is %s", r.URL.Path, FunctionName)},
		})
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, InvocationResponse{
			Outputs: map[string]any{},
			Logs:    []string{fmt.Sprintf("%s is not allowed on %s; the host POSTs invocations", r.Method, r.URL.Path)},
		})
	})
	return r
}

// Routes lists the function routes the server answers, for the test that every function folder
// has one.
func Routes() []string { return []string{FunctionName} }

func handleTimer(logger *slog.Logger, t Ticker) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		log := logger.With(slog.String("function", FunctionName), slog.String("invocation_id", r.Header.Get(InvocationIDHeader)))

		req, err := DecodeInvocation(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			msg := fmt.Sprintf("the body is not a JSON invocation: %v", err)
			if errors.As(err, &mbe) {
				msg = fmt.Sprintf("the body is larger than %d bytes; a timer invocation is far smaller", MaxBodyBytes)
			}
			log.Error("bad invocation", slog.String("error", msg))
			writeJSON(w, http.StatusBadRequest, InvocationResponse{Outputs: map[string]any{}, Logs: []string{msg}})
			return
		}
		timer, err := req.Timer()
		if err != nil {
			log.Error("bad invocation", slog.String("error", err.Error()))
			writeJSON(w, http.StatusBadRequest, InvocationResponse{Outputs: map[string]any{}, Logs: []string{err.Error()}})
			return
		}

		treq := tick.Request{IsPastDue: timer.IsPastDue}
		if st := timer.ScheduleStatus; st != nil {
			treq.Scheduled = st.Next.Time
		}
		if timer.IsPastDue {
			log.Warn("timer is past due", slog.Time("scheduled", treq.Scheduled))
		}

		sum, err := t.Tick(r.Context(), treq)
		logs := append([]string{}, sum.Warnings...)
		if cause := context.Cause(r.Context()); err != nil && cause != nil && !errors.Is(err, cause) {
			// The error says only "context canceled"; say who cancelled it.
			err = fmt.Errorf("%w: %w", err, cause)
		}
		if err != nil {
			// The host never shows the Logs of a failed invocation: stderr is where the reason lands.
			log.Error("tick failed", append([]any{slog.String("error", err.Error())}, attrsAny(sum.LogAttrs())...)...)
			logs = append([]string{"tick failed: " + err.Error()}, logs...)
			writeJSON(w, http.StatusInternalServerError, InvocationResponse{Outputs: map[string]any{}, Logs: logs, ReturnValue: sum})
			return
		}
		for _, warning := range sum.Warnings {
			log.Warn(warning)
		}
		line := sum.Line()
		log.Info(line, attrsAny(sum.LogAttrs())...)
		logs = append([]string{line}, logs...)
		if b, err := json.Marshal(sum); err == nil {
			logs = append(logs, SummaryLogPrefix+string(b))
		}
		writeJSON(w, http.StatusOK, InvocationResponse{Outputs: map[string]any{}, Logs: logs, ReturnValue: sum})
	}
}

// recoverer turns a panic in a handler into a 500 and an error line, and keeps the process up.
// (chi's middleware package would do it too, but importing it links net/http/pprof and expvar
// into the binary and their init into every cold start.)
func recoverer(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					logger.Error("panic serving request", slog.String("path", r.URL.Path), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
					writeJSON(w, http.StatusInternalServerError, InvocationResponse{Outputs: map[string]any{}, Logs: []string{fmt.Sprintf("internal error: %v", v)}})
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

func attrsAny(attrs []slog.Attr) []any {
	out := make([]any, len(attrs))
	for i, a := range attrs {
		out[i] = a
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ErrShutdown is the cause given to the context of a tick that Serve stops at shutdown.
var ErrShutdown = errors.New("the handler is shutting down (SIGTERM) and SHUTDOWN_GRACE ran short: the tick was stopped before it finished, and its events are not all published")

// Serve runs srv until ctx is done, then shuts it down within grace: it stops taking invocations,
// lets a tick in flight finish, and when three quarters of grace have passed cancels what still
// runs (see StopAfterGrace), so that the tick fails with its reason (and the host retries nothing
// half-published) instead of being cut off mid-answer. srv.BaseContext is set here. Serve
// returns by grace after ctx is done, whether or not every tick has ended.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	base, stop := StopAfterGrace(ctx, grace)
	defer stop()
	srv.BaseContext = func(net.Listener) context.Context { return base }
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down within %s: %w", grace, err)
	}
	return nil
}

// StopAfterGrace returns a context for the work under way at shutdown: it is not cancelled when
// ctx is done (the signal), but three quarters of grace later, with ErrShutdown as its cause, so
// that work that would outlast the grace fails with that reason and the last quarter is left for
// answering and closing. stop releases its resources.
func StopAfterGrace(ctx context.Context, grace time.Duration) (work context.Context, stop func()) {
	work, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	var (
		mu    sync.Mutex
		timer *time.Timer
	)
	unwatch := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		timer = time.AfterFunc(grace*3/4, func() { cancel(ErrShutdown) })
	})
	return work, func() {
		unwatch()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel(nil)
	}
}
