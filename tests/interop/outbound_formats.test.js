// Every output format end to end: the official client writes to
// aerospike-dev, which ships each change (as XDR does) to
// `aerokafka outbound`, which publishes it to kafka-dev; kcat reads it back
// and the test decodes every byte (JSON.parse, a small MessagePack decoder,
// a small Avro decoder; no package beyond the pinned client) and checks the
// content exactly as docs/FORMATS.md describes it.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const Aerospike = require('aerospike');
const { aerospikeDev, kafkaDev, freePort, outbound, consume } = require('./lib/stack');
const { schemaRegistry } = require('./lib/registry');

const SEND_KEY = { key: Aerospike.policy.key.SEND };
const TTL = 3600;
const GEO = { type: 'Point', coordinates: [103.9, 1.3] };

// Every value type the Node client writes, one bin each.
function allTypes() {
  return {
    int: 42,
    neg: -7,
    dbl: 3.25,
    str: 'héllo "w"',
    bytes: Buffer.from([0, 1, 254, 255]),
    bool: true,
    list: [1, 'two', 3.5, [4], { k: 'v' }, Buffer.from('xy'), false],
    map: { a: 1, b: 'x', c: [1, 2] },
    geo: new Aerospike.GeoJSON(GEO),
  };
}

// Stops the connector; checkClean then asserts it exited 0 on SIGTERM
// (under the sanitizer build a leak or an error report makes it exit
// non-zero). Split so that every process is stopped before an assertion.
async function stopClean(proc) {
  proc.result = await proc.stop();
}

