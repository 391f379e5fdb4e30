#!/usr/bin/env node
// ehpeer: a local AMQP 1.0 peer that answers the Azure Event Hubs Go SDK (azeventhubs v2) the way
// the service does, so the sink's integration tests run without Docker or a cloud namespace.
// It keeps events in memory, per partition, and forgets them when it stops.
//
// What it does, and why (see shared/notes/FACTS.md, "What a local AMQP 1.0 test peer must do"):
// - SASL ANONYMOUS and no TLS: the SDK uses both with UseDevelopmentEmulator=true.
// - $cbs put-token and <hub>/$management READ (hub and partition properties) as request/reply:
//   the reply goes to the link whose target is the request's reply-to, correlated by message id.
// - Producer links (<hub> or <hub>/Partitions/<n>) get an attach that echoes the settle modes and
//   advertises max-message-size; each batch message (format 0x80013700) holds one event per data
//   section, and each event is stored with its sequence number, offset and enqueued time.
// - Consumer links (<hub>/ConsumerGroups/<cg>/Partitions/<n>) start where the selector filter says
//   and get pre-settled deliveries, as the SDK never settles them.
//
// Control lines on standard input (each answered by one line on standard output):
//   stats            -> "stats {json}"            counts per hub and partition, sends, faults
//   busy N           -> "ok busy N"               reject the next N sends with com.microsoft:server-busy
//   drop N           -> "ok drop N"               drop the connection when the Nth send from now arrives
//   stall N          -> "ok stall N"              leave the next N sends unanswered (no disposition, not stored)
//   close-all        -> "ok close-all 0"          close every connection with amqp:connection:forced now
//   idle-close MS    -> "ok idle-close MS"        close connections idle for MS ms (0 = never)
//   max-size BYTES   -> "ok max-size BYTES"       max-message-size for producer links attached later
//   refuse-partition N -> "ok refuse-partition N"  reject every later send to partition N with amqp:not-allowed
'use strict';

const readline = require('readline');
const rhea = require('rhea');
const { types, message } = rhea;

const BATCH_FORMAT = 0x80013700;
const SECTION_HEADER = 0x70;
const SECTION_DELIVERY_ANNOTATIONS = 0x71;
const SECTION_MESSAGE_ANNOTATIONS = 0x72;

const usage = `usage: node peer.js [flags]
  --port N                 TCP port on 127.0.0.1, 0 picks a free one (env EHPEER_PORT, default 5672)
  --hub NAME[,NAME]        event hub names, repeatable (env EHPEER_HUBS, default opensky)
  --partitions N           partitions per hub (env EHPEER_PARTITIONS, default 4)
  --max-message-size N     bytes advertised on producer attaches (env EHPEER_MAX_MESSAGE_SIZE, default 1048576)
  --drop-after-sends N     close the connection abruptly when the Nth send arrives, once (default 0 = never)
  --busy-sends N           reject the first N sends with com.microsoft:server-busy (default 0)
  --stall-sends N          leave the first N sends unanswered, as a dead connection would (default 0)
  --idle-close-ms N        close a connection with amqp:connection:forced after N ms without traffic (default 0 = never)
  --exit-with-stdin        exit when standard input closes (the Go tests use it so no peer outlives them)
  --verbose                log links and faults to stderr`;

function parseArgs(argv, env) {
  const o = {
    port: Number(env.EHPEER_PORT || 5672),
    hubs: env.EHPEER_HUBS ? env.EHPEER_HUBS.split(',') : [],
    partitions: Number(env.EHPEER_PARTITIONS || 4),
    maxMessageSize: Number(env.EHPEER_MAX_MESSAGE_SIZE || 1048576),
    dropAfterSends: 0,
    busySends: 0,
    stallSends: 0,
    idleCloseMs: 0,
    verbose: false,
    exitWithStdin: false,
  };
  const numeric = {
    '--port': 'port', '--partitions': 'partitions', '--max-message-size': 'maxMessageSize',
    '--drop-after-sends': 'dropAfterSends', '--busy-sends': 'busySends', '--stall-sends': 'stallSends',
    '--idle-close-ms': 'idleCloseMs',
  };
  for (let i = 0; i < argv.length; i++) {
    let [flag, value] = argv[i].split(/=(.*)/s, 2);
    const next = () => (value !== undefined ? value : argv[++i]);
    if (flag === '--help' || flag === '-h') { console.log(usage); process.exit(0); }
    else if (flag === '--verbose') o.verbose = true;
    else if (flag === '--exit-with-stdin') o.exitWithStdin = true;
    else if (flag === '--hub') o.hubs.push(...String(next()).split(','));
    else if (numeric[flag]) {
      const n = Number(next());
      if (!Number.isInteger(n) || n < 0) fail(`${flag} wants a whole number >= 0`);
      o[numeric[flag]] = n;
    } else fail(`unknown flag ${flag}`);
  }
  o.hubs = o.hubs.map((h) => h.trim()).filter(Boolean);
  if (o.hubs.length === 0) o.hubs = ['opensky'];
  if (o.partitions < 1) fail('--partitions must be at least 1');
  if (o.maxMessageSize < 1) fail('--max-message-size must be at least 1');
  return o;
}

