// The official Aerospike Node.js client against aerospike-dev, with 1 and 3
// nodes: cluster discovery, routing, every value type, single-record
// commands with their policies and result codes, operate and batch reads.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const Aerospike = require('aerospike');
const { aerospikeDev } = require('./lib/stack');

const { operations: ops, lists, maps, status } = Aerospike;

async function connect(hosts) {
  return Aerospike.connect({ hosts, log: { level: Aerospike.log.OFF } });
}

// Every value type the client can write, nested where the type allows.
const everyType = () => ({
  int: 42,
  neg: -7,
  big: 9007199254740991,
  dbl: 3.25,
  str: 'héllo wörld ✓',
  empty: '',
  bytes: Buffer.from([0, 1, 2, 253, 254, 255]),
  bool: true,
  list: [1, 'two', 3.5, [4, [5]], { k: 'v' }, Buffer.from('xy'), false],
  map: { a: 1, b: 'text', c: [1, 2], d: { nested: { deeper: 'yes' } }, e: 2.5 },
  geo: new Aerospike.GeoJSON({ type: 'Point', coordinates: [103.9, 1.3] }),
});

function plain(bins) {
  const out = {};
  for (const [k, v] of Object.entries(bins)) {
    // The client writes GeoJSON objects and reads GeoJSON back as its text.
    if (v instanceof Aerospike.GeoJSON) {
      out[k] = v.toJSON();
    } else if (k === 'geo') {
      out[k] = JSON.parse(v);
    } else {
      out[k] = v;
    }
  }
  return out;
}