function checkClean(proc) {
  const { code, signal } = proc.result;
  assert.equal(code, 0, `outbound exited ${code} (signal ${signal}) on SIGTERM; stderr:\n${proc.stderr.slice(-3000)}`);
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

// kafka-dev + outbound (the given format section, every record to topic
// `out`) + aerospike-dev shipping to the connector.
// receiver: how aerospike-dev ships to the connector: tcp (the wire
// protocol, XDR 5+), http1 or http2 (legacy change notification POSTs).
async function stack(t, { format, receiver = 'tcp' }) {
  const kafka = await kafkaDev();
  const port = await freePort();
  const managePort = await freePort();
  const protocol = receiver === 'tcp' ? 'TCP' : 'HTTP_1_1';
  const yaml = `service:
  port: ${port}
  protocol: ${protocol}
  address: 127.0.0.1
  manage:
    port: ${managePort}
producer-props:
  bootstrap.servers: ${kafka.bootstrap}
  linger.ms: 1
${format}
routing:
  mode: static
  destination: out
`;
  const ob = await outbound(yaml, managePort);
  const dev = await aerospikeDev(['--xdr', `127.0.0.1:${port}`, '--xdr-protocol', receiver]);
  const client = await Aerospike.connect({ hosts: dev.hosts, log: { level: Aerospike.log.OFF } });
  t.after(async () => {
    await client.close();
    await dev.proc.stop();
    await stopClean(ob.proc);
    await kafka.proc.stop();
    checkClean(ob.proc);
  });
  // consume, and on failure say what the connector and the shipper saw
  const read = async (topic, count) => {
    try {
      return await consume(kafka.bootstrap, topic, count);
    } catch (e) {
      let devStats = '';
      try { devStats = await client.infoAny('dev-stats'); } catch (e2) { devStats = String(e2); }
      let m = '';
      try { m = JSON.stringify(await metrics(managePort)); } catch (e3) { m = String(e3); }
      e.message += `\naerospike-dev: ${devStats}\nconnector metrics: ${m}\nconnector log:\n${ob.proc.stderr.slice(-3000)}`;
      throw e;
    }
  };
  return { kafka, ob, client, managePort, read };
}

// Waits until aerospike-dev has had `count` notifications answered
// (acknowledged or abandoned) by the connector.
async function shipped(client, count) {
  const deadline = Date.now() + 15000;
  let stats = '';
  while (Date.now() < deadline) {
    stats = await client.infoAny('dev-stats');
    const n = (name) => Number((new RegExp(`${name}=(\\d+)`).exec(stats) || [0, 0])[1]);
    if (n('xdr-acknowledged') + n('xdr-abandoned') >= count) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`aerospike-dev did not have ${count} notifications answered within 15 s: ${stats}`);
}

// A write of every type, a delete, a write of {v: 1} and a durable delete
// of one key; returns what the checks need to know about the times and the
// key. Like XDR, aerospike-dev ships a record as it is at ship time, so a
// write followed at once by a delete may ship only the delete: each change
// is therefore let through before the next is made.
async function writeAndDelete(client, set = 'demo', bins = allTypes()) {
  const key = new Aerospike.Key('test', set, 'user-1');
  const before = Date.now();
  await client.put(key, bins, { ttl: TTL }, SEND_KEY);
  await shipped(client, 1);
  await client.remove(key, SEND_KEY);
  await shipped(client, 2);
  await client.put(key, { v: 1 }, {}, SEND_KEY);
  await shipped(client, 3);
  await client.remove(key, { ...SEND_KEY, durableDelete: true });
  await shipped(client, 4);
  const after = Date.now();
  return { key, digest: key.digest, before, after };
}

function assertLut(lut, ctx) {
  const n = Number(lut);
  assert.ok(Number.isInteger(n) && n >= ctx.before - 1000 && n <= ctx.after + 1000,
    `lut ${lut} not within the test's write window ${ctx.before}..${ctx.after}`);
}

function assertExp(exp) {
  const expected = Math.floor(Date.now() / 1000) + TTL;
  assert.ok(Math.abs(Number(exp) - expected) <= 10, `exp ${exp}, expected about ${expected} (now + ttl)`);
}

// ---------------------------------------------------------------- MessagePack
// A small MessagePack decoder: maps become Map (keys may be any type),
// bin becomes Buffer, ext becomes { ext: type, data: Buffer }.
function msgpackDecode(buf) {
  let pos = 0;
  const u8 = () => buf[pos++];
  const take = (n) => { const b = buf.subarray(pos, pos + n); pos += n; if (b.length !== n) throw new Error('truncated'); return b; };
  const str = (n) => take(n).toString('utf8');
  const arr = (n) => { const a = []; for (let i = 0; i < n; i++) a.push(value()); return a; };
  const map = (n) => { const m = new Map(); for (let i = 0; i < n; i++) { const k = value(); m.set(k, value()); } return m; };
  const ext = (n) => { const type = buf.readInt8(pos++); return { ext: type, data: Buffer.from(take(n)) }; };
  const num = (read, n) => { const v = read.call(buf, pos); pos += n; return v; };
  function value() {
    const b = u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xf0) === 0x80) return map(b & 0x0f);
    if ((b & 0xf0) === 0x90) return arr(b & 0x0f);
    if ((b & 0xe0) === 0xa0) return str(b & 0x1f);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return Buffer.from(take(u8()));
      case 0xc5: return Buffer.from(take(num(buf.readUInt16BE, 2)));
      case 0xc6: return Buffer.from(take(num(buf.readUInt32BE, 4)));
      case 0xc7: return ext(u8());
      case 0xc8: return ext(num(buf.readUInt16BE, 2));
      case 0xc9: return ext(num(buf.readUInt32BE, 4));
      case 0xca: return num(buf.readFloatBE, 4);
      case 0xcb: return { float64: num(buf.readDoubleBE, 8) };
      case 0xcc: return u8();
      case 0xcd: return num(buf.readUInt16BE, 2);
      case 0xce: return num(buf.readUInt32BE, 4);
      case 0xcf: { const v = num(buf.readBigUInt64BE, 8); return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v; }
      case 0xd0: return num(buf.readInt8, 1);
      case 0xd1: return num(buf.readInt16BE, 2);
      case 0xd2: return num(buf.readInt32BE, 4);
      case 0xd3: { const v = num(buf.readBigInt64BE, 8); return Number(v); }
      case 0xd4: return ext(1);
      case 0xd5: return ext(2);
      case 0xd6: return ext(4);
      case 0xd7: return ext(8);
      case 0xd8: return ext(16);
      case 0xd9: return str(u8());
      case 0xda: return str(num(buf.readUInt16BE, 2));
      case 0xdb: return str(num(buf.readUInt32BE, 4));
      case 0xdc: return arr(num(buf.readUInt16BE, 2));
      case 0xdd: return arr(num(buf.readUInt32BE, 4));
      case 0xde: return map(num(buf.readUInt16BE, 2));
      case 0xdf: return map(num(buf.readUInt32BE, 4));
      default: throw new Error(`msgpack: unknown byte 0x${b.toString(16)} at ${pos - 1}`);
    }
  }
  const v = value();
  assert.equal(pos, buf.length, 'the message is exactly one MessagePack value');
  return v;
}