function fail(msg) {
  console.error(`ehpeer: ${msg}\n${usage}`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2), process.env);
const debug = (...a) => { if (opts.verbose) console.error('ehpeer:', ...a); };

// State: hubs -> partitions -> events. An event is stored as the bytes delivered to consumers.
const hubs = new Map();
for (const name of opts.hubs) {
  const partitions = [];
  for (let i = 0; i < opts.partitions; i++) {
    partitions.push({ id: String(i), events: [], nextOffset: 0, consumers: new Set() });
  }
  hubs.set(name, { name, created: new Date(), partitions, roundRobin: 0 });
}
const stats = {
  connections: 0, sends: 0, accepted: 0, rejectedBusy: 0, rejectedTooLarge: 0, rejectedRefused: 0, stalled: 0, drops: 0, forcedCloses: 0,
  producerLinks: 0,
  maxTransferBytes: 0,
};
const faults = {
  busy: opts.busySends, dropAt: opts.dropAfterSends, stall: opts.stallSends, idleCloseMs: opts.idleCloseMs,
  maxMessageSize: opts.maxMessageSize, refusePartition: -1,
};
const connections = new Set();

// parseAddress maps a link address to what it names.
function parseAddress(addr) {
  if (!addr) return { kind: 'none' };
  if (addr === '$cbs') return { kind: 'cbs' };
  if (addr === '$management' || addr.endsWith('/$management')) return { kind: 'management' };
  let m = /^([^/]+)\/ConsumerGroups\/([^/]+)\/Partitions\/([^/]+)$/i.exec(addr);
  if (m) return { kind: 'consumer', hub: m[1], group: m[2], partition: m[3] };
  m = /^([^/]+)(?:\/Partitions\/([^/]+))?$/i.exec(addr);
  if (m) return { kind: 'producer', hub: m[1], partition: m[2] };
  return { kind: 'unknown' };
}

function findPartition(hubName, id) {
  const hub = hubs.get(hubName);
  return hub && hub.partitions.find((p) => p.id === id);
}

// refuse answers an attach with no terminus and a detach carrying the error, as the service does.
function refuse(link, condition, description) {
  debug('refusing link', link.name, condition, description);
  link.local.attach.source = null;
  link.local.attach.target = null;
  link.close({ condition, description });
}

// sections splits an encoded AMQP message into its sections, keeping each one's bytes.
function sections(buf) {
  const reader = new types.Reader(buf);
  const out = [];
  while (reader.remaining()) {
    const start = reader.position;
    const typed = reader.read();
    out.push({ code: Number(typed.descriptor && typed.descriptor.value), typed, bytes: buf.subarray(start, reader.position) });
  }
  return out;
}

// annotate adds the broker's annotations to an encoded event, keeping every other byte as sent.
// Sections keep the order AMQP requires: header, delivery annotations, message annotations, rest.
function annotate(event, annotations) {
  const parts = sections(event);
  const head = parts.filter((p) => p.code === SECTION_HEADER || p.code === SECTION_DELIVERY_ANNOTATIONS);
  const own = parts.find((p) => p.code === SECTION_MESSAGE_ANNOTATIONS);
  const rest = parts.filter((p) => !head.includes(p) && p !== own);
  const items = existingPairs(own, annotations);
  for (const [k, v] of Object.entries(annotations)) items.push(types.wrap_symbol(k), v);
  const w = new types.Writer();
  w.write(types.described_nc(types.wrap_ulong(SECTION_MESSAGE_ANNOTATIONS), types.Map32(items)));
  return Buffer.concat([...head.map((p) => p.bytes), w.toBuffer(), ...rest.map((p) => p.bytes)]);
}

// existingPairs returns the key/value items of an event's own annotations that the broker does not set.
function existingPairs(section, annotations) {
  if (!section) return [];
  const all = section.typed.value;
  const out = [];
  for (let i = 0; i + 1 < all.length; i += 2) {
    if (!Object.hasOwn(annotations, String(all[i].value))) out.push(all[i], all[i + 1]);
  }
  return out;
}