for (const nodes of [1, 3]) {
  test(`official client with ${nodes} node(s)`, async (t) => {
    const dev = await aerospikeDev(['--nodes', String(nodes)]);
    const client = await connect(dev.hosts);
    t.after(async () => { await client.close(); await dev.proc.stop(); });

    await t.test('discovers every node and routes each key to its owner', async () => {
      await dev.proc.waitFor(() => client.getNodes().length === nodes, 5000, `${nodes} nodes`);
      assert.equal(client.getNodes().length, nodes);
      // 100 keys spread over every node; each put and get must succeed, so
      // the client's partition map matches what the nodes serve.
      for (let i = 0; i < 100; i++) {
        const key = new Aerospike.Key('test', 'route', `k${i}`);
        await client.put(key, { i });
        assert.equal((await client.get(key)).bins.i, i);
      }
    });

    await t.test('every value type round-trips exactly', async () => {
      const key = new Aerospike.Key('test', 'types', 'all');
      const bins = everyType();
      await client.put(key, bins);
      const rec = await client.get(key);
      assert.deepEqual(plain(rec.bins), plain(bins));
      assert.equal(typeof rec.bins.geo, 'string', 'the client returns GeoJSON as its text');
      assert.equal(rec.gen, 1);
    });

    await t.test('integer, string and blob keys address distinct records', async () => {
      const keys = [new Aerospike.Key('test', 'keys', 1), new Aerospike.Key('test', 'keys', '1'),
        new Aerospike.Key('test', 'keys', Buffer.from([1]))];
      for (const [i, key] of keys.entries()) await client.put(key, { which: i });
      for (const [i, key] of keys.entries()) assert.equal((await client.get(key)).bins.which, i);
    });

    await t.test('select, exists, header and remove', async () => {
      const key = new Aerospike.Key('test', 'demo', 'sel');
      await client.put(key, { a: 1, b: 2, c: 3 });
      assert.deepEqual((await client.select(key, ['a', 'c'])).bins, { a: 1, c: 3 });
      assert.equal(await client.exists(key), true);
      const meta = await client.existsWithMetadata(key);
      assert.equal(meta.gen, 1);
      await client.remove(key);
      assert.equal(await client.exists(key), false);
      await assert.rejects(client.get(key), (e) => e.code === status.ERR_RECORD_NOT_FOUND);
      await assert.rejects(client.remove(key), (e) => e.code === status.ERR_RECORD_NOT_FOUND);
    });

    await t.test('updates merge bins, bump the generation, and a null bin deletes it', async () => {
      const key = new Aerospike.Key('test', 'demo', 'upd');
      await client.put(key, { a: 1, b: 2 });
      await client.put(key, { b: 3, c: 4 });
      await client.put(key, { a: null });
      const rec = await client.get(key);
      assert.deepEqual(rec.bins, { b: 3, c: 4 });
      assert.equal(rec.gen, 3);
    });

    await t.test('record-exists actions and generation policies give the server result codes', async () => {
      const key = new Aerospike.Key('test', 'demo', 'pol');
      const missing = new Aerospike.Key('test', 'demo', 'pol-missing');
      await client.put(key, { v: 1 });
      await assert.rejects(client.put(key, { v: 2 }, {}, { exists: Aerospike.policy.exists.CREATE }),
        (e) => e.code === status.ERR_RECORD_EXISTS);
      await assert.rejects(client.put(missing, { v: 2 }, {}, { exists: Aerospike.policy.exists.UPDATE }),
        (e) => e.code === status.ERR_RECORD_NOT_FOUND);
      await assert.rejects(client.put(missing, { v: 2 }, {}, { exists: Aerospike.policy.exists.REPLACE }),
        (e) => e.code === status.ERR_RECORD_NOT_FOUND);
      await client.put(key, { w: 5 }, {}, { exists: Aerospike.policy.exists.CREATE_OR_REPLACE });
      assert.deepEqual((await client.get(key)).bins, { w: 5 });
      await assert.rejects(client.put(key, { v: 3 }, { gen: 99 }, { gen: Aerospike.policy.gen.EQ }),
        (e) => e.code === status.ERR_RECORD_GENERATION);
      await client.put(key, { v: 3 }, { gen: 2 }, { gen: Aerospike.policy.gen.EQ });
      assert.equal((await client.get(key)).gen, 3);
    });

    await t.test('ttl: a given ttl reads back, -1 never expires, above 10 years is a parameter error', async () => {
      const key = new Aerospike.Key('test', 'demo', 'ttl');
      await client.put(key, { v: 1 }, { ttl: 1000 });
      const ttl = (await client.get(key)).ttl;
      assert.ok(ttl > 990 && ttl <= 1000, `ttl ${ttl}`);
      await client.put(key, { v: 1 }, { ttl: -1 });
      assert.equal((await client.get(key)).ttl, -1);
      await assert.rejects(client.put(key, { v: 1 }, { ttl: 11 * 365 * 24 * 3600 }),
        (e) => e.code === status.ERR_REQUEST_INVALID);
    });

    await t.test('a record expires when its ttl passes', async () => {
      const key = new Aerospike.Key('test', 'demo', 'short');
      await client.put(key, { v: 1 }, { ttl: 1 });
      await new Promise((r) => setTimeout(r, 2100));
      assert.equal(await client.exists(key), false);
    });

    await t.test('operate: incr, append, prepend, touch, read, delete', async () => {
      const key = new Aerospike.Key('test', 'demo', 'op');
      await client.put(key, { i: 10, s: 'mid', d: 1.5 });
      const rec = await client.operate(key, [ops.incr('i', 5), ops.incr('d', new Aerospike.Double(1.0)), ops.append('s', '-end'),
        ops.prepend('s', 'start-'), ops.read('i'), ops.read('s'), ops.read('d')]);
      assert.deepEqual(rec.bins, { i: 15, s: 'start-mid-end', d: 2.5 });
      const before = (await client.get(key)).gen;
      await client.operate(key, [ops.touch(500)]);
      const touched = await client.get(key);
      assert.equal(touched.gen, before + 1);
      assert.ok(touched.ttl > 490 && touched.ttl <= 500);
      await assert.rejects(client.operate(key, [ops.incr('s', 1)]),
        (e) => e.code === status.ERR_BIN_INCOMPATIBLE_TYPE);
      await client.operate(key, [ops.delete()]);
      assert.equal(await client.exists(key), false);
    });

    await t.test('operate: list and map operations', async () => {
      const key = new Aerospike.Key('test', 'demo', 'cdt');
      await client.put(key, { l: [1, 2], m: { a: 1 } });
      const r1 = await client.operate(key, [lists.append('l', 3)]);
      assert.equal(r1.bins.l, 3);
      assert.equal((await client.operate(key, [lists.size('l')])).bins.l, 3);
      assert.equal((await client.operate(key, [lists.get('l', -1)])).bins.l, 3);
      assert.equal((await client.operate(key, [lists.getByIndex('l', 0, lists.returnType.VALUE)])).bins.l, 1);
      assert.equal((await client.operate(key, [maps.put('m', 'b', 2)])).bins.m, 2);
      assert.equal((await client.operate(key, [maps.getByKey('m', 'b', maps.returnType.VALUE)])).bins.m, 2);
      assert.equal((await client.operate(key, [maps.size('m')])).bins.m, 2);
      const rec = await client.get(key);
      assert.deepEqual(rec.bins, { l: [1, 2, 3], m: { a: 1, b: 2 } });
    });

    await t.test('batch read: all bins, chosen bins, exists, with missing keys', async () => {
      const keys = [];
      for (let i = 0; i < 20; i++) {
        const key = new Aerospike.Key('test', 'batch', `b${i}`);
        keys.push(key);
        if (i % 4 !== 3) await client.put(key, { i, sq: i * i });
      }
      const all = await client.batchRead(keys.map((key) => ({ key, readAllBins: true })));
      assert.equal(all.length, 20);
      all.forEach((r, i) => {
        if (i % 4 === 3) assert.equal(r.status, status.ERR_RECORD_NOT_FOUND);
        else { assert.equal(r.status, status.OK); assert.deepEqual(r.record.bins, { i, sq: i * i }); }
      });
      const some = await client.batchRead(keys.map((key) => ({ key, bins: ['sq'] })));
      some.forEach((r, i) => { if (i % 4 !== 3) assert.deepEqual(r.record.bins, { sq: i * i }); });
      const exists = await client.batchExists(keys);
      exists.forEach((r, i) => assert.equal(r.status, i % 4 === 3 ? status.ERR_RECORD_NOT_FOUND : status.OK));
    });

    await t.test('an unknown namespace is refused', async () => {
      await assert.rejects(client.put(new Aerospike.Key('nope', 'demo', 1), { v: 1 }));
    });
  });
}