// ---------------------------------------------------------------- Avro
// A small Avro binary decoder for the types these schemas use: null,
// boolean, int, long, double, string, bytes, fixed, enum, array, map,
// record, union. Named types are resolved by (full) name.
function avroDecode(schemaJson, buf) {
  const named = new Map();
  let pos = 0;
  const long = () => {
    let shift = 0n; let n = 0n; let b;
    do { b = buf[pos++]; if (b === undefined) throw new Error('avro: truncated varint'); n |= BigInt(b & 0x7f) << shift; shift += 7n; } while (b & 0x80);
    const v = (n >> 1n) ^ -(n & 1n);
    return Number(v);
  };
  const bytes = () => { const n = long(); const b = buf.subarray(pos, pos + n); pos += n; if (b.length !== n) throw new Error('avro: truncated'); return Buffer.from(b); };
  const blocks = (item) => {
    const out = [];
    for (;;) {
      let n = long();
      if (n === 0) return out;
      if (n < 0) { n = -n; long(); } // block size in bytes, unused
      for (let i = 0; i < n; i++) out.push(item());
    }
  };
  function register(s, ns) {
    if (Array.isArray(s)) { s.forEach((x) => register(x, ns)); return; }
    if (typeof s !== 'object') return;
    if (s.name) {
      const full = s.name.includes('.') ? s.name : (s.namespace || ns ? `${s.namespace || ns}.${s.name}` : s.name);
      named.set(full, s); named.set(s.name, s);
      ns = s.namespace || (s.name.includes('.') ? s.name.slice(0, s.name.lastIndexOf('.')) : ns);
    }
    if (s.fields) s.fields.forEach((f) => register(f.type, ns));
    if (s.items) register(s.items, ns);
    if (s.values) register(s.values, ns);
  }
  function read(s) {
    if (typeof s === 'string') {
      switch (s) {
        case 'null': return null;
        case 'boolean': return buf[pos++] === 1;
        case 'int': case 'long': return long();
        case 'double': { const v = buf.readDoubleLE(pos); pos += 8; return v; }
        case 'float': { const v = buf.readFloatLE(pos); pos += 4; return v; }
        case 'string': return bytes().toString('utf8');
        case 'bytes': return bytes();
        default: if (!named.has(s)) throw new Error(`avro: unknown type ${s}`); return read(named.get(s));
      }
    }
    if (Array.isArray(s)) { const i = long(); if (i < 0 || i >= s.length) throw new Error(`avro: union index ${i}`); return read(s[i]); }
    switch (s.type) {
      case 'record': { const o = {}; for (const f of s.fields) o[f.name] = read(f.type); return o; }
      case 'array': return blocks(() => read(s.items));
      case 'map': return Object.fromEntries(blocks(() => [bytes().toString('utf8'), read(s.values)]));
      case 'enum': return s.symbols[long()];
      case 'fixed': { const b = Buffer.from(buf.subarray(pos, pos + s.size)); pos += s.size; return b; }
      default: return read(s.type);
    }
  }
  const schema = typeof schemaJson === 'string' ? JSON.parse(schemaJson) : schemaJson;
  register(schema, '');
  const v = read(schema);
  assert.equal(pos, buf.length, 'the message is exactly one Avro datum');
  return v;
}

// The delete schema every avro and kafka-avro delete uses (docs/FORMATS.md).
const DELETE_SCHEMA = {
  type: 'record', name: 'AerospikeOutboundDelete', namespace: 'com.aerospike.connect', fields: [
    { name: 'namespace', type: 'string' },
    { name: 'set', type: ['null', 'string'], default: null },
    { name: 'userKey', type: ['null', 'long', 'double', 'string', 'bytes'], default: null },
    { name: 'digest', type: 'bytes' },
    { name: 'msg', type: 'string' },
    { name: 'gen', type: 'int' },
    { name: 'lut', type: ['null', 'long'], default: null },
    { name: 'durable', type: 'boolean' }],
};

// A record schema covering the Avro-representable bins of a write.
function writeSchema(name) {
  return {
    type: 'record', name, namespace: 'test.aerokafka', fields: [
      { name: 'meta', type: { type: 'record', name: 'Meta', fields: [
        { name: 'namespace', type: 'string' }, { name: 'set', type: ['null', 'string'] },
        { name: 'userKey', type: ['null', 'long', 'double', 'string', 'bytes'] },
        { name: 'digest', type: { type: 'fixed', name: 'Digest', size: 20 } },
        { name: 'msg', type: 'string' }, { name: 'gen', type: 'int' },
        { name: 'lut', type: ['null', 'long'] }, { name: 'exp', type: ['null', 'long'] }] } },
      { name: 'int', type: 'long' },
      { name: 'neg', type: 'int' },
      { name: 'dbl', type: 'double' },
      { name: 'str', type: 'string' },
      { name: 'bytes', type: ['null', 'bytes'] },
      { name: 'bool', type: 'boolean' },
      { name: 'list', type: { type: 'array', items: 'string' } },
      { name: 'map', type: { type: 'map', values: ['long', 'string'] } },
      { name: 'geo', type: 'string' },
      { name: 'nickname', type: ['null', 'string'], default: null },
    ],
  };
}