function enqueue(partition, eventBytes) {
  const seq = partition.events.length;
  const offset = partition.nextOffset;
  const enqueued = Date.now();
  const delivered = annotate(eventBytes, {
    'x-opt-sequence-number': types.wrap_long(seq),
    'x-opt-offset': types.wrap_string(String(offset)),
    'x-opt-enqueued-time': types.wrap_timestamp(enqueued),
  });
  partition.nextOffset += eventBytes.length;
  partition.events.push({ seq, offset, enqueued, bytes: delivered });
}

// startIndex reads the SDK's selector filter: offset, sequence number or enqueued time, > or >=.
function startIndex(partition, source) {
  const expr = findSelector(source && source.filter);
  if (!expr) return partition.events.length;
  const m = /amqp\.annotation\.(x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time)\s*(>=|>)\s*'([^']*)'/i.exec(expr);
  if (!m) throw new Error(`unsupported selector ${expr}`);
  const [, field, op, raw] = m;
  if (raw === '@latest') return partition.events.length;
  const want = Number(raw);
  if (!Number.isFinite(want)) throw new Error(`selector value ${raw} is not a number`);
  const key = { 'x-opt-offset': 'offset', 'x-opt-sequence-number': 'seq', 'x-opt-enqueued-time': 'enqueued' }[field.toLowerCase()];
  const i = partition.events.findIndex((e) => (op === '>=' ? e[key] >= want : e[key] > want));
  return i < 0 ? partition.events.length : i;
}

function findSelector(v, depth = 0) {
  if (v == null || depth > 6) return undefined;
  if (typeof v === 'string') return v.includes('amqp.annotation.') ? v : undefined;
  if (typeof v !== 'object') return undefined;
  for (const k of Object.keys(v)) {
    const found = findSelector(v[k], depth + 1);
    if (found) return found;
  }
  return undefined;
}

function pump(consumer) {
  const { sender, partition } = consumer;
  while (consumer.next < partition.events.length && sender.sendable()) {
    sender.send(partition.events[consumer.next].bytes, undefined, 0);
    consumer.next++;
  }
}

function partitionForKey(hub, key) {
  if (key === undefined || key === null) return hub.partitions[hub.roundRobin++ % hub.partitions.length];
  let h = 0;
  for (const c of Buffer.from(String(key))) h = (h * 31 + c) >>> 0;
  return hub.partitions[h % hub.partitions.length];
}

// onSend handles one transfer on a producer link: faults first, then storage, then the outcome.
function onSend(context, target) {
  const { delivery, connection } = context;
  stats.sends++;
  const raw = context.format !== undefined ? context.message : message.encode(context.message);
  stats.maxTransferBytes = Math.max(stats.maxTransferBytes, raw.length);
  if (faults.dropAt > 0 && --faults.dropAt === 0) {
    stats.drops++;
    debug('dropping connection on send', stats.sends);
    connection.socket.destroy();
    return;
  }
  if (faults.stall > 0) {
    faults.stall--;
    stats.stalled++;
    debug('leaving send', stats.sends, 'unanswered');
    return;
  }
  if (faults.busy > 0) {
    faults.busy--;
    stats.rejectedBusy++;
    delivery.reject({ condition: 'com.microsoft:server-busy', description: 'ehpeer: server busy (fault injected)' });
    return;
  }
  if (target.partition !== undefined && target.partition === String(faults.refusePartition)) {
    stats.rejectedRefused++;
    delivery.reject({ condition: 'amqp:not-allowed', description: `ehpeer: partition ${target.partition} refuses sends (fault injected)` });
    return;
  }
  if (raw.length > context.receiver.local.attach.max_message_size) {
    stats.rejectedTooLarge++;
    delivery.reject({ condition: 'amqp:link:message-size-exceeded', description: `message of ${raw.length} bytes is over the limit` });
    return;
  }
  let events;
  let key;
  if (context.format === BATCH_FORMAT) {
    const env = message.decode(raw);
    key = env.message_annotations && env.message_annotations['x-opt-partition-key'];
    const body = env.body;
    events = !body ? [] : body.multiple ? body.content : [body.content];
  } else {
    key = context.message.message_annotations && context.message.message_annotations['x-opt-partition-key'];
    events = [raw];
  }
  const hub = hubs.get(target.hub);
  const partition = target.partition !== undefined ? findPartition(target.hub, target.partition) : partitionForKey(hub, key);
  for (const e of events) enqueue(partition, Buffer.from(e));
  stats.accepted += events.length;
  delivery.accept();
  for (const c of partition.consumers) pump(c);
}

