// aerospike-dev ships change notifications the way XDR does: writes made
// by the official client arrive at a listener (aerokafka xdr-sink --print,
// which decodes them with aerokafka's codec) as the exact records, and the
// shipper follows XDR's answer rules: retry, abandon, silence, round-robin.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const Aerospike = require('aerospike');
const { aerospikeDev, xdrSink } = require('./lib/stack');

async function connect(hosts) {
  return Aerospike.connect({ hosts, log: { level: Aerospike.log.OFF } });
}

async function devStats(client) {
  const text = await client.infoAny('dev-stats');
  const value = text.trim().split('\t')[1] || '';
  return Object.fromEntries(value.split(';').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
}

function notifications(sink) {
  return sink.proc.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

async function waitStats(client, predicate, what) {
  let last = {};
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    last = await devStats(client);
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}; dev-stats ${JSON.stringify(last)}`);
}

const sendKey = { key: Aerospike.policy.key.SEND };

test('writes, updates, touches and deletes arrive as the exact records', async (t) => {
  const sink = await xdrSink(['--print']);
  const dev = await aerospikeDev(['--xdr', sink.address]);
  const client = await connect(dev.hosts);
  t.after(async () => { await client.close(); await dev.proc.stop(); await sink.proc.stop(); });

  const key = new Aerospike.Key('test', 'ship', 'user-1');
  const before = Date.now();
  await client.put(key, {
    i: 7, d: 2.5, s: 'text', b: Buffer.from([1, 2, 255]), t: true, l: [1, 'x', [2]], m: { k: 'v', n: 3 },
    g: new Aerospike.GeoJSON({ type: 'Point', coordinates: [1.5, 2.5] }),
  }, { ttl: 3600 }, sendKey);
  const [write] = await sink.proc.waitFor(() => { const n = notifications(sink); return n.length >= 1 && n; }, 10000, 'the write');
  assert.equal(write.namespace, 'test');
  assert.equal(write.set, 'ship');
  assert.deepEqual(write.key, { type: 'string', value: 'user-1' });
  assert.equal(write.digest, key.digest.toString('hex'));
  assert.deepEqual(write.info1, ['XDR']);
  assert.deepEqual(write.info2, ['WRITE']);
  assert.equal(write.generation, 1);
  assert.ok(write.ttl > 3590 && write.ttl <= 3600, `ttl ${write.ttl}`);
  assert.ok(write.lut_unix_ms >= before - 1000 && write.lut_unix_ms <= Date.now() + 1000, `lut ${write.lut_unix_ms}`);
  const bins = Object.fromEntries(write.bins.map((b) => [b.name, [b.type, b.value]]));
  assert.deepEqual(bins, {
    i: ['int', 7], d: ['double', 2.5], s: ['string', 'text'], b: ['blob', '0102ff'], t: ['bool', true],
    l: ['list', [1, 'x', [2]]], m: ['map', { k: 'v', n: 3 }],
    g: ['geojson', '{"type":"Point","coordinates":[1.5,2.5]}'],
  });

  await client.put(key, { i: 8 }, {}, sendKey);
  await client.operate(key, [Aerospike.operations.touch(100)]);
  await client.remove(key, sendKey);
  const all = await sink.proc.waitFor(() => { const n = notifications(sink); return n.length >= 4 && n; }, 10000, '4 notifications');
  const [, update, touch, del] = all;
  assert.equal(update.generation, 2);
  assert.equal(update.bins.find((b) => b.name === 'i').value, 8, 'an update ships the whole record');
  assert.equal(update.bins.length, 8);
  assert.equal(touch.generation, 3);
  assert.ok(touch.ttl > 90 && touch.ttl <= 100);
  assert.deepEqual(del.info2, ['WRITE', 'DELETE']);
  assert.equal(del.digest, key.digest.toString('hex'));
  assert.equal(del.set, 'ship');
  assert.deepEqual(del.key, { type: 'string', value: 'user-1' });
  assert.deepEqual(del.bins, []);
  const stats = await waitStats(client, (s) => s['xdr-acknowledged'] === 4, '4 acknowledgements');
  assert.equal(stats['xdr-retried'], 0);
});

test('a retry-class answer (KEY_BUSY) is re-shipped until acknowledged', async (t) => {
  const sink = await xdrSink(['--answer', '14,0']);
  const dev = await aerospikeDev(['--xdr', sink.address]);
  const client = await connect(dev.hosts);
  t.after(async () => { await client.close(); await dev.proc.stop(); await sink.proc.stop(); });
  for (let i = 0; i < 10; i++) await client.put(new Aerospike.Key('test', 'retry', i), { v: i });
  const stats = await waitStats(client, (s) => s['xdr-acknowledged'] === 10 && s['xdr-in-flight'] === 0 &&
    s['xdr-queued'] === 0, '10 acknowledgements');
  assert.ok(stats['xdr-retried'] >= 1, `retried ${stats['xdr-retried']}`);
  assert.equal(stats['xdr-abandoned'], 0);
  assert.equal(stats['xdr-shipped'], stats['xdr-acknowledged'] + stats['xdr-retried']);
});

test('an abandon-class answer (PARAMETER) is given up, not re-shipped', async (t) => {
  const sink = await xdrSink(['--answer', '4']);
  const dev = await aerospikeDev(['--xdr', sink.address]);
  const client = await connect(dev.hosts);
  t.after(async () => { await client.close(); await dev.proc.stop(); await sink.proc.stop(); });
  for (let i = 0; i < 5; i++) await client.put(new Aerospike.Key('test', 'abandon', i), { v: i });
  const stats = await waitStats(client, (s) => s['xdr-abandoned'] === 5, '5 abandoned');
  await new Promise((r) => setTimeout(r, 300));
  const later = await devStats(client);
  assert.equal(later['xdr-shipped'], 5, 'nothing is re-shipped');
  assert.equal(stats['xdr-acknowledged'], 0);
});

test('no answer within the timeout is re-shipped', async (t) => {
  const sink = await xdrSink(['--hold-first', '1']);
  const dev = await aerospikeDev(['--xdr', sink.address, '--xdr-timeout-ms', '500']);
  const client = await connect(dev.hosts);
  t.after(async () => { await client.close(); await dev.proc.stop(); await sink.proc.stop(); });
  await client.put(new Aerospike.Key('test', 'silent', 1), { v: 1 });
  const stats = await waitStats(client, (s) => s['xdr-acknowledged'] === 1, 'the re-shipped record');
  assert.ok(stats['xdr-timeouts'] >= 1, `timeouts ${stats['xdr-timeouts']}`);
  assert.ok(stats['xdr-retried'] >= 1);
});

test('notifications round-robin over several connectors', async (t) => {
  const a = await xdrSink(['--print']);
  const b = await xdrSink(['--print']);
  const dev = await aerospikeDev(['--xdr', a.address, '--xdr', b.address]);
  const client = await connect(dev.hosts);
  t.after(async () => { await client.close(); await dev.proc.stop(); await a.proc.stop(); await b.proc.stop(); });
  for (let i = 0; i < 20; i++) await client.put(new Aerospike.Key('test', 'rr', i), { v: i });
  await waitStats(client, (s) => s['xdr-acknowledged'] === 20, '20 acknowledgements');
  const na = notifications(a).length;
  const nb = notifications(b).length;
  assert.equal(na + nb, 20);
  assert.ok(Math.abs(na - nb) <= 2, `split ${na}/${nb}`);
});

for (const protocol of ['http1', 'http2']) {
  test(`legacy HTTP change notifications over ${protocol}`, async (t) => {
    const sink = await xdrSink(['--protocol', 'http', '--print']);
    const dev = await aerospikeDev(['--xdr', sink.address, '--xdr-protocol', protocol]);
    const client = await connect(dev.hosts);
    t.after(async () => { await client.close(); await dev.proc.stop(); await sink.proc.stop(); });
    const key = new Aerospike.Key('test', 'http', 'h1');
    await client.put(key, { v: 'over http' }, {}, sendKey);
    await client.remove(key);
    const [write, del] = await sink.proc.waitFor(() => { const n = notifications(sink); return n.length >= 2 && n; },
      10000, 'two notifications');
    assert.deepEqual(write.bins.map((x) => [x.name, x.value]), [['v', 'over http']]);
    assert.deepEqual(write.key, { type: 'string', value: 'h1' });
    assert.deepEqual(del.info2, ['WRITE', 'DELETE']);
    await waitStats(client, (s) => s['xdr-acknowledged'] === 2, '2 acknowledgements');
  });
}
