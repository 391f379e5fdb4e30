// Package eventhub is the Azure Event Hubs sink: it publishes each snapshot's events, one event per
// aircraft state, with the Go SDK (azeventhubs v2).
//
// Partitions are chosen here, not by the service: each record goes to the partition picked by a
// stable hash of its key (the aircraft's icao24), so one aircraft's states stay in order in one
// partition, and a snapshot becomes one batch (or a few, at the size limit) per partition instead
// of one batch per aircraft, which is what a partition key per aircraft would cost. The mapping
// depends on the number of partitions only, so it holds across restarts and releases; if the
// hub's partition count changes, aircraft move once.
//
// Delivery is at least once. A send that fails with a transient error (a timeout, a lost
// connection, a busy service) is retried, and a retry resends the whole batch: if the first try
// had in fact been stored, its events arrive twice. Every event carries its event_id as the AMQP
// message id so that consumers can drop repeats.
//
// Every send has a deadline (the caller's), and a try is cut when its connection stops making
// progress (see Config.SendTimeout), because a send on a connection the service closed while idle,
// or that a middlebox forgot, can otherwise hang until its context ends. There
// is one retry layer, this package's; the SDK's own retries are turned down to one quick retry,
// which lets it reopen a lost link before reporting the error.
package eventhub

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
	"golang.org/x/sync/errgroup"

	"github.com/opensky-eventhubs/handler/internal/flight"
	"github.com/opensky-eventhubs/handler/internal/sink"
)

// Defaults for the Config fields left zero.
const (
	DefaultConcurrency = 4
	DefaultSendTimeout = 30 * time.Second
)

// SchemaVersionProperty is the application property that carries flight.SchemaVersion on every
// event, so consumers can tell schema versions apart without parsing the body.
const SchemaVersionProperty = "schema_version"

// Config says which hub to publish to and how.
type Config struct {
	// ConnectionString is a namespace or hub connection string (local runs, the emulator). When it
	// is empty, Namespace and a Microsoft Entra credential are used instead, as in Azure.
	ConnectionString string
	// Namespace is the fully qualified namespace, e.g. "myns.servicebus.windows.net".
	Namespace string
	// HubName is the event hub; it may be left empty when the connection string has an EntityPath.
	HubName string
	// ClientID is the client id of a user-assigned managed identity (AZURE_CLIENT_ID); empty means
	// the system-assigned identity or whatever DefaultAzureCredential finds.
	ClientID string
	// Concurrency bounds how many partitions are sent to at once; default DefaultConcurrency.
	Concurrency int
	// SendTimeout is how long one batch may take with the connection to itself: a try is cut when
	// no call on its connection has completed for SendTimeout times the calls in flight, so that a
	// slow but moving link is not mistaken for a dead one; default DefaultSendTimeout.
	SendTimeout time.Duration
	// Logger receives a warning per retried send; default slog.Default().
	Logger *slog.Logger
}

// Sink publishes batches of flight events to one event hub. It holds one producer client (and so
// one AMQP connection), replaced only when a try gets no answer: create the Sink once per process
// and Close it at shutdown. It is safe for concurrent use.
type Sink struct {
	newProducer func() (*azeventhubs.ProducerClient, error)
	target      string   // "hub <name> in <namespace>", for messages: never the connection string
	secrets     []string // removed from any error text, in case a lower layer quotes them
	concurrency int
	sendTimeout time.Duration
	log         *slog.Logger
	backoff     func() backoff // a new retry schedule per send; tests make it fast
	// sendBatch puts a batch on the wire; the CPU-path benchmark replaces it to measure batching alone.
	sendBatch func(ctx context.Context, pc *azeventhubs.ProducerClient, b *azeventhubs.EventDataBatch) error

	stopWarm context.CancelFunc // ends opening the links in the background (see warm)

	mu         sync.Mutex
	producer   *azeventhubs.ProducerClient // replaced after a try timed out
	progress   *progress                   // the producer's calls
	retired    []*retired                  // replaced producers not yet closed (a send timeout later)
	partitions []string                    // sorted; nil means "read them again"
}

