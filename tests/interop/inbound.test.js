// The inbound connector end to end over real sockets: kcat produces to
// kafka-dev, `aerokafka inbound` consumes and writes to aerospike-dev, and
// the official Aerospike client reads the result back.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const Aerospike = require('aerospike');
const { aerospikeDev, kafkaDev, freePort, inbound, produce, consumeWithHeaders } = require('./lib/stack');
const { schemaRegistry } = require('./lib/registry');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function metrics(managePort) {
  return (await fetch(`http://127.0.0.1:${managePort}/manage/rest/v1/metrics`)).json();
}

async function metricsWhen(managePort, ok, what, ms = 30000) {
  const deadline = Date.now() + ms;
  let m;
  for (;;) {
    try { m = await metrics(managePort); } catch (e) { m = { error: String(e) }; }
    if (ok(m)) return m;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(m)}`);
    await sleep(50);
  }
}

function seedsYaml(hosts) {
  return hosts.map((h) => `    - ${h.addr}:\n        port: ${h.port}`).join('\n');
}

async function get(client, key) {
  try {
    return await client.get(key);
  } catch (e) {
    if (e.code === Aerospike.status.ERR_RECORD_NOT_FOUND) return null;
    throw e;
  }
}

test('JSON values land with their types; a tombstone deletes; an invalid record goes to the dead-letter topic with context headers', async (t) => {
  const kafka = await kafkaDev(['--topic', 'users:4', '--topic', 'users-dlq:1']);
  const dev = await aerospikeDev();
  const managePort = await freePort();
  const ib = await inbound(`consumer-props:
  bootstrap.servers: ${kafka.bootstrap}
  group.id: e2e-users
  auto.offset.reset: earliest
aerospike:
  seeds:
${seedsYaml(dev.hosts)}
service:
  manage:
    port: ${managePort}
topics:
  users:
    invalid-record: ignore
    errors.deadletterqueue.topic.name: users-dlq
    errors.deadletterqueue.context.headers.enable: true
    key-format: {mode: string}
    on-tombstone: delete
    mapping:
      namespace: {mode: static, value: test}
      set: {mode: static, value: users}
      key-field: {source: key}
      ttl: {mode: static, value: 1D}
      bins:
        type: multi-bins
        all-value-fields: true
    aerospike-operation:
      send-key: true
`, managePort);
  const client = await Aerospike.connect({ hosts: dev.hosts, log: { level: Aerospike.log.OFF } });
  t.after(async () => {
    await client.close();
    await ib.proc.stop();
    await dev.proc.stop();
    await kafka.proc.stop();
  });

  const records = [];
  for (let i = 1; i <= 50; i++) {
    records.push({
      key: `user-${i}`,
      value: JSON.stringify({ name: `n${i}`, age: i, score: i + 0.5, active: i % 2 === 0, tags: ['a', `t${i}`],
        address: { city: 'Paris', zip: 75000 + i } }),
    });
  }
  records.push({ key: 'bad-1', value: '{not json' });
  records.push({ key: 'user-2', value: null }); // tombstone after user-2's write (same key, same partition)
  await produce(kafka.bootstrap, 'users', records);

  const m = await metricsWhen(managePort, (x) => x['records-written'] === 50 && x['records-deleted'] === 1 &&
    x['records-dead-lettered'] === 1, '50 writes, 1 delete, 1 dead letter');
  assert.equal(m['records-consumed'], 52);
  assert.equal(m['records-in-flight'], 0);

  const rec = await get(client, new Aerospike.Key('test', 'users', 'user-7'));
  assert.deepEqual(rec.bins, { name: 'n7', age: 7, score: 7.5, active: false, tags: ['a', 't7'],
    address: { city: 'Paris', zip: 75007 } });
  assert.ok(rec.ttl > 86000 && rec.ttl <= 86400, `ttl ${rec.ttl}`);
  assert.equal((await get(client, new Aerospike.Key('test', 'users', 'user-8'))).bins.active, true);
  assert.equal(await get(client, new Aerospike.Key('test', 'users', 'user-2')), null, 'the tombstone deleted user-2');
  assert.equal(await get(client, new Aerospike.Key('test', 'users', 'bad-1')), null);

  const [dead] = await consumeWithHeaders(kafka.bootstrap, 'users-dlq', 1);
  assert.equal(dead.key, 'bad-1');
  assert.equal(dead.value, '{not json');
  assert.equal(dead.headers['__connect.errors.topic'], 'users');
  assert.match(dead.headers['__connect.errors.partition'], /^[0-3]$/);
  assert.match(dead.headers['__connect.errors.offset'], /^\d+$/);
  assert.match(dead.headers['__connect.errors.exception.message'], /json/);
});

test('Connect JSON envelopes: integer keys from a field, the set and TTL from fields; a refused write is an invalid record', async (t) => {
  const kafka = await kafkaDev(['--topic', 'products:2']);
  const dev = await aerospikeDev();
  const managePort = await freePort();
  const ib = await inbound(`consumer-props:
  bootstrap.servers: ${kafka.bootstrap}
  group.id: e2e-products
  auto.offset.reset: earliest
aerospike:
  seeds:
${seedsYaml(dev.hosts)}
service:
  manage:
    port: ${managePort}
topics:
  products:
    invalid-record: ignore
    value-format: {mode: connect-json}
    mapping:
      namespace: {mode: static, value: test}
      set: {mode: dynamic, source: value-field, field-name: brand}
      key-field: {source: value-field, field-name: sku}
      ttl: {mode: dynamic, source: value-field, field-name: ttl}
      bins:
        type: multi-bins
        map:
          name: {source: value-field, field-name: prod_name}
          price: {source: value-field, field-name: prod_price}
    aerospike-operation:
      record-exists-action: create-only
`, managePort);
  const client = await Aerospike.connect({ hosts: dev.hosts, log: { level: Aerospike.log.OFF } });
  t.after(async () => {
    await client.close();
    await ib.proc.stop();
    await dev.proc.stop();
    await kafka.proc.stop();
  });
  const schema = {
    type: 'struct', optional: false,
    fields: [
      { field: 'sku', type: 'int64' }, { field: 'brand', type: 'string' }, { field: 'ttl', type: 'int32' },
      { field: 'prod_name', type: 'string' }, { field: 'prod_price', type: 'double' },
    ],
  };
  const envelope = (payload) => JSON.stringify({ schema, payload });
  await produce(kafka.bootstrap, 'products', [
    { key: 'a', value: envelope({ sku: 42, brand: 'acme', ttl: 3600, prod_name: 'anvil', prod_price: 9.5 }) },
    { key: 'b', value: envelope({ sku: 43, brand: 'zeta', ttl: 7200, prod_name: 'zip', prod_price: 1.0 }) },
    // create-only: the second write of sku 42 is refused (RECORD_EXISTS), an invalid record
    { key: 'a', value: envelope({ sku: 42, brand: 'acme', ttl: 3600, prod_name: 'again', prod_price: 1.5 }) },
  ]);
  const m = await metricsWhen(managePort, (x) => x['records-written'] === 2 && x['records-failed'] === 1,
    '2 writes and 1 refused');
  assert.equal(m['records-ignored'], 1);
  const anvil = await get(client, new Aerospike.Key('test', 'acme', 42));
  assert.deepEqual(anvil.bins, { name: 'anvil', price: 9.5 });
  assert.ok(anvil.ttl > 3500 && anvil.ttl <= 3600, `ttl ${anvil.ttl}`);
  assert.equal(await get(client, new Aerospike.Key('test', 'acme', '42')), null, '"42" is another key than 42');
  assert.deepEqual((await get(client, new Aerospike.Key('test', 'zeta', 43))).bins, { name: 'zip', price: 1.0 });
  assert.match(ib.proc.stderr, /RECORD_EXISTS|KEY_EXISTS|5 /);
  // health follows Aerospike: 200 while a node answers, 503 once none does
  assert.equal((await fetch(`http://127.0.0.1:${managePort}/manage/rest/v1`)).status, 200);
  await dev.proc.stop();
  const deadline = Date.now() + 15000;
  let status;
  while ((status = (await fetch(`http://127.0.0.1:${managePort}/manage/rest/v1`)).status) !== 503) {
    if (Date.now() > deadline) throw new Error(`health still ${status} with Aerospike stopped`);
    await sleep(100);
  }
});

