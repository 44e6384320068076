// Starts aerokafka's dev-stack commands as child processes for the tests and
// stops them by process id. Each command prints NAME=value as its first line.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');

const AEROKAFKA = process.env.AEROKAFKA_BIN ||
  path.resolve(__dirname, '..', '..', '..', 'build', 'aerokafka');

class Proc {
  constructor(args) {
    this.args = args;
    this.child = spawn(AEROKAFKA, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.lines = [];
    this.waiters = [];
    this.stderr = '';
    this.exit = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => !w());
    });
    this.child.stderr.on('data', (d) => { this.stderr += d.toString(); });
  }

  // Resolves with the first line matching re (or rejects after ms).
  waitLine(re, ms = 10000) {
    return this.waitFor(() => this.lines.find((l) => re.test(l)), ms, `a line matching ${re}`);
  }

  // Resolves when predicate() returns a truthy value, polling on new lines
  // and every 20 ms.
  waitFor(predicate, ms = 10000, what = 'a condition') {
    return new Promise((resolve, reject) => {
      let timer = null;
      let poll = null;
      const check = () => {
        const v = predicate();
        if (v) {
          clearTimeout(timer);
          clearInterval(poll);
          resolve(v);
          return true;
        }
        return false;
      };
      if (check()) return;
      timer = setTimeout(() => {
        clearInterval(poll);
        reject(new Error(`timed out waiting for ${what} from aerokafka ${this.args.join(' ')}\n` +
          `stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`));
      }, ms);
      poll = setInterval(check, 20);
      this.waiters.push(check);
    });
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exit;
  }
}