function avroBins() {
  return {
    int: 42, neg: -7, dbl: 3.25, str: 'héllo "w"', bytes: Buffer.from([0, 1, 254, 255]), bool: true,
    list: ['a', 'b'], map: { n: 5, s: 'five' }, geo: new Aerospike.GeoJSON(GEO),
  };
}

function checkAvroWrite(w, ctx) {
  assert.deepEqual(Object.keys(w), ['meta', 'int', 'neg', 'dbl', 'str', 'bytes', 'bool', 'list', 'map', 'geo', 'nickname']);
  assert.equal(w.meta.namespace, 'test');
  assert.equal(w.meta.set, 'demo');
  assert.equal(w.meta.userKey, 'user-1');
  assert.deepEqual(w.meta.digest, ctx.digest);
  assert.equal(w.meta.msg, 'write');
  assert.equal(w.meta.gen, 1);
  assertLut(w.meta.lut, ctx);
  assertExp(w.meta.exp);
  const { meta, geo, ...bins } = w;
  assert.deepEqual(bins, { int: 42, neg: -7, dbl: 3.25, str: 'héllo "w"', bytes: Buffer.from([0, 1, 254, 255]),
    bool: true, list: ['a', 'b'], map: { n: 5, s: 'five' }, nickname: null });
  assert.deepEqual(JSON.parse(geo), GEO, 'GeoJSON as its text');
}

function checkAvroDelete(d, ctx, durable) {
  assert.deepEqual(Object.keys(d), ['namespace', 'set', 'userKey', 'digest', 'msg', 'gen', 'lut', 'durable']);
  assert.equal(d.namespace, 'test');
  assert.equal(d.set, 'demo');
  assert.equal(d.userKey, 'user-1');
  assert.deepEqual(d.digest, ctx.digest);
  assert.equal(d.msg, 'delete');
  assert.ok(Number.isInteger(d.gen));
  assertLut(d.lut, ctx);
  assert.equal(d.durable, durable);
}

// ---------------------------------------------------------------- tests

for (const receiver of ['tcp', 'http1', 'http2']) {
test(`json over ${receiver}: typed JSON of every value type, a delete and a durable delete`, async (t) => {
  const { client, managePort, read } = await stack(t, { format: 'format:\n  mode: json', receiver });
  const ctx = await writeAndDelete(client);
  const msgs = await read('out', 4);
  for (const m of msgs) assert.deepEqual(m.key, ctx.digest, 'the Kafka key is the raw digest');
  const texts = msgs.map((m) => m.value.toString('utf8'));
  const [write, del, , durable] = texts.map((s) => JSON.parse(s));
  const keyArray = ['test', 'demo', ctx.digest.toString('base64'), 'user-1'];
  assertLut(write.lut, ctx);
  assertExp(write.exp);
  // The exact text, with only the clock-dependent numbers taken from it.
  const expectedWrite = {
    msg: 'write', key: keyArray, gen: 1, exp: write.exp, lut: write.lut, bins: [
      { name: 'int', type: 'int', value: 42 },
      { name: 'neg', type: 'int', value: -7 },
      { name: 'dbl', type: 'float', value: 3.25 },
      { name: 'str', type: 'str', value: 'héllo "w"' },
      { name: 'bytes', type: 'blob', value: Buffer.from([0, 1, 254, 255]).toString('base64') },
      { name: 'bool', type: 'bool', value: true },
      // a JS array is an unordered list; blobs inside lists are Base64
      { name: 'list', type: 'list', value: [1, 'two', 3.5, [4], { k: 'v' }, 'eHk=', false], ordered: false },
      // the client writes JS objects as key-ordered maps
      { name: 'map', type: 'map', value: { a: 1, b: 'x', c: [1, 2] }, order: 'key' },
      { name: 'geo', type: 'geojson', value: GEO },
    ],
  };
  assert.equal(texts[0], JSON.stringify(expectedWrite));
  assertLut(del.lut, ctx);
  assert.equal(texts[1], JSON.stringify({ msg: 'delete', key: keyArray, gen: del.gen, lut: del.lut, durable: false }));
  assert.ok(Number.isInteger(del.gen));
  assert.equal(texts[3], JSON.stringify({ msg: 'delete', key: keyArray, gen: durable.gen, lut: durable.lut, durable: true }));
  const m = await metricsWhen(managePort, (x) => x['requests-success'] >= 4);
  assert.equal(m['requests-success'], 4);
  assert.equal(m['requests-errors'], 0);
  assert.match(await client.infoAny('dev-stats'), /xdr-acknowledged=4\b/);
});
}