// New validates cfg, creates the producer client, reads the hub's partition ids and opens a link
// to send to one of them, so that a wrong name, address or permission shows at start-up rather
// than at the first tick.
func New(ctx context.Context, cfg Config) (*Sink, error) {
	s := &Sink{
		concurrency: cmp.Or(cfg.Concurrency, DefaultConcurrency),
		sendTimeout: cmp.Or(cfg.SendTimeout, DefaultSendTimeout),
		log:         cmp.Or(cfg.Logger, slog.Default()),
		backoff:     defaultBackoff,
		sendBatch:   sendBatch,
	}
	if err := s.connect(cfg); err != nil {
		return nil, err
	}
	ids, err := s.partitionIDs(ctx)
	if err == nil {
		err = s.checkSend(ctx, ids[0])
	}
	if err != nil {
		_ = s.client().Close(context.WithoutCancel(ctx))
		return nil, err
	}
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopWarm = stop
	go s.warm(wctx, ids)
	return s, nil
}

// warm opens the other partitions' links in the background (checkSend opened the first), one
// after another, as the SDK would on the first send to each (under one lock, with a token
// exchange and an attach each): on a link with real round trips that would otherwise dominate the
// first tick, which is now likely to find them open, since it fetches from OpenSky first. A batch
// is the SDK's way to open a link without sending (it reads the link's size limit); nothing is
// sent. A failure is left for the first send to retry.
func (s *Sink) warm(ctx context.Context, ids []string) {
	pc := s.client()
	for _, id := range ids[1:] {
		tctx, cancel := context.WithTimeout(ctx, s.sendTimeout)
		_, err := pc.NewEventDataBatch(tctx, &azeventhubs.EventDataBatchOptions{PartitionID: &id})
		cancel()
		if err != nil {
			s.log.Debug("opening a partition's link in the background", "hub", s.target, "partition", id, "err", s.wrap(err))
			return
		}
	}
}

func sendBatch(ctx context.Context, pc *azeventhubs.ProducerClient, b *azeventhubs.EventDataBatch) error {
	return pc.SendEventDataBatch(ctx, b, nil)
}

// The SDK's retries are turned down: this package retries, with the caller's deadline in view.
var sdkRetries = azeventhubs.RetryOptions{MaxRetries: 1, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: time.Second}

func (s *Sink) connect(cfg Config) error {
	if cfg.Concurrency < 0 || cfg.SendTimeout < 0 {
		return errors.New("event hub config: Concurrency and SendTimeout must not be negative")
	}
	ep, err := resolve(cfg)
	if err != nil {
		return err
	}
	s.target, s.secrets = ep.target, ep.secrets
	opts := &azeventhubs.ProducerClientOptions{ApplicationID: applicationID, RetryOptions: sdkRetries}
	s.newProducer = func() (*azeventhubs.ProducerClient, error) {
		if ep.connString != "" {
			return azeventhubs.NewProducerClientFromConnectionString(ep.connString, ep.hub, opts)
		}
		return azeventhubs.NewProducerClient(ep.namespace, ep.hub, ep.cred, opts)
	}
	return s.firstProducer()
}

// applicationID names this program to the service, on producers and consumers alike.
const applicationID = "opensky-eventhubs"

// endpoint is how to reach the hub a Config names: the producer and the consumer connect alike.
type endpoint struct {
	target     string   // "<hub> in <namespace>", for messages: never the connection string
	secrets    []string // keys and signatures to keep out of error text
	connString string   // when set, the hub is reached with it, and hub is "" if it has an EntityPath
	namespace  string
	hub        string
	cred       azcore.TokenCredential // with namespace, when there is no connection string
}

// resolve checks cfg and works out the endpoint: a connection string, or a namespace and hub
// name with a Microsoft Entra credential.
func resolve(cfg Config) (endpoint, error) {
	if cfg.ConnectionString != "" {
		props, err := azeventhubs.ParseConnectionString(cfg.ConnectionString)
		if err != nil {
			return endpoint{}, fmt.Errorf("event hub connection string: %w", err)
		}
		ep := endpoint{connString: cfg.ConnectionString, hub: cfg.HubName}
		for _, p := range []*string{props.SharedAccessKey, props.SharedAccessSignature} {
			// Real keys are 44 characters; a short dummy (the emulator's) is not worth masking and
			// would garble every message it matches.
			if p != nil && len(*p) >= minSecretLen {
				ep.secrets = append(ep.secrets, *p)
			}
		}
		hub := cfg.HubName
		switch {
		case props.EntityPath != nil && hub != "" && hub != *props.EntityPath:
			return endpoint{}, fmt.Errorf("event hub config: the connection string names hub %q (EntityPath) but the hub name is %q: set one or make them agree", *props.EntityPath, hub)
		case props.EntityPath != nil:
			hub = *props.EntityPath
			ep.hub = "" // the SDK refuses a hub name next to an EntityPath
		case hub == "":
			return endpoint{}, errors.New("event hub config: the connection string has no EntityPath and no hub name is set")
		}
		ep.target = fmt.Sprintf("%s in %s", hub, props.FullyQualifiedNamespace)
		return ep, nil
	}

	var problems []error
	if cfg.Namespace == "" {
		problems = append(problems, errors.New("event hub config: neither a connection string nor a namespace is set"))
	} else if !strings.Contains(cfg.Namespace, ".") || strings.Contains(cfg.Namespace, "://") {
		problems = append(problems, fmt.Errorf("event hub config: namespace %q is not a fully qualified host name such as myns.servicebus.windows.net", cfg.Namespace))
	}
	if cfg.HubName == "" {
		problems = append(problems, errors.New("event hub config: no hub name is set"))
	}
	if err := errors.Join(problems...); err != nil {
		return endpoint{}, err
	}
	ep := endpoint{namespace: cfg.Namespace, hub: cfg.HubName, target: fmt.Sprintf("%s in %s", cfg.HubName, cfg.Namespace)}
	cred, err := credential(cfg.ClientID)
	if err != nil {
		return endpoint{}, fmt.Errorf("connecting to Event Hub %s: creating a Microsoft Entra credential: %w", ep.target, err)
	}
	ep.cred = cred
	return ep, nil
}