function reply(context, status, description, body) {
  const req = context.message;
  const replyLinks = context.connection.replyLinks || new Map();
  const sender = replyLinks.get(req.reply_to);
  context.delivery.accept();
  if (!sender) { debug('no reply link for', req.reply_to); return; }
  const msg = {
    correlation_id: req.message_id,
    application_properties: { 'status-code': types.wrap_int(status), 'status-description': description },
  };
  if (body !== undefined) msg.body = body;
  sender.send(msg);
}

function onManagement(context) {
  const p = context.message.application_properties || {};
  if (p.operation !== 'READ') return reply(context, 400, `unsupported operation ${p.operation}`);
  const hub = hubs.get(p.name);
  if (!hub) return reply(context, 404, `event hub ${p.name} not found`);
  if (p.type === 'com.microsoft:eventhub') {
    return reply(context, 200, 'OK', types.wrap_map({
      name: types.wrap_string(hub.name),
      type: types.wrap_string('com.microsoft:eventhub'),
      created_at: types.wrap_timestamp(hub.created.getTime()),
      partition_count: types.wrap_int(hub.partitions.length),
      partition_ids: types.wrap_array(hub.partitions.map((x) => x.id), 0xa1),
      georeplication_factor: types.wrap_int(1),
    }));
  }
  if (p.type === 'com.microsoft:partition') {
    const part = findPartition(hub.name, String(p.partition));
    if (!part) return reply(context, 404, `partition ${p.partition} not found`);
    const last = part.events[part.events.length - 1];
    return reply(context, 200, 'OK', types.wrap_map({
      name: types.wrap_string(hub.name),
      type: types.wrap_string('com.microsoft:partition'),
      partition: types.wrap_string(part.id),
      begin_sequence_number: types.wrap_long(0),
      last_enqueued_sequence_number: types.wrap_long(last ? last.seq : -1),
      last_enqueued_offset: types.wrap_string(last ? String(last.offset) : '-1'),
      last_enqueued_time_utc: types.wrap_timestamp(last ? last.enqueued : 0),
      is_partition_empty: types.wrap_boolean(!last),
    }));
  }
  return reply(context, 400, `unsupported type ${p.type}`);
}

const container = rhea.create_container({ id: 'ehpeer', autoaccept: false });
container.sasl_server_mechanisms.enable_anonymous();

// A client's sender attaches: we receive on it (requests, or events from a producer).
container.on('receiver_open', (context) => {
  const { receiver } = context;
  const remote = receiver.remote.attach;
  const target = parseAddress(remote.target && remote.target.address);
  receiver.local.attach.snd_settle_mode = remote.snd_settle_mode;
  receiver.local.attach.rcv_settle_mode = remote.rcv_settle_mode;
  receiver.set_target({ address: remote.target && remote.target.address });
  if (remote.source) receiver.set_source({ address: remote.source.address });
  receiver.local.attach.max_message_size = faults.maxMessageSize;
  if (target.kind === 'producer') {
    if (!hubs.has(target.hub)) return refuse(receiver, 'amqp:not-found', `event hub ${target.hub} not found`);
    if (target.partition !== undefined && !findPartition(target.hub, target.partition)) {
      return refuse(receiver, 'com.microsoft:argument-out-of-range', `partition ${target.partition} not found`);
    }
    stats.producerLinks++;
  } else if (target.kind !== 'cbs' && target.kind !== 'management') {
    return refuse(receiver, 'amqp:not-found', `no node ${remote.target && remote.target.address}`);
  }
  receiver.ehTarget = target;
  debug('receiver attached', receiver.name, JSON.stringify(target));
});

container.on('message', (context) => {
  touch(context.connection);
  const target = context.receiver.ehTarget;
  if (!target) return;
  if (target.kind === 'cbs') return reply(context, 202, 'Accepted');
  if (target.kind === 'management') return onManagement(context);
  return onSend(context, target);
});