test('message-pack: [1, type, payload] with particle types, a delete and a durable delete', async (t) => {
  const { client, read } = await stack(t, { format: 'format:\n  mode: message-pack' });
  const ctx = await writeAndDelete(client);
  const msgs = await read('out', 4);
  for (const m of msgs) assert.deepEqual(m.key, ctx.digest);
  const [write, del, , durable] = msgs.map((m) => msgpackDecode(m.value));
  const key = ['test', 'demo', ctx.digest, 'user-1'];
  assert.equal(write.length, 3);
  assert.equal(write[0], 1, 'version 1');
  assert.equal(write[1], 1, 'type 1: write');
  const [wkey, gen, exp, lut, bins] = write[2];
  assert.equal(write[2].length, 5);
  assert.deepEqual(wkey, key);
  assert.equal(gen, 1);
  assertExp(exp);
  assertLut(lut, ctx);
  const geoText = JSON.stringify(GEO);
  const nestedMap = new Map([['k', 'v']]);
  assert.deepEqual(bins, [
    ['int', 1, 0, 42],
    ['neg', 1, 0, -7],
    ['dbl', 2, 0, { float64: 3.25 }],
    ['str', 3, 0, 'héllo "w"'],
    ['bytes', 4, 0, Buffer.from([0, 1, 254, 255])],
    ['bool', 17, 0, true],
    ['list', 20, 0, [1, 'two', { float64: 3.5 }, [4], nestedMap, Buffer.from('xy'), false]],
    ['map', 19, 1, new Map([['a', 1], ['b', 'x'], ['c', [1, 2]]])],
    ['geo', 23, 0, bins[8][3]],
  ]);
  assert.deepEqual(JSON.parse(bins[8][3]), GEO, `GeoJSON as a str: ${bins[8][3]} (client wrote ${geoText})`);
  // deletes: [1, 2, [key, flags]], flag 0x01 durable
  assert.deepEqual(del, [1, 2, [key, 0]]);
  assert.deepEqual(durable, [1, 2, [key, 1]]);
});

test('avro: an inline record schema with metadata; deletes in the built-in delete schema', async (t) => {
  const schema = writeSchema('Rec');
  const format = `format:\n  mode: avro\n  metadata-key: meta\n  schema: '${JSON.stringify(schema)}'`;
  const { client, managePort, read } = await stack(t, { format });
  const ctx = await writeAndDelete(client, 'demo', avroBins());
  // the second write ({v: 1}) has no field for bin v: it is not
  // representable, answered abandon-class and not published
  const msgs = await read('out', 3);
  for (const m of msgs) assert.deepEqual(m.key, ctx.digest);
  checkAvroWrite(avroDecode(schema, msgs[0].value), ctx);
  checkAvroDelete(avroDecode(DELETE_SCHEMA, msgs[1].value), ctx, false);
  checkAvroDelete(avroDecode(DELETE_SCHEMA, msgs[2].value), ctx, true);
  const m = await metricsWhen(managePort, (x) => x['requests-success'] >= 3 && x['requests-format-error'] >= 1);
  assert.equal(m['requests-success'], 3);
  assert.equal(m['requests-format-error'], 1, 'the write with no field for its bin');
  // XDR saw the abandon-class answer: not retried, counted as abandoned
  const stats = await client.infoAny('dev-stats');
  assert.match(stats, /xdr-abandoned=1\b/);
  assert.match(stats, /xdr-acknowledged=3\b/);
});

