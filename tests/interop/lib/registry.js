// A fake Confluent Schema Registry on node:http, enough for kafka-avro:
// POST /subjects/<subject>/versions registers {"schema": "..."} and answers
// {"id": N} (one id per distinct schema text, from 1), POST /subjects/<subject>
// looks a registered schema up, GET /schemas/ids/<id> answers {"schema": ...}.
// Every request is recorded for the tests.
'use strict';
const http = require('node:http');

async function schemaRegistry() {
  const requests = [];
  const ids = new Map(); // schema text -> id
  const subjects = new Map(); // subject -> Set of schema texts
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const url = new URL(req.url, 'http://registry');
      const entry = { method: req.method, path: url.pathname, contentType: req.headers['content-type'], body };
      requests.push(entry);
      const reply = (status, obj) => {
        res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
        res.end(JSON.stringify(obj));
      };
      let parsed;
      try { parsed = JSON.parse(body || '{}'); } catch (e) { reply(422, { error_code: 42201, message: 'not JSON' }); return; }
      const byId = /^\/schemas\/ids\/(\d+)$/.exec(url.pathname);
      if (req.method === 'GET' && byId) {
        const want = Number(byId[1]);
        const found = [...ids.entries()].find(([, id]) => id === want);
        if (found) reply(200, { schema: found[0] });
        else reply(404, { error_code: 40403, message: 'Schema not found' });
        return;
      }
      const m = /^\/subjects\/([^/]+)(\/versions)?$/.exec(url.pathname);
      if (req.method !== 'POST' || !m || typeof parsed.schema !== 'string') {
        reply(404, { error_code: 40401, message: `no route ${req.method} ${url.pathname}` });
        return;
      }
      const subject = decodeURIComponent(m[1]);
      entry.subject = subject;
      entry.schema = parsed.schema;
      if (m[2]) {
        if (!ids.has(parsed.schema)) ids.set(parsed.schema, ids.size + 1);
        if (!subjects.has(subject)) subjects.set(subject, new Set());
        subjects.get(subject).add(parsed.schema);
        reply(200, { id: ids.get(parsed.schema) });
      } else if (subjects.has(subject) && subjects.get(subject).has(parsed.schema)) {
        reply(200, { subject, id: ids.get(parsed.schema), version: 1, schema: parsed.schema });
      } else {
        reply(404, { error_code: 40403, message: 'Schema not found' });
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    ids,
    subjects,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

module.exports = { schemaRegistry };