test('per-key order, faults mid-stream (a node stopped, KEY_BUSY and TIMEOUT injected, the connector killed and restarted): the last value per key wins, nothing lost', async (t) => {
  const kafka = await kafkaDev(['--topic', 'events:4']);
  const dev = await aerospikeDev(['--nodes', '3']);
  const managePort = await freePort();
  const yaml = `max-queued-records: 300
processing-threads: 2
consumer-props:
  bootstrap.servers: ${kafka.bootstrap}
  group.id: e2e-events
  auto.offset.reset: earliest
  # a killed member is noticed after this long (not librdkafka's 45 s)
  session.timeout.ms: 6000
  heartbeat.interval.ms: 500
aerospike:
  seeds:
${seedsYaml(dev.hosts.slice(0, 1))}
service:
  manage:
    port: ${managePort}
errors.retry.delay.max.ms: 200
topics:
  events:
    invalid-record: kill-task
    key-format: {mode: string}
    mapping:
      namespace: {mode: static, value: test}
      set: {mode: static, value: events}
      key-field: {source: key}
      bins:
        type: multi-bins
        all-value-fields: true
    aerospike-operation:
      max-retries: 1
      socket-timeout: 200
`;
  let ib = await inbound(yaml, managePort);
  const client = await Aerospike.connect({ hosts: dev.hosts, log: { level: Aerospike.log.OFF } });
  t.after(async () => {
    await client.close();
    await ib.proc.stop();
    await dev.proc.stop();
    await kafka.proc.stop();
  });
  const KEYS = 40;
  const VERSIONS = 150;
  const batch = (from, to) => {
    const out = [];
    for (let v = from; v < to; v++) {
      for (let k = 0; k < KEYS; k++) out.push({ key: `key-${k}`, value: JSON.stringify({ k: `key-${k}`, v }) });
    }
    return out;
  };
  await produce(kafka.bootstrap, 'events', batch(0, 50));
  await metricsWhen(managePort, (x) => x['records-written'] > 500, 'some progress');

  // faults while records flow
  await client.infoAny('dev-fault:code=14;ratio=0.3');
  await produce(kafka.bootstrap, 'events', batch(50, 100));
  await client.infoAny('dev-fault:clear');
  await client.infoAny('dev-fault:code=9;ratio=0.2');
  await client.infoAny('dev-node-stop:node=2');
  await metricsWhen(managePort, (x) => x['records-retried'] > 0, 'retries');
  // killed mid-stream: what was not committed is read again by the next start
  ib.proc.child.kill('SIGKILL');
  await ib.proc.exit;
  await client.infoAny('dev-fault:clear');
  await produce(kafka.bootstrap, 'events', batch(100, VERSIONS));
  ib = await inbound(yaml, managePort, ib.dir);
  await client.infoAny('dev-node-start:node=2');
  await metricsWhen(managePort, (x) => x['consumer-lag'] === 0 && x['records-in-flight'] === 0 &&
    x['records-consumed'] > 0, 'the whole topic consumed', 60000);

  for (let k = 0; k < KEYS; k++) {
    const rec = await get(client, new Aerospike.Key('test', 'events', `key-${k}`));
    assert.ok(rec, `key-${k} was written`);
    assert.equal(rec.bins.v, VERSIONS - 1, `key-${k} holds the last version`);
  }
  const m = await metrics(managePort);
  assert.equal(m['records-failed'], 0);
  assert.equal(m['records-ignored'], 0);
});

