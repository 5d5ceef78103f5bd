// HTTP load with autocannon: every request takes the next body of a list, round-robin.
import autocannon from 'autocannon';

/**
 * POSTs `bodies` to `url` for `seconds` (or `amount` requests) with `connections` connections.
 * `rate` (requests/s over all connections) makes it an open loop at a fixed rate.
 */
export async function postLoad({ url, bodies, connections, seconds, amount, rate, headers = {} }) {
  let next = 0;
  const result = await autocannon({
    url,
    connections,
    ...(amount ? { amount } : { duration: seconds }),
    ...(rate ? { overallRate: rate } : {}),
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }),
      },
    ],
  });
  return {
    requests: result.requests.total,
    seconds: result.duration,
    requestsPerSecond: result.requests.total / result.duration,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
  };
}

/**
 * Sends every body once (faultdesk opens a fault and queues a ticket for each new key),
 * then `seconds` more of the stream, so that measuring starts on a warm process.
 */
export async function warmUp({ url, bodies, connections, seconds = 2 }) {
  await postLoad({ url, bodies, connections, amount: bodies.length });
  if (seconds > 0) await postLoad({ url, bodies, connections, seconds });
}