func (s *Sink) firstProducer() error {
	pc, err := s.newProducer()
	if err != nil {
		return s.wrap(fmt.Errorf("connecting to Event Hub %s: %w", s.target, err))
	}
	s.producer, s.progress = pc, new(progress)
	return nil
}

// current returns the current producer and its progress.
func (s *Sink) current() (*azeventhubs.ProducerClient, *progress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.producer, s.progress
}

// client returns the current producer.
func (s *Sink) client() *azeventhubs.ProducerClient {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.producer
}

// replaceProducer swaps old for a new producer (and so a new connection) unless another try has
// done so already. Tries of other partitions may still be using old, so it is closed only when
// they have had their full send timeout; Close closes it at once.
func (s *Sink) replaceProducer(old *azeventhubs.ProducerClient) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.producer != old {
		return
	}
	pc, err := s.newProducer()
	if err != nil {
		s.log.Warn("replacing the Event Hubs producer after a timeout", "hub", s.target, "err", s.wrap(err))
		return
	}
	s.producer, s.progress = pc, new(progress)
	r := &retired{pc: old}
	s.retired = append(s.retired, r)
	time.AfterFunc(s.sendTimeout, func() {
		// Closed, it is forgotten: a long run on a flaky link replaces many.
		s.mu.Lock()
		s.retired = slices.DeleteFunc(s.retired, func(x *retired) bool { return x == r })
		s.mu.Unlock()
		r.close()
	})
}

// retired is a replaced producer waiting to be closed.
type retired struct {
	pc   *azeventhubs.ProducerClient
	once sync.Once
}

// close closes the producer's connection without waiting for the service to answer: the
// connection is presumed dead, and a polite close of each link on it would wait for an answer
// that never comes. A failure to close it says nothing new.
func (r *retired) close() {
	r.once.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = r.pc.Close(ctx)
	})
}

// credential is the identity the sink signs in with. DefaultAzureCredential (v1.15) takes a
// user-assigned identity's client id only from the environment (AZURE_CLIENT_ID), so an explicit
// ClientID gets a ManagedIdentityCredential of its own, tried first; the default chain stays
// behind it for runs outside Azure (Azure CLI, environment credentials).
func credential(clientID string) (azcore.TokenCredential, error) {
	def, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, err
	}
	if clientID == "" {
		return def, nil
	}
	mi, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(clientID)})
	if err != nil {
		return nil, err
	}
	return azidentity.NewChainedTokenCredential([]azcore.TokenCredential{mi, def}, nil)
}