test('two processes in one consumer group share the partitions and together write every record', async (t) => {
  const kafka = await kafkaDev(['--topic', 'shared:4']);
  const dev = await aerospikeDev();
  const ports = [await freePort(), await freePort()];
  const yaml = (managePort) => `consumer-props:
  bootstrap.servers: ${kafka.bootstrap}
  group.id: e2e-shared
  auto.offset.reset: earliest
aerospike:
  seeds:
${seedsYaml(dev.hosts)}
service:
  manage:
    port: ${managePort}
topics:
  shared:
    invalid-record: ignore
    key-format: {mode: string}
    mapping:
      namespace: {mode: static, value: test}
      set: {mode: static, value: shared}
      key-field: {source: key}
      bins: {type: multi-bins, all-value-fields: true}
`;
  const first = await inbound(yaml(ports[0]), ports[0]);
  const second = await inbound(yaml(ports[1]), ports[1]);
  const client = await Aerospike.connect({ hosts: dev.hosts, log: { level: Aerospike.log.OFF } });
  t.after(async () => {
    await client.close();
    await first.proc.stop();
    await second.proc.stop();
    await dev.proc.stop();
    await kafka.proc.stop();
  });
  // both members hold partitions before the records come
  await metricsWhen(ports[0], (x) => x['partitions-assigned'] > 0 && x['partitions-assigned'] < 4, 'a share');
  await metricsWhen(ports[1], (x) => x['partitions-assigned'] > 0 && x['partitions-assigned'] < 4, 'a share');
  const records = [];
  for (let i = 0; i < 2000; i++) records.push({ key: `r${i}`, value: JSON.stringify({ i }) });
  await produce(kafka.bootstrap, 'shared', records);
  const deadline = Date.now() + 30000;
  let a;
  let b;
  for (;;) {
    a = await metrics(ports[0]);
    b = await metrics(ports[1]);
    if (a['records-written'] + b['records-written'] >= 2000) break;
    if (Date.now() > deadline) throw new Error(`not all written: ${JSON.stringify([a, b])}`);
    await sleep(50);
  }
  assert.ok(a['records-written'] > 0 && b['records-written'] > 0, 'both members wrote');
  assert.equal(a['partitions-assigned'] + b['partitions-assigned'], 4);
  const keys = records.map((r) => ({ key: new Aerospike.Key('test', 'shared', r.key), readAllBins: true }));
  const results = await client.batchRead(keys);
  assert.equal(results.filter((r) => r.status === Aerospike.status.OK).length, 2000);
});

