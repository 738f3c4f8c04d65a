#!/usr/bin/env node
// The S3 the download tests talk to: s3rver (a real S3-compatible server) on loopback,
// with a proxy of ours in front that s3rver lacks:
//   * verifies AWS SigV4 with an independent signer (npm aws4), so a wrong secret is a
//     403 SignatureDoesNotMatch as on AWS; anonymous requests pass only for --public
//     buckets;
//   * injects faults on request, per object: faults.json in the control folder maps
//     "bucket/key" to a list consumed one entry per request (then requests pass):
//     "500" "503" "429" "403" "404" (S3 XML errors), "reset" (headers and half the body,
//     then the connection is reset), "truncate" (half the body, then a clean close),
//     "stall" (half the body, then silence for stall_ms), "corrupt" (one byte flipped,
//     same length). {"generation": n, ...}: a new generation restarts the counters.
//   * logs every request as one JSON line in <control>/requests.jsonl.
// Prints {"port":P,"s3rver_port":Q} on stdout when ready; exits when stdin closes.
//
// node s3_test_server.js --data DIR --objects DIR --control DIR --access-key AK
//   --secret-key SK [--session-token T] [--public BUCKET]...
// Objects: every file under --objects/<bucket>/<key...> is uploaded at start; each
// first-level folder is a bucket.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const aws4 = require('aws4');
const S3rver = require('s3rver');

function parseArgs(argv) {
  const out = { public: [] };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-/g, '_');
    if (key === 'public') out.public.push(argv[i + 1]);
    else out[key] = argv[i + 1];
  }
  return out;
}
const args = parseArgs(process.argv);

function listFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