// aerospike-dev: resolves with { proc, seeds: [{addr, port}], hosts }.
async function aerospikeDev(args = []) {
  const proc = new Proc(['aerospike-dev', '--port', '0', ...args]);
  const line = await proc.waitLine(/^AEROSPIKE=/);
  const hosts = line.slice('AEROSPIKE='.length).split(',').map((hp) => {
    const i = hp.lastIndexOf(':');
    return { addr: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
  });
  return { proc, hosts };
}

// xdr-sink: resolves with { proc, address: 'host:port' }.
async function xdrSink(args = []) {
  const proc = new Proc(['xdr-sink', '--listen', '127.0.0.1:0', ...args]);
  const line = await proc.waitLine(/^LISTEN=/);
  return { proc, address: line.slice('LISTEN='.length) };
}

// kafka-dev: resolves with { proc, bootstrap }.
async function kafkaDev(args = []) {
  const proc = new Proc(['kafka-dev', ...args]);
  const line = await proc.waitLine(/^BOOTSTRAP=/);
  return { proc, bootstrap: line.slice('BOOTSTRAP='.length) };
}

// A port nobody listens on right now.
function freePort() {
  const net = require('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

// The outbound connector with the given YAML text; resolves once its
// management API answers. Returns { proc, configPath }.
async function outbound(yamlText, managePort) {
  const fs = require('node:fs');
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ak-outbound-'));
  const configPath = path.join(dir, 'aerospike-kafka-outbound.yml');
  fs.writeFileSync(configPath, yamlText);
  const proc = new Proc(['outbound', '--config', configPath]);
  const deadline = Date.now() + 15000;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`outbound exited ${proc.child.exitCode}: ${proc.stderr}`);
    try {
      const res = await fetch(`http://127.0.0.1:${managePort}/manage/rest/v1/metrics`);
      if (res.ok) break;
    } catch (e) { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`outbound did not start: ${proc.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, configPath, dir };
}

// Consumes count messages of topic from the beginning with kcat; resolves
// with [{ key: Buffer, value: Buffer }] in partition order.
function consume(bootstrap, topic, count, ms = 20000) {
  const { spawn: spawnChild } = require('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawnChild('kcat', ['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-c', String(count),
      '-q', '-f', '%K %S\n%k%s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    let stderr = '';
    const timer = setTimeout(() => { child.kill('SIGTERM'); }, ms);
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', () => {
      clearTimeout(timer);
      const buf = Buffer.concat(chunks);
      const out = [];
      let pos = 0;
      while (pos < buf.length) {
        const nl = buf.indexOf(10, pos);
        if (nl < 0) break;
        const [k, v] = buf.slice(pos, nl).toString().split(' ').map(Number);
        pos = nl + 1;
        const keyLen = k < 0 ? 0 : k;
        const valueLen = v < 0 ? 0 : v;
        out.push({ key: buf.slice(pos, pos + keyLen), value: buf.slice(pos + keyLen, pos + keyLen + valueLen) });
        pos += keyLen + valueLen;
      }
      if (out.length < count) reject(new Error(`kcat got ${out.length} of ${count} messages from ${topic}: ${stderr}`));
      else resolve(out);
    });
  });
}

// The inbound connector with the given YAML text; resolves once its
// management API answers. Returns { proc, configPath, dir, managePort }.
async function inbound(yamlText, managePort, dir) {
  const fs = require('node:fs');
  const os = require('node:os');
  dir = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'ak-inbound-'));
  const configPath = path.join(dir, 'aerospike-kafka-inbound.yml');
  fs.writeFileSync(configPath, yamlText);
  const proc = new Proc(['inbound', '--config', configPath]);
  const deadline = Date.now() + 15000;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`inbound exited ${proc.child.exitCode}: ${proc.stderr}`);
    try {
      const res = await fetch(`http://127.0.0.1:${managePort}/manage/rest/v1/metrics`);
      if (res.ok) break;
    } catch (e) { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`inbound did not start: ${proc.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, configPath, dir, managePort };
}

// Produces records [{ key, value }] (strings or Buffers; value null = a
// tombstone) to topic with kcat, in order. Keys and values must not hold
// the separator bytes (0x1f between key and value, 0x1e between records).
function produce(bootstrap, topic, records, { partition } = {}) {
  const { spawn: spawnChild } = require('node:child_process');
  const args = ['-P', '-b', bootstrap, '-t', topic, '-K', '\x1f', '-D', '\x1e', '-Z', '-q'];
  if (partition !== undefined) args.push('-p', String(partition));
  return new Promise((resolve, reject) => {
    const child = spawnChild('kcat', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat -P exited ${code}: ${stderr}`))));
    const parts = [];
    for (const r of records) {
      parts.push(Buffer.from(r.key === undefined || r.key === null ? '' : r.key));
      parts.push(Buffer.from('\x1f'));
      parts.push(r.value === null ? Buffer.alloc(0) : Buffer.from(r.value));
      parts.push(Buffer.from('\x1e'));
    }
    child.stdin.end(Buffer.concat(parts));
  });
}

// Consumes count messages with their headers (kcat -J):
// [{ key, value, headers: {name: value} }].
function consumeWithHeaders(bootstrap, topic, count, ms = 20000) {
  const { spawn: spawnChild } = require('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawnChild('kcat', ['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-c', String(count),
      '-q', '-J'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let stderr = '';
    const timer = setTimeout(() => { child.kill('SIGTERM'); }, ms);
    child.stdout.on('data', (d) => { text += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', () => {
      clearTimeout(timer);
      const out = text.split('\n').filter((l) => l.trim()).map((l) => {
        const m = JSON.parse(l);
        const headers = {};
        const h = m.headers || [];
        for (let i = 0; i + 1 < h.length; i += 2) headers[h[i]] = h[i + 1];
        return { key: m.key, value: m.payload, headers, partition: m.partition, offset: m.offset };
      });
      if (out.length < count) reject(new Error(`kcat got ${out.length} of ${count} messages from ${topic}: ${stderr}`));
      else resolve(out);
    });
  });
}

module.exports = {
  AEROKAFKA, Proc, aerospikeDev, xdrSink, kafkaDev, freePort, outbound, consume, inbound, produce, consumeWithHeaders,
};