test('authentication: the password comes from a file; without the right one nothing is written and health says so', async (t) => {
  const kafka = await kafkaDev(['--topic', 'secure:1']);
  const dev = await aerospikeDev(['--user', 'writer:s3cret']);
  const good = await freePort();
  const bad = await freePort();
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'ak-inbound-auth-'));
  fs.writeFileSync(path.join(dir, 'good.txt'), 's3cret\n');
  fs.writeFileSync(path.join(dir, 'bad.txt'), 'wrong\n');
  const yaml = (managePort, file) => `consumer-props:
  bootstrap.servers: ${kafka.bootstrap}
  group.id: e2e-secure-${managePort}
  auto.offset.reset: earliest
aerospike:
  seeds:
${seedsYaml(dev.hosts)}
  credentials:
    username: writer
    password-file: ${file}
service:
  manage:
    port: ${managePort}
topics:
  secure:
    invalid-record: ignore
    key-format: {mode: string}
    mapping:
      namespace: {mode: static, value: test}
      set: {mode: static, value: secure}
      key-field: {source: key}
      bins: {type: multi-bins, all-value-fields: true}
`;
  // password-file resolves against the configuration file's directory
  const goodDir = fs.mkdtempSync(path.join(dir, 'a-'));
  fs.copyFileSync(path.join(dir, 'good.txt'), path.join(goodDir, 'good.txt'));
  const wrongDir = fs.mkdtempSync(path.join(dir, 'b-'));
  fs.copyFileSync(path.join(dir, 'bad.txt'), path.join(wrongDir, 'bad.txt'));
  const ok = await inbound(yaml(good, 'good.txt'), good, goodDir);
  const wrong = await inbound(yaml(bad, 'bad.txt'), bad, wrongDir);
  const client = await Aerospike.connect({ hosts: dev.hosts, user: 'writer', password: 's3cret',
    log: { level: Aerospike.log.OFF } });
  t.after(async () => {
    await client.close();
    await ok.proc.stop();
    await wrong.proc.stop();
    await dev.proc.stop();
    await kafka.proc.stop();
  });
  await produce(kafka.bootstrap, 'secure', [{ key: 'k1', value: '{"a":1}' }]);
  await metricsWhen(good, (x) => x['records-written'] === 1, 'the write with the right password');
  assert.deepEqual((await get(client, new Aerospike.Key('test', 'secure', 'k1'))).bins, { a: 1 });
  const health = await fetch(`http://127.0.0.1:${bad}/manage/rest/v1`);
  assert.equal(health.status, 503);
  const m = await metrics(bad);
  assert.equal(m['records-written'], 0);
});