// Close closes the producer and its connection, and returns by ctx's deadline whatever the
// connection does: a close on a connection that went silent waits for answers that never come
// (and may wait for a lock held by a send stuck on it), so at the deadline Close gives up and
// leaves the connection to the process's exit. Publish must not be called after Close.
func (s *Sink) Close(ctx context.Context) error {
	if s.stopWarm != nil {
		s.stopWarm()
	}
	s.mu.Lock()
	pc, old := s.producer, s.retired
	s.retired = nil
	s.mu.Unlock()
	for _, r := range old {
		go r.close()
	}
	done := make(chan error, 1)
	go func() { done <- pc.Close(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			return s.wrap(fmt.Errorf("closing the Event Hub %s producer: %w", s.target, err))
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("closing the Event Hub %s producer: no clean close in the time given (%w); the connection is dropped when the process exits", s.target, context.Cause(ctx))
	}
}

// partitionIDs returns the hub's partition ids, sorted, reading them from the hub the first time
// and again after a failed send (a hub's partition count can grow).
func (s *Sink) partitionIDs(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	ids := s.partitions
	s.mu.Unlock()
	if ids != nil {
		return ids, nil
	}
	// Read without holding mu: a try that times out replaces the producer, which takes mu.
	err := s.retry(ctx, "reading hub properties", func(ctx context.Context, pc *azeventhubs.ProducerClient) error {
		props, err := pc.GetEventHubProperties(ctx, nil)
		ids = props.PartitionIDs
		return err
	})
	if err != nil {
		return nil, s.wrap(fmt.Errorf("connecting to Event Hub %s: reading its partitions: %w", s.target, err))
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("connecting to Event Hub %s: the hub reports no partitions", s.target)
	}
	ids = sortPartitionIDs(ids)
	s.mu.Lock()
	s.partitions = ids
	s.mu.Unlock()
	return ids, nil
}

func (s *Sink) forgetPartitions() {
	s.mu.Lock()
	s.partitions = nil
	s.mu.Unlock()
}

// sortPartitionIDs orders ids numerically when they are numbers ("2" before "10"), as Event Hubs
// ids are, so that the record-to-partition mapping does not depend on the order the hub lists them.
func sortPartitionIDs(ids []string) []string {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b string) int {
		ai, aerr := strconv.Atoi(a)
		bi, berr := strconv.Atoi(b)
		if aerr == nil && berr == nil {
			return cmp.Compare(ai, bi)
		}
		return strings.Compare(a, b)
	})
	return out
}

// partitionIndex maps a record key to one of n partitions with FNV-1a (32 bit). The mapping must
// never change between releases for a given key and partition count: consumers rely on one
// aircraft's events staying in one partition, in order.
func partitionIndex(key string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// Publish sends every record of b, grouped by partition, with at most Config.Concurrency
// partitions in flight. It blocks until each record was accepted by the hub, or failed, or ctx is
// done. The report counts what was accepted; the error, if any, says what was not: Publish
// returns nil only when every record was accepted. Nothing of b is used after Publish returns (the
// SDK copies each event into its batch), so the caller may reuse b's buffers.
func (s *Sink) Publish(ctx context.Context, b flight.Batch) (sink.Report, error) {
	if err := ctx.Err(); err != nil {
		return sink.Report{}, fmt.Errorf("publishing to Event Hub %s: %w", s.target, err)
	}
	if len(b.Records) == 0 {
		return sink.Report{}, nil
	}
	if s.stopWarm != nil {
		// The SDK opens links under a lock that does not heed contexts: a link still being opened
		// in the background on a connection gone silent would hold this publish past its deadline.
		defer context.AfterFunc(ctx, s.stopWarm)()
	}
	ids, err := s.partitionIDs(ctx)
	if err != nil {
		return sink.Report{}, err
	}
	groups := make([][]int, len(ids)) // record indexes per partition, in snapshot order
	for i := range b.Records {
		p := partitionIndex(b.Records[i].Key, len(ids))
		groups[p] = append(groups[p], i)
	}

	var (
		mu     sync.Mutex
		report = sink.Report{Partitions: map[string]sink.PartitionReport{}}
		errs   []error
	)
	// Without a group context: one partition failing does not stop the others, so as many events
	// as possible get through, and the error lists every partition that failed.
	var g errgroup.Group
	g.SetLimit(s.concurrency)
	for p, idx := range groups {
		if len(idx) == 0 {
			continue
		}
		g.Go(func() error {
			pr, err := s.sendPartition(ctx, ids[p], b.Records, idx)
			mu.Lock()
			defer mu.Unlock()
			if pr.Events > 0 {
				report.Partitions[ids[p]] = pr
				report.Events += pr.Events
				report.Batches += pr.Batches
				report.Bytes += pr.Bytes
			}
			if err != nil {
				errs = append(errs, err)
			}
			return nil
		})
	}
	_ = g.Wait()
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return report, s.wrap(fmt.Errorf("publishing to Event Hub %s: %d of %d events not accepted: %w",
			s.target, len(b.Records)-report.Events, len(b.Records), errors.Join(errs...)))
	}
	return report, nil
}

// contentType is shared by every event; the SDK only reads it.
var contentType = flight.ContentType