// A client's receiver attaches: we send on it (replies, or events to a consumer).
container.on('sender_open', (context) => {
  const { sender, connection } = context;
  const remote = sender.remote.attach;
  const source = parseAddress(remote.source && remote.source.address);
  sender.set_source({ address: remote.source && remote.source.address });
  if (remote.target) sender.set_target({ address: remote.target.address });
  if (source.kind === 'cbs' || source.kind === 'management') {
    sender.local.attach.snd_settle_mode = remote.snd_settle_mode;
    sender.local.attach.rcv_settle_mode = remote.rcv_settle_mode;
    if (!connection.replyLinks) connection.replyLinks = new Map();
    connection.replyLinks.set(remote.target && remote.target.address, sender);
    // @azure/event-hubs addresses its $cbs replies by the reply link's name, not its address.
    connection.replyLinks.set(sender.name, sender);
    return;
  }
  if (source.kind !== 'consumer') return refuse(sender, 'amqp:not-found', `no node ${remote.source && remote.source.address}`);
  const partition = findPartition(source.hub, source.partition);
  if (!partition) return refuse(sender, 'amqp:not-found', `no partition ${source.partition} in event hub ${source.hub}`);
  // Pre-settled: the SDK never settles what it receives, and would run out of credit otherwise.
  sender.local.attach.snd_settle_mode = 1;
  sender.local.attach.rcv_settle_mode = remote.rcv_settle_mode;
  let next;
  try {
    next = startIndex(partition, remote.source);
  } catch (err) {
    return refuse(sender, 'amqp:invalid-field', err.message);
  }
  const consumer = { sender, partition, next, connection };
  partition.consumers.add(consumer);
  sender.ehConsumer = consumer;
  debug('consumer attached', source.hub, source.partition, 'from index', next);
});

container.on('sendable', (context) => {
  touch(context.connection);
  if (context.sender.ehConsumer) pump(context.sender.ehConsumer);
});

function forget(context) {
  const c = context.sender && context.sender.ehConsumer;
  if (c) c.partition.consumers.delete(c);
}
container.on('sender_close', forget);
container.on('sender_error', forget);
container.on('receiver_error', () => {});
container.on('session_error', () => {});
container.on('connection_error', () => {});
container.on('error', (err) => debug('error:', err && err.message));

container.on('connection_open', (context) => {
  stats.connections++;
  connections.add(context.connection);
  touch(context.connection);
});

container.on('disconnected', (context) => {
  const conn = context.connection;
  connections.delete(conn);
  if (conn.idleTimer) clearTimeout(conn.idleTimer);
  for (const hub of hubs.values()) {
    for (const p of hub.partitions) for (const c of p.consumers) if (c.connection === conn) p.consumers.delete(c);
  }
});

// touch restarts a connection's idle timer, as the service closes connections nobody uses.
function touch(conn) {
  if (conn.idleTimer) clearTimeout(conn.idleTimer);
  if (faults.idleCloseMs <= 0) return;
  conn.idleTimer = setTimeout(() => forceClose(conn, 'idle connection closed'), faults.idleCloseMs);
  conn.idleTimer.unref();
}

// forceClose ends a connection the way the service does when it is idle or being moved.
function forceClose(conn, why) {
  stats.forcedCloses++;
  debug('closing connection:', why);
  connections.delete(conn);
  conn.close({ condition: 'amqp:connection:forced', description: `ehpeer: ${why}` });
}

function snapshot() {
  const out = { ...stats, hubs: {} };
  for (const hub of hubs.values()) {
    out.hubs[hub.name] = Object.fromEntries(hub.partitions.map((p) => [p.id, p.events.length]));
  }
  return out;
}

const controls = {
  stats: () => `stats ${JSON.stringify(snapshot())}`,
  busy: (n) => { faults.busy = n; },
  drop: (n) => { faults.dropAt = n; },
  stall: (n) => { faults.stall = n; },
  'close-all': () => { for (const c of [...connections]) forceClose(c, 'closed by control'); },
  'idle-close': (n) => { faults.idleCloseMs = n; },
  'max-size': (n) => { faults.maxMessageSize = n; },
  'refuse-partition': (n) => { faults.refusePartition = n; },
};

const control = readline.createInterface({ input: process.stdin });
control.on('close', () => { if (opts.exitWithStdin) process.exit(0); });
control.on('line', (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (!cmd) return;
  const fn = controls[cmd];
  const n = Number(arg || 0);
  if (!fn || !Number.isInteger(n) || n < 0) { console.log(`error unknown control ${JSON.stringify(line)}`); return; }
  console.log(fn(n) || `ok ${cmd} ${n}`);
});
process.on('SIGUSR2', () => console.log(controls.stats()));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

// TCP_NODELAY, as the service has: without it every request/reply waits ~40 ms for a delayed ACK.
const server = container.listen({ host: '127.0.0.1', port: opts.port, tcp_no_delay: true });
server.on('listening', () => {
  console.log(`listening on 127.0.0.1:${server.address().port}`);
  debug(`hubs ${opts.hubs.join(',')}, ${opts.partitions} partitions, max message size ${opts.maxMessageSize}`);
});
server.on('error', (err) => {
  console.error(`ehpeer: ${err.message}`);
  process.exit(1);
});
