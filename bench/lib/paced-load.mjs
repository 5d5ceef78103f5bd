// An open-loop load at a steady rate: request i is due at start + i/rate, whatever became of the
// ones before it, and its latency counts from when it was due (a request held back because every
// connection was busy counts its wait). autocannon's overallRate is not that: each connection sends
// its share of a second back to back as soon as the second starts, then waits for the next one,
// so "2,000 alerts/s" arrives as a burst of ten connections once a second and measures the
// answer under that burst, not at the rate.
// The sender shares the machine's cores with what it measures and is itself late at times
// (its timer fires late, its process waits for a core): how late it sent each request is
// reported, and the latency counted from the send beside the one counted from when it was due.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { quantile } from './stats.mjs';

/**
 * POSTs `bodies` round-robin to `url` at `rate` requests a second for `seconds`, over at most
 * `connections` kept-alive connections. Latencies are in milliseconds, to a tenth: `latencyMs` from
 * when each request was due, `fromSendMs` from when the sender got to it (a request waiting for a
 * busy connection counts that wait in both), `sendLagMs` how late the sender got to them.
 */
export async function pacedLoad({ url, bodies, rate, seconds, connections = 10, headers = {} }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(url);
  const total = Math.round(rate * seconds);
  const latencies = [];
  const fromSend = [];
  const lags = [];
  let non2xx = 0;
  let errors = 0;
  let finished = 0;
  const buffers = bodies.map((b) => Buffer.from(b));
  const start = performance.now() + 20;
  const dueAt = (i) => start + (i * 1000) / rate;

  const send = (i) => {
    const due = dueAt(i);
    const sentAt = performance.now();
    lags.push(sentAt - due);
    const body = buffers[i % buffers.length];
    const done = (ok) => {
      if (ok) {
        const end = performance.now();
        latencies.push(end - due);
        fromSend.push(end - sentAt);
      }
      finished++;
    };
    const req = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length, ...headers },
      },
      (res) => {
        if (res.statusCode < 200 || res.statusCode >= 300) non2xx++;
        res.resume();
        res.on('end', () => done(res.statusCode >= 200 && res.statusCode < 300));
        res.on('error', () => {
          errors++;
          done(false);
        });
      },
    );
    req.on('error', () => {
      errors++;
      done(false);
    });
    req.end(body);
  };

  await new Promise((resolve) => {
    let sent = 0;
    const tick = () => {
      const now = performance.now();
      while (sent < total && dueAt(sent) <= now) send(sent++);
      if (sent < total) setTimeout(tick, Math.max(0, dueAt(sent) - performance.now()));
      else resolve();
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  // The answers still on their way, for at most 30 s.
  const until = performance.now() + 30_000;
  while (finished < total && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
  agent.destroy();
  const elapsed = (performance.now() - start) / 1000;
  for (const list of [latencies, fromSend, lags]) list.sort((a, b) => a - b);
  const ms = (x) => Math.round(x * 10) / 10;
  const summary = (sorted) => ({ p50: ms(quantile(sorted, 0.5)), p90: ms(quantile(sorted, 0.9)), p99: ms(quantile(sorted, 0.99)), max: ms(sorted.at(-1) ?? NaN) });
  return {
    requests: latencies.length,
    seconds: elapsed,
    requestsPerSecond: latencies.length / seconds,
    non2xx,
    errors: errors + (total - finished),
    latencyMs: summary(latencies),
    fromSendMs: summary(fromSend),
    sendLagMs: summary(lags),
  };
}