function s3Error(res, status, code, message, extra = {}) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
    `<Message>${message}</Message></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

// Which bucket and key a request names: virtual-hosted (<bucket>.localhost) or path-style.
function target(req) {
  const host = (req.headers.host || '').replace(/:\d+$/, '');
  const [rawPath] = req.url.split('?');
  if (host.endsWith('.localhost')) {
    return { bucket: host.slice(0, -'.localhost'.length), key: decodeURIComponent(rawPath.slice(1)), vhost: true };
  }
  const rest = rawPath.slice(1);
  const slash = rest.indexOf('/');
  if (slash < 0) return { bucket: decodeURIComponent(rest), key: '', vhost: false };
  return { bucket: decodeURIComponent(rest.slice(0, slash)), key: decodeURIComponent(rest.slice(slash + 1)), vhost: false };
}

// SigV4: recompute the signature with aws4 over exactly the headers the client signed.
function verify(req) {
  const auth = req.headers.authorization;
  if (!auth) return { ok: false, anonymous: true };
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { ok: false, status: 400, code: 'AuthorizationHeaderMalformed', message: 'The authorization header is malformed' };
  const [, accessKey, , region, service, signedList, signature] = m;
  if (accessKey !== args.access_key) {
    return { ok: false, status: 403, code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
  }
  const signed = signedList.split(';');
  if (!signed.includes('x-amz-content-sha256') || !req.headers['x-amz-content-sha256']) {
    return { ok: false, status: 400, code: 'InvalidRequest', message: 'Missing required header for this request: x-amz-content-sha256', region };
  }
  if (args.session_token && (req.headers['x-amz-security-token'] !== args.session_token || !signed.includes('x-amz-security-token'))) {
    return { ok: false, status: 403, code: 'InvalidToken', message: 'The provided token is malformed or otherwise invalid.', region };
  }
  const headers = {};
  const include = {};
  for (const h of signed) {
    if (req.headers[h] === undefined) {
      return { ok: false, status: 403, code: 'SignatureDoesNotMatch', message: `signed header ${h} is missing`, region };
    }
    headers[h] = req.headers[h];
    include[h] = true;
  }
  const request = { host: req.headers.host, path: req.url, method: req.method, service, region, headers, extraHeadersToInclude: include };
  aws4.sign(request, { accessKeyId: args.access_key, secretAccessKey: args.secret_key, sessionToken: args.session_token });
  const expected = /Signature=([0-9a-f]{64})/.exec(request.headers.Authorization)[1];
  if (expected !== signature) {
    return { ok: false, status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', region };
  }
  return { ok: true, region };
}

const counters = new Map();
let generation = null;
function nextFault(id) {
  let spec = {};
  try {
    spec = JSON.parse(fs.readFileSync(path.join(args.control, 'faults.json'), 'utf8'));
  } catch (e) {
    return { fault: null, spec };
  }
  if (spec.generation !== generation) {
    generation = spec.generation;
    counters.clear();
  }
  const list = (spec.faults || {})[id] || [];
  const n = counters.get(id) || 0;
  counters.set(id, n + 1);
  return { fault: n < list.length ? list[n] : null, spec };
}

function log(entry) {
  fs.appendFileSync(path.join(args.control, 'requests.jsonl'), JSON.stringify(entry) + '\n');
}

async function main() {
  fs.mkdirSync(args.data, { recursive: true });
  fs.mkdirSync(args.control, { recursive: true });
  const objectsRoot = args.objects;
  const buckets = objectsRoot ? fs.readdirSync(objectsRoot, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : [];
  const s3 = new S3rver({
    port: 0, address: '127.0.0.1', silent: true, directory: args.data,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port: s3port } = await s3.run();

  // Seed the objects straight into s3rver (it takes unsigned requests).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const uploads = [];
  for (const bucket of buckets) {
    for (const file of listFiles(path.join(objectsRoot, bucket))) {
      const key = path.relative(path.join(objectsRoot, bucket), file).split(path.sep).join('/');
      const body = fs.readFileSync(file);
      uploads.push(new Promise((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1', port: s3port, method: 'PUT', agent,
          path: '/' + bucket + '/' + key.split('/').map(encodeURIComponent).join('/'),
          headers: { 'Content-Length': body.length },
        }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${key}: ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end(body);
      }));
      if (uploads.length >= 16) await Promise.all(uploads.splice(0));
    }
  }
  await Promise.all(uploads);

  const upstreamAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const proxy = http.createServer((req, res) => {
    const t = target(req);
    const id = `${t.bucket}/${t.key}`;
    const auth = verify(req);
    const entry = { method: req.method, bucket: t.bucket, key: t.key, vhost: t.vhost, region: auth.region || null, signed: !auth.anonymous };
    if (!auth.ok) {
      if (auth.anonymous && args.public.includes(t.bucket)) {
        // a public bucket: anonymous reads pass
      } else if (auth.anonymous) {
        entry.status = 403;
        log(entry);
        return s3Error(res, 403, 'AccessDenied', 'Access Denied');
      } else {
        entry.status = auth.status;
        entry.error = auth.code;
        log(entry);
        return s3Error(res, auth.status, auth.code, auth.message);
      }
    }
    const { fault, spec } = nextFault(id);
    entry.fault = fault;
    const statusFaults = { 500: 'InternalError', 503: 'SlowDown', 429: 'TooManyRequests', 403: 'AccessDenied', 404: 'NoSuchKey' };
    if (fault && statusFaults[fault]) {
      entry.status = Number(fault);
      log(entry);
      return s3Error(res, Number(fault), statusFaults[fault], `injected ${fault}`);
    }
    const upstreamPath = t.vhost ? '/' + t.bucket + req.url : req.url;
    const headers = { ...req.headers, host: `127.0.0.1:${s3port}` };
    delete headers.authorization;  // s3rver would try (and fail) to check it itself
    const up = http.request({ host: '127.0.0.1', port: s3port, method: req.method, path: upstreamPath, headers, agent: upstreamAgent }, (upres) => {
      const chunks = [];
      upres.on('data', (c) => chunks.push(c));
      upres.on('end', () => {
        let body = Buffer.concat(chunks);
        entry.status = upres.statusCode;
        entry.bytes = body.length;
        log(entry);
        const half = Math.floor(body.length / 2);
        if (fault === 'corrupt' && body.length > 0) {
          body = Buffer.from(body);
          body[half] ^= 0xff;
        }
        res.writeHead(upres.statusCode, upres.headers);
        if (fault === 'reset') {
          res.write(body.subarray(0, half), () => setTimeout(() => req.socket.resetAndDestroy ? req.socket.resetAndDestroy() : req.socket.destroy(), 20));
        } else if (fault === 'truncate') {
          res.write(body.subarray(0, half), () => setTimeout(() => req.socket.end(), 20));
        } else if (fault === 'stall') {
          res.write(body.subarray(0, half));
          setTimeout(() => req.socket.destroy(), spec.stall_ms || 10000);
        } else {
          res.end(body);
        }
      });
    });
    up.on('error', (e) => {
      entry.status = 502;
      entry.error = e.message;
      log(entry);
      s3Error(res, 502, 'BadGateway', e.message);
    });
    req.pipe(up);
  });
  proxy.keepAliveTimeout = 30000;
  proxy.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: proxy.address().port, s3rver_port: s3port }) + '\n');
  });
  const stop = () => {
    proxy.close();
    s3.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  process.stderr.write(`s3_test_server: ${e.stack || e}\n`);
  process.exit(1);
});