test('kafka-avro: Confluent framing with the ids a Schema Registry gave (RecordNameStrategy)', async (t) => {
  const registry = await schemaRegistry();
  t.after(() => registry.close());
  const schema = writeSchema('Person');
  const format = `format:
  mode: kafka-avro
  metadata-key: meta
  schema: '${JSON.stringify(schema)}'
  props:
    schema.registry.url: ${registry.url}
    value.subject.name.strategy: io.confluent.kafka.serializers.subject.RecordNameStrategy`;
  const { client, read } = await stack(t, { format });
  const ctx = await writeAndDelete(client, 'demo', avroBins());
  const msgs = await read('out', 3);
  const frame = (buf) => {
    assert.equal(buf[0], 0, 'magic byte 0');
    return { id: buf.readUInt32BE(1), body: buf.subarray(5) };
  };
  const [w, d, dd] = msgs.map((m) => frame(m.value));
  const registered = registry.requests.filter((r) => r.path.endsWith('/versions'));
  assert.deepEqual(registered.map((r) => r.subject).sort(),
    ['com.aerospike.connect.AerospikeOutboundDelete', 'test.aerokafka.Person'],
    'one registration per schema, under its full record name');
  const idOf = (subject) => registry.ids.get(registered.find((r) => r.subject === subject).schema);
  assert.equal(w.id, idOf('test.aerokafka.Person'));
  assert.equal(d.id, idOf('com.aerospike.connect.AerospikeOutboundDelete'));
  assert.equal(dd.id, d.id);
  assert.notEqual(w.id, d.id);
  // the registered schema texts are the schemas the bodies decode with
  const writeText = registered.find((r) => r.subject === 'test.aerokafka.Person').schema;
  assert.deepEqual(JSON.parse(writeText), schema);
  checkAvroWrite(avroDecode(writeText, w.body), ctx);
  const deleteText = registered.find((r) => r.subject !== 'test.aerokafka.Person').schema;
  checkAvroDelete(avroDecode(deleteText, d.body), ctx, false);
  checkAvroDelete(avroDecode(deleteText, dd.body), ctx, true);
  for (const r of registered) {
    assert.equal(r.method, 'POST');
    assert.match(r.contentType || '', /application\/(vnd\.schemaregistry\.v1\+)?json/);
  }
});

test('port-based-config: records arriving on the second port go to their own topic', async (t) => {
  const ports = [await freePort(), await freePort()];
  const extra = `port-based-config:
  ${ports[1]}:
    routing:
      mode: static
      destination: second-dc
    format:
      mode: json
`;
  // build the stack by hand: the connector needs the ports in its config
  const kafka = await kafkaDev();
  const managePort = await freePort();
  const yaml = `service:
  port: [${ports.join(', ')}]
  address: 127.0.0.1
  manage:
    port: ${managePort}
producer-props:
  bootstrap.servers: ${kafka.bootstrap}
  linger.ms: 1
format:
  mode: flat-json
  metadata-key: metadata
routing:
  mode: static
  destination: first-dc
${extra}`;
  const ob = await outbound(yaml, managePort);
  const dev1 = await aerospikeDev(['--xdr', `127.0.0.1:${ports[0]}`]);
  const dev2 = await aerospikeDev(['--xdr', `127.0.0.1:${ports[1]}`]);
  const c1 = await Aerospike.connect({ hosts: dev1.hosts, log: { level: Aerospike.log.OFF } });
  const c2 = await Aerospike.connect({ hosts: dev2.hosts, log: { level: Aerospike.log.OFF } });
  t.after(async () => {
    await c1.close(); await c2.close();
    await dev1.proc.stop(); await dev2.proc.stop();
    await stopClean(ob.proc); await kafka.proc.stop();
    checkClean(ob.proc);
  });
  const key = new Aerospike.Key('test', 'demo', 'dc');
  await c1.put(key, { from: 'first' }, {}, SEND_KEY);
  await c2.put(key, { from: 'second' }, {}, SEND_KEY);
  const [first] = await consume(kafka.bootstrap, 'first-dc', 1);
  const [second] = await consume(kafka.bootstrap, 'second-dc', 1);
  const flat = JSON.parse(first.value.toString());
  assert.equal(flat.from, 'first');
  assert.equal(flat.metadata.msg, 'write');
  const typed = JSON.parse(second.value.toString());
  assert.equal(typed.msg, 'write', 'the second port has its own format (json)');
  assert.deepEqual(typed.bins, [{ name: 'from', type: 'str', value: 'second' }]);
  assert.deepEqual(second.key, key.digest);
  await new Promise((r) => setTimeout(r, 300));
  const m = await metricsWhen(managePort, (x) => x['requests-success'] >= 2);
  assert.equal(m['requests-success'], 2, 'one record per topic, nothing else');
});
