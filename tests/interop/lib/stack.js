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

module.exports = { AEROKAFKA, Proc, aerospikeDev, xdrSink };
