// Raw HTTP/1.1 over a TCP socket, for the tests that must send what fetch() never would
// (ambiguous framing, repeated headers, stalled bodies) and observe exactly what comes back:
// every response on the connection, and whether and when the server closed it.
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';

// Opens a connection; resolves once connected. When the suite runs over TLS (run-tls.mjs sets
// ISVC_TLS_CERT and NODE_EXTRA_CA_CERTS), the same bytes go over a verified TLS connection.
export function connect(port) {
  return new Promise((resolve, reject) => {
    const s = process.env.ISVC_TLS_CERT
      ? tls.connect({ port, host: '127.0.0.1', servername: 'localhost' }, () => resolve(new RawConnection(s)))
      : net.connect(port, '127.0.0.1', () => resolve(new RawConnection(s)));
    s.once('error', reject);
  });
}

export class RawConnection {
  constructor(socket) {
    this.socket = socket;
    this.chunks = [];  // joined on demand: a large body arrives in thousands of chunks
    this.receivedLength = 0;
    this.closed = false;
    this.closedAt = null;
    this.waiters = [];
    socket.on('data', (d) => { this.chunks.push(d); this.receivedLength += d.length; this.wake(); });
    socket.on('close', () => { this.closed = true; this.closedAt = Date.now(); this.wake(); });
    socket.on('error', () => {});  // a reset shows as close
  }

  get received() {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  write(data) {
    if (this.closed || this.socket.destroyed) return Promise.resolve(false);
    return new Promise((resolve) => this.socket.write(data, (err) => resolve(!err)));
  }

  // Waits until `predicate()` holds, or fails after `ms`.
  async until(predicate, ms, what) {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}; got ${this.text().slice(0, 300)}`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  text() { return this.received.toString('latin1'); }

  // The responses received so far: [{status, headers, body}] (Content-Length framing only).
  responses() {
    const out = [];
    let rest = this.text();
    while (true) {
      const end = rest.indexOf('\r\n\r\n');
      if (end < 0) break;
      const head = rest.slice(0, end).split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0])?.[1]);
      const headers = {};
      for (const line of head.slice(1)) {
        const c = line.indexOf(':');
        headers[line.slice(0, c).toLowerCase()] = line.slice(c + 1).trim();
      }
      const len = status === 304 || status === 204 || status < 200 ? 0 : Number(headers['content-length'] ?? 0);
      if (rest.length < end + 4 + len) break;
      out.push({ status, headers, body: rest.slice(end + 4, end + 4 + len) });
      rest = rest.slice(end + 4 + len);
    }
    return out;
  }

  async response(n = 1, ms = 5000) {
    await this.until(() => this.responses().length >= n || this.closed, ms, `${n} response(s)`);
    return this.responses()[n - 1];
  }

  async waitClosed(ms = 5000) {
    await this.until(() => this.closed, ms, 'the server to close the connection');
  }

  destroy() { this.socket.destroy(); }
}

// The service's current resident set, in MB.
export function rssMb(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
}

// Samples the RSS every `everyMs` until stop() is called; stop() returns the maximum seen.
export function sampleRss(pid, everyMs = 20) {
  let max = rssMb(pid);
  const timer = setInterval(() => { try { max = Math.max(max, rssMb(pid)); } catch { /* exited */ } }, everyMs);
  return { stop: () => { clearInterval(timer); try { max = Math.max(max, rssMb(pid)); } catch { /* exited */ } return max; } };
}

// One sample of a Prometheus series from GET /metrics (0 when absent).
export async function metric(base, name, labels = '') {
  const text = await (await fetch(`${base}/metrics`, { headers: { accept: 'text/plain' } })).text();
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}}` : `${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