test('kill-task stops the connector at an invalid record without committing it; the next start meets it again', async (t) => {
  const kafka = await kafkaDev(['--topic', 'strict:1']);
  const dev = await aerospikeDev();
  const managePort = await freePort();
  const yaml = `consumer-props:
  bootstrap.servers: ${kafka.bootstrap}
  group.id: e2e-strict
  auto.offset.reset: earliest
aerospike:
  seeds:
${seedsYaml(dev.hosts)}
service:
  manage:
    port: ${managePort}
topics:
  strict:
    invalid-record: kill-task
    key-format: {mode: string}
    mapping:
      namespace: {mode: static, value: test}
      set: {mode: static, value: strict}
      key-field: {source: key}
      bins: {type: multi-bins, all-value-fields: true}
`;
  let ib = await inbound(yaml, managePort);
  const client = await Aerospike.connect({ hosts: dev.hosts, log: { level: Aerospike.log.OFF } });
  t.after(async () => {
    await client.close();
    await ib.proc.stop();
    await dev.proc.stop();
    await kafka.proc.stop();
  });
  await produce(kafka.bootstrap, 'strict', [
    { key: 'a', value: '{"n":1}' }, { key: 'b', value: 'not json' }, { key: 'c', value: '{"n":3}' },
  ]);
  const exit = await ib.proc.exit;
  assert.equal(exit.code, 1);
  assert.match(ib.proc.stderr, /offset 1: .*invalid-record: kill-task/);
  assert.deepEqual((await get(client, new Aerospike.Key('test', 'strict', 'a'))).bins, { n: 1 });
  assert.equal(await get(client, new Aerospike.Key('test', 'strict', 'c')), null, 'nothing after the bad record');
  // offset 1 was not committed: a restart stops at the same record
  ib = await inbound(yaml, managePort, ib.dir);
  const again = await ib.proc.exit;
  assert.equal(again.code, 1);
  assert.match(ib.proc.stderr, /offset 1: /);
});

test('errors.retry.timeout: with Aerospike unreachable, records are retried (never dead-lettered) until the timeout, then the connector stops', async (t) => {
  const kafka = await kafkaDev(['--topic', 'outage:1', '--topic', 'outage-dlq:1']);
  const dev = await aerospikeDev();
  const managePort = await freePort();
  const ib = await inbound(`consumer-props:
  bootstrap.servers: ${kafka.bootstrap}
  group.id: e2e-outage
  auto.offset.reset: earliest
aerospike:
  seeds:
${seedsYaml(dev.hosts)}
service:
  manage:
    port: ${managePort}
errors.retry.timeout: 3000
errors.retry.delay.max.ms: 200
topics:
  outage:
    invalid-record: ignore
    errors.deadletterqueue.topic.name: outage-dlq
    key-format: {mode: string}
    mapping:
      namespace: {mode: static, value: test}
      set: {mode: static, value: outage}
      key-field: {source: key}
      bins: {type: multi-bins, all-value-fields: true}
    aerospike-operation:
      max-retries: 0
      total-timeout: 200
`, managePort);
  const client = await Aerospike.connect({ hosts: dev.hosts, log: { level: Aerospike.log.OFF } });
  t.after(async () => {
    await client.close();
    await ib.proc.stop();
    await dev.proc.stop();
    await kafka.proc.stop();
  });
  await metricsWhen(managePort, (x) => x['aerospike-ready'] === true, 'the cluster');
  await client.infoAny('dev-fault:code=14;ratio=1'); // every write answers KEY_BUSY
  await produce(kafka.bootstrap, 'outage', [{ key: 'k', value: '{"v":1}' }]);
  const m = await metricsWhen(managePort, (x) => x['records-retried'] >= 3, 'retries');
  assert.equal(m['records-dead-lettered'], 0);
  const exit = await ib.proc.exit;
  assert.equal(exit.code, 1);
  assert.match(ib.proc.stderr, /errors\.retry\.timeout/);
});