// schemaProps is shared by every event. Events are added as AMQP messages, whose application
// properties the SDK marshals as they are (an EventData's it would copy, once per event); nothing
// writes to the map.
var schemaProps = map[string]any{SchemaVersionProperty: flight.SchemaVersion}

// sendPartition sends the records at idx to one partition, in order, filling each batch up to the
// link's size limit. A record too large for an empty batch is skipped and named in the error; the
// others still go.
func (s *Sink) sendPartition(ctx context.Context, id string, records []flight.Record, idx []int) (sink.PartitionReport, error) {
	var (
		pr       sink.PartitionReport
		tooLarge []string
		batch    *azeventhubs.EventDataBatch
		bytes    int // body bytes in batch
	)
	newBatch := func() error {
		bytes = 0
		return s.retry(ctx, "creating a batch for partition "+id, func(ctx context.Context, pc *azeventhubs.ProducerClient) error {
			var err error
			batch, err = pc.NewEventDataBatch(ctx, &azeventhubs.EventDataBatchOptions{PartitionID: &id})
			return err
		})
	}
	send := func() error {
		err := s.retry(ctx, "sending to partition "+id, func(ctx context.Context, pc *azeventhubs.ProducerClient) error {
			return s.sendBatch(ctx, pc, batch)
		})
		if err != nil {
			s.forgetPartitions()
			return fmt.Errorf("partition %s: sending a batch of %d events: %w", id, batch.NumEvents(), err)
		}
		pr.Events += int(batch.NumEvents())
		pr.Batches++
		pr.Bytes += bytes
		return nil
	}

	if err := newBatch(); err != nil {
		return pr, fmt.Errorf("partition %s: creating a batch: %w", id, err)
	}
	// Each event is the same AMQP message an EventData with these fields makes (one data section,
	// the content type, the message id, the schema_version property), added as an
	// AMQPAnnotatedMessage: the SDK marshals it at once, so one message is reused for every event,
	// and the body sections come from one slice, in the order of idx.
	sections := make([][]byte, len(idx))
	msg := &azeventhubs.AMQPAnnotatedMessage{
		ApplicationProperties: schemaProps,
		Properties:            &azeventhubs.AMQPAnnotatedMessageProperties{ContentType: &contentType},
	}
	for k, i := range idx {
		r := &records[i]
		sections[k] = r.Body
		msg.Body.Data = sections[k : k+1 : k+1]
		msg.Properties.MessageID = r.ID
		err := batch.AddAMQPAnnotatedMessage(msg, nil)
		if errors.Is(err, azeventhubs.ErrEventDataTooLarge) && batch.NumEvents() > 0 {
			// The batch is full: send it and start the next one with this event.
			if err := send(); err != nil {
				return pr, err
			}
			if err := newBatch(); err != nil {
				return pr, fmt.Errorf("partition %s: creating a batch: %w", id, err)
			}
			err = batch.AddAMQPAnnotatedMessage(msg, nil)
		}
		switch {
		case errors.Is(err, azeventhubs.ErrEventDataTooLarge):
			tooLarge = append(tooLarge, fmt.Sprintf("%s (%d bytes)", r.ID, len(r.Body)))
			continue
		case err != nil:
			return pr, fmt.Errorf("partition %s: adding event %s to a batch: %w", id, r.ID, err)
		}
		bytes += len(r.Body)
	}
	if batch.NumEvents() > 0 {
		if err := send(); err != nil {
			return pr, err
		}
	}
	if len(tooLarge) > 0 {
		return pr, fmt.Errorf("partition %s: %d events too large for an Event Hubs message even alone, not sent: %s",
			id, len(tooLarge), firstFew(tooLarge, maxNamed))
	}
	return pr, nil
}

// maxNamed is how many events an error names one by one: the message goes to a log line, and a
// snapshot of events that are all too large would otherwise list every one of them.
const maxNamed = 5

// firstFew joins the first n of items, and says how many more there are.
func firstFew(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

// minSecretLen is the shortest key or signature wrap masks.
const minSecretLen = 8

// wrap removes any shared access key or signature from err's text, keeping err for errors.Is/As:
// error text ends up in logs, and the secret must not.
func (s *Sink) wrap(err error) error { return redact(s.secrets, err) }

// redact removes each of secrets from err's text, keeping err for errors.Is/As.
func redact(secrets []string, err error) error {
	if err == nil || len(secrets) == 0 {
		return err
	}
	msg := err.Error()
	for _, sec := range secrets {
		msg = strings.ReplaceAll(msg, sec, "<redacted>")
	}
	if msg == err.Error() {
		return err
	}
	return &redacted{msg: msg, err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }
