// The outbound connector end to end over real sockets: the official client
// writes to aerospike-dev, which ships each change (as XDR does) to
// `aerokafka outbound`, which publishes it to kafka-dev; kcat reads it back.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const Aerospike = require('aerospike');
const { aerospikeDev, kafkaDev, freePort, outbound, consume } = require('./lib/stack');

const sendKey = { key: Aerospike.policy.key.SEND };

function config({ port, managePort, bootstrap, protocol = 'TCP' }) {
  return `# the spec's example shape, with every override level
service:
  port: ${port}
  protocol: ${protocol}
  manage:
    port: ${managePort}
producer-props:
  bootstrap.servers:
    - ${bootstrap}
  linger.ms: 1
format:
  mode: flat-json
  metadata-key: metadata
routing:
  mode: static
  destination: flat
namespaces:
  test:
    sets:
      typed:
        format:
          mode: json
        routing:
          mode: static
          destination: typed
        bin-transforms:
          map:
            old: renamed
          exclude:
            type: specified
            bins: [secret]
      packed:
        format:
          mode: message-pack
        routing:
          mode: set
      skipped:
        routing:
          mode: skip
logging:
  enable-console-logging: true
`;
}

async function stack(t, { protocol = 'TCP', xdrProtocol = 'tcp' } = {}) {
  const kafka = await kafkaDev();
  const port = await freePort();
  const managePort = await freePort();
  const ob = await outbound(config({ port, managePort, bootstrap: kafka.bootstrap, protocol }), managePort);
  const dev = await aerospikeDev(['--xdr', `127.0.0.1:${port}`, '--xdr-protocol', xdrProtocol]);
  const client = await Aerospike.connect({ hosts: dev.hosts, log: { level: Aerospike.log.OFF } });
  t.after(async () => {
    await client.close();
    await dev.proc.stop();
    await ob.proc.stop();
    await kafka.proc.stop();
  });
  return { kafka, ob, dev, client, port, managePort };
}

async function metrics(managePort) {
  return (await fetch(`http://127.0.0.1:${managePort}/manage/rest/v1/metrics`)).json();
}

// The management API adds up every pipeline's counters; the other
// pipelines publish theirs every 200 ms, so wait for the expected state.
async function metricsWhen(managePort, ok, ms = 5000) {
  const deadline = Date.now() + ms;
  let m;
  do {
    m = await metrics(managePort);
    if (ok(m)) return m;
    await new Promise((r) => setTimeout(r, 50));
  } while (Date.now() < deadline);
  return m;
}

test('flat-json: writes, updates, touches and deletes reach Kafka keyed by digest', async (t) => {
  const { kafka, client, managePort } = await stack(t);
  const key = new Aerospike.Key('test', 'demo', 'user-1');
  const before = Date.now();
  await client.put(key, { i: 7, d: 2.5, s: 'text', b: Buffer.from([1, 2, 255]), l: [1, 'x'], m: { k: 'v' } },
    { ttl: 3600 }, sendKey);
  await client.put(key, { i: 8 }, {}, sendKey);
  await client.operate(key, [Aerospike.operations.touch(100)]);
  await client.remove(key, sendKey);
  const msgs = await consume(kafka.bootstrap, 'flat', 4);
  const digest = key.digest.toString('base64');
  for (const m of msgs) assert.deepEqual(m.key, key.digest, 'the Kafka key is the digest');
  const [write, update, touch, del] = msgs.map((m) => JSON.parse(m.value.toString()));
  assert.deepEqual(Object.keys(write.metadata), ['namespace', 'set', 'userKey', 'digest', 'msg', 'gen', 'lut', 'exp']);
  assert.equal(write.metadata.namespace, 'test');
  assert.equal(write.metadata.set, 'demo');
  assert.equal(write.metadata.userKey, 'user-1');
  assert.equal(write.metadata.digest, digest);
  assert.equal(write.metadata.msg, 'write');
  assert.equal(write.metadata.gen, 1);
  assert.ok(write.metadata.lut >= before - 1000 && write.metadata.lut <= Date.now(), `lut ${write.metadata.lut}`);
  const expNow = Math.floor(Date.now() / 1000) + 3600;
  assert.ok(Math.abs(write.metadata.exp - expNow) <= 5, `exp ${write.metadata.exp}`);
  assert.deepEqual({ ...write, metadata: undefined },
    { metadata: undefined, i: 7, d: 2.5, s: 'text', b: Buffer.from([1, 2, 255]).toString('base64'), l: [1, 'x'], m: { k: 'v' } });
  assert.equal(update.metadata.gen, 2);
  assert.equal(update.i, 8);
  assert.equal(touch.metadata.gen, 3);
  assert.equal(del.metadata.msg, 'delete');
  assert.equal(del.metadata.digest, digest);
  assert.equal(del.metadata.set, 'demo');
  assert.equal(del.metadata.userKey, 'user-1');
  assert.equal(Object.keys(del).length, 1, 'a delete carries no bins');
  const m = await metricsWhen(managePort, (x) => x['requests-success'] >= 4);
  assert.equal(m['requests-success'], 4);
  assert.equal(m['requests-queued'], 0);
});

test('set overrides: typed json with bin-transforms, message-pack routed by set, skip', async (t) => {
  const { kafka, client, managePort } = await stack(t);
  await client.put(new Aerospike.Key('test', 'typed', 1), { old: 'o', keep: 5, secret: 'x' });
  await client.put(new Aerospike.Key('test', 'packed', 2), { v: 1 });
  await client.put(new Aerospike.Key('test', 'skipped', 3), { v: 1 });
  const [typed] = await consume(kafka.bootstrap, 'typed', 1);
  const json = JSON.parse(typed.value.toString());
  assert.equal(json.msg, 'write');
  assert.equal(json.key[0], 'test');
  assert.equal(json.key[1], 'typed');
  assert.equal(json.gen, 1);
  const bins = Object.fromEntries(json.bins.map((b) => [b.name, [b.type, b.value]]));
  assert.deepEqual(bins, { renamed: ['str', 'o'], keep: ['int', 5] });
  const [packed] = await consume(kafka.bootstrap, 'packed', 1);
  assert.deepEqual([...packed.value.slice(0, 3)], [0x93, 0x01, 0x01], 'msgpack [1, write, ...]');
  await new Promise((r) => setTimeout(r, 300));
  const m = await metricsWhen(managePort, (x) => x['requests-skipped'] >= 1 && x['requests-success'] >= 2);
  assert.equal(m['requests-skipped'], 1);
  assert.equal(m['requests-success'], 2);
});

for (const xdrProtocol of ['http1', 'http2']) {
  test(`legacy HTTP receiver (${xdrProtocol}) answers 200 only after Kafka has the record`, async (t) => {
    const { kafka, client, port } = await stack(t, { protocol: 'HTTP_1_1', xdrProtocol });
    const key = new Aerospike.Key('test', 'demo', 'h');
    await client.put(key, { v: 'over http' }, {}, sendKey);
    await client.remove(key, sendKey);
    const [write, del] = (await consume(kafka.bootstrap, 'flat', 2)).map((m) => JSON.parse(m.value.toString()));
    assert.equal(write.v, 'over http');
    assert.equal(del.metadata.msg, 'delete');
    const stats = await client.infoAny('dev-stats');
    assert.match(stats, /xdr-acknowledged=2/);

    // An HTTP connector also serves the management API on its service port
    // (every pipeline's counters, whichever pipeline takes the request);
    // any other GET is XDR's health check.
    // (a pipeline that has not yet heard from Kafka says 503 for up to a
    // second after the start: each answers from its own producer)
    let health;
    for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
      health = await fetch(`http://127.0.0.1:${port}/manage/rest/v1`);
      if (health.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(health.status, 200);
    assert.equal((await health.json()).kafka, 'reachable');
    let m;
    for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
      m = await (await fetch(`http://127.0.0.1:${port}/manage/rest/v1/metrics`)).json();
      if (m['requests-success'] >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(m['requests-success'] >= 2, JSON.stringify(m));
    const prom = await (await fetch(`http://127.0.0.1:${port}/manage/rest/v1/prometheus`)).text();
    assert.match(prom, /aerospike_kafka_outbound_requests\{status="success"/);
    const check = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(check.status, 200);
    assert.equal(await check.text(), 'ok');
  });
}

function rawExchange(port, bytes, replyBytes, ms = 3000) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(bytes));
    let got = Buffer.alloc(0);
    const done = (closed) => { clearTimeout(timer); sock.destroy(); resolve({ got, closed }); };
    const timer = setTimeout(() => done(false), ms);
    sock.on('data', (d) => { got = Buffer.concat([got, d]); if (got.length >= replyBytes) done(false); });
    sock.on('close', () => done(true));
    sock.on('error', () => {});
  });
}