// Small hand encoders, so the test does not trust our own encoders.
function zigzag(n) {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  const out = [];
  do {
    let b = z % 128;
    z = Math.floor(z / 128);
    if (z) b |= 0x80;
    out.push(b);
  } while (z);
  return Buffer.from(out);
}
function avroString(s) { const b = Buffer.from(s); return Buffer.concat([zigzag(b.length), b]); }
function avroDouble(d) { const b = Buffer.alloc(8); b.writeDoubleLE(d); return b; }
function avroPerson(name, age, score, ok) {
  return Buffer.concat([avroString(name), zigzag(age), avroDouble(score), Buffer.from([ok ? 1 : 0])]);
}
function msgpackStr(s) { const b = Buffer.from(s); return Buffer.concat([Buffer.from([0xa0 | b.length]), b]); }

test('binary value formats end to end: MessagePack, Avro with a fixed schema, Avro through a Schema Registry', async (t) => {
  const registry = await schemaRegistry();
  const kafka = await kafkaDev(['--topic', 'packed:1', '--topic', 'avro-fixed:1', '--topic', 'avro-registry:1']);
  const dev = await aerospikeDev();
  const managePort = await freePort();
  const schema = JSON.stringify({ type: 'record', name: 'Person', fields: [
    { name: 'name', type: 'string' }, { name: 'age', type: 'long' }, { name: 'score', type: 'double' },
    { name: 'ok', type: 'boolean' }] });
  const reg = await (await fetch(`${registry.url}/subjects/people-value/versions`, {
    method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema }) })).json();
  const mapping = (set) => `    key-format: {mode: string}
    mapping:
      namespace: {mode: static, value: test}
      set: {mode: static, value: ${set}}
      key-field: {source: key}
      bins: {type: multi-bins, all-value-fields: true}`;
  const ib = await inbound(`consumer-props:
  bootstrap.servers: ${kafka.bootstrap}
  group.id: e2e-binary
  auto.offset.reset: earliest
aerospike:
  seeds:
${seedsYaml(dev.hosts)}
service:
  manage:
    port: ${managePort}
topics:
  packed:
    invalid-record: ignore
    value-format: {mode: message-pack}
${mapping('packed')}
  avro-fixed:
    invalid-record: ignore
    value-format:
      mode: avro
      schema: '${schema}'
${mapping('fixed')}
  avro-registry:
    invalid-record: ignore
    value-format:
      mode: kafka-avro
      props:
        schema.registry.url: ${registry.url}
${mapping('registered')}
`, managePort);
  const client = await Aerospike.connect({ hosts: dev.hosts, log: { level: Aerospike.log.OFF } });
  t.after(async () => {
    await client.close();
    await ib.proc.stop();
    await dev.proc.stop();
    await kafka.proc.stop();
    await registry.close();
  });
  const score = Buffer.alloc(8);
  score.writeDoubleBE(1.25);
  const packed = Buffer.concat([Buffer.from([0x85]), msgpackStr('name'), msgpackStr('Bob'), msgpackStr('age'),
    Buffer.from([41]), msgpackStr('tags'), Buffer.from([0x91]), msgpackStr('x'), msgpackStr('score'),
    Buffer.from([0xcb]), score, msgpackStr('ok'), Buffer.from([0xc2])]);
  await produce(kafka.bootstrap, 'packed', [{ key: 'p1', value: packed }]);
  await produce(kafka.bootstrap, 'avro-fixed', [{ key: 'f1', value: avroPerson('Ada', 36, 2.5, true) }]);
  const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, reg.id]), avroPerson('Eve', 29, 0.5, false)]);
  await produce(kafka.bootstrap, 'avro-registry', [{ key: 'r1', value: framed }]);
  await metricsWhen(managePort, (x) => x['records-written'] === 3, 'three writes');
  assert.deepEqual((await get(client, new Aerospike.Key('test', 'packed', 'p1'))).bins,
    { name: 'Bob', age: 41, tags: ['x'], score: 1.25, ok: false });
  assert.deepEqual((await get(client, new Aerospike.Key('test', 'fixed', 'f1'))).bins,
    { name: 'Ada', age: 36, score: 2.5, ok: true });
  assert.deepEqual((await get(client, new Aerospike.Key('test', 'registered', 'r1'))).bins,
    { name: 'Eve', age: 29, score: 0.5, ok: false });
  assert.ok(registry.requests.some((r) => r.method === 'GET' && r.path === `/schemas/ids/${reg.id}`),
    'the writer schema was fetched by id');
});