test('a stopped node is routed around and used again when it returns', async (t) => {
  const dev = await aerospikeDev(['--nodes', '3']);
  const client = await connect(dev.hosts);
  t.after(async () => { await client.close(); await dev.proc.stop(); });
  await dev.proc.waitFor(() => client.getNodes().length === 3, 5000, '3 nodes');
  const keys = Array.from({ length: 60 }, (_, i) => new Aerospike.Key('test', 'failover', i));
  for (const key of keys) await client.put(key, { v: 1 });

  await client.infoAny('dev-node-stop:node=1');
  await dev.proc.waitFor(() => client.getNodes().length === 2, 10000, 'node 1 to leave');
  // The client re-reads the partition map; every key is served by the others.
  for (const key of keys) await client.put(key, { v: 2 });

  await client.infoAny('dev-node-start:node=1');
  await dev.proc.waitFor(() => client.getNodes().length === 3, 10000, 'node 1 to return');
  for (const key of keys) assert.equal((await client.get(key)).bins.v, 2);
});

test('fault switches: a chosen result code for every request, then cleared', async (t) => {
  const dev = await aerospikeDev();
  const client = await connect(dev.hosts);
  t.after(async () => { await client.close(); await dev.proc.stop(); });
  const key = new Aerospike.Key('test', 'demo', 'fault');
  await client.infoAny('dev-fault:code=14;ratio=1');
  await assert.rejects(client.put(key, { v: 1 }), (e) => e.code === status.ERR_RECORD_BUSY);
  await client.infoAny('dev-fault:clear');
  await client.put(key, { v: 1 });
  assert.equal((await client.get(key)).bins.v, 1);
});