test('malformed input: abandon-class answer or a clean close, and the connector keeps serving', async (t) => {
  const { kafka, client, port, managePort } = await stack(t);
  // A well-framed message whose body is garbage: answered with PARAMETER (4).
  const bad = Buffer.concat([Buffer.from('0203000000000004', 'hex'), Buffer.from('deadbeef', 'hex')]);
  const r1 = await rawExchange(port, bad, 30);
  assert.equal(r1.got.length, 30);
  assert.equal(r1.got[8 + 5], 4, 'result code PARAMETER');
  // A bad proto header: the connection is closed.
  const r2 = await rawExchange(port, Buffer.from('0903000000000000', 'hex'), 1);
  assert.equal(r2.closed, true);
  assert.equal(r2.got.length, 0);
  // Meanwhile XDR traffic is still published.
  await client.put(new Aerospike.Key('test', 'demo', 'after'), { v: 1 });
  const [msg] = await consume(kafka.bootstrap, 'flat', 1);
  assert.equal(JSON.parse(msg.value.toString()).v, 1);
  const m = await metricsWhen(managePort, (x) => x['requests-parse-error'] >= 2);
  assert.ok(m['requests-parse-error'] >= 2);
});

test('management API: health, metrics and Prometheus', async (t) => {
  const { client, managePort } = await stack(t);
  await client.put(new Aerospike.Key('test', 'demo', 'm'), { v: 1 });
  const deadline = Date.now() + 10000;
  let health;
  while (Date.now() < deadline) {
    health = await fetch(`http://127.0.0.1:${managePort}/manage/rest/v1`);
    if (health.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(health.status, 200);
  await metricsWhen(managePort, (x) => x['requests-success'] >= 1);
  const prom = await (await fetch(`http://127.0.0.1:${managePort}/manage/rest/v1/prometheus`)).text();
  assert.match(prom, /aerospike_kafka_outbound_requests\{status="success",cluster_name="[^"]+"\} 1/);
  assert.match(prom, /aerospike_kafka_outbound_connections\{status="active"/);
  const m = await metrics(managePort);
  assert.equal(m['connections-active'], 1);
  assert.ok(m['ack-latency-us'].count >= 1);
});

test('a connection with more notifications in flight than it has reply slots is answered in full', async (t) => {
  const { kafka, port } = await stack(t);
  // 5000 pipelined writes (the per-connection reply ring holds 4096): the
  // connection must stop reading, drain, resume on frames it already read,
  // and answer every one, in order.
  const n = 5000;
  const frames = [];
  for (let i = 0; i < n; i++) {
    const digest = Buffer.alloc(20);
    digest.writeUInt32BE(i, 0);
    const field = (type, data) => Buffer.concat([Buffer.from([0, 0, 0, 0]), Buffer.from([type]), data]);
    const fields = [field(0, Buffer.from('test')), field(1, Buffer.from('many')), field(4, digest)];
    for (const f of fields) f.writeUInt32BE(f.length - 4, 0);
    const op = Buffer.concat([Buffer.from([0, 0, 0, 0, 2, 1, 0, 1]), Buffer.from('v'), Buffer.alloc(8)]);
    op.writeUInt32BE(op.length - 4, 0);
    op.writeBigInt64BE(BigInt(i), op.length - 8);
    const header = Buffer.from([22, 0x10, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 1]);
    const body = Buffer.concat([header, ...fields, op]);
    const proto = Buffer.alloc(8);
    proto.writeBigUInt64BE((2n << 56n) | (3n << 48n) | BigInt(body.length));
    frames.push(proto, body);
  }
  const r = await rawExchange(port, Buffer.concat(frames), 30 * n, 30000);
  assert.equal(r.got.length, 30 * n, `replies for ${r.got.length / 30} of ${n}`);
  for (let i = 0; i < n; i++) assert.equal(r.got[30 * i + 13], 0, `reply ${i} code`);
  const msgs = await consume(kafka.bootstrap, 'flat', n, 30000);
  assert.equal(msgs.length, n);
});
