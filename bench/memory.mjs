// Memory: the daemon's resident set size with 100,000 open faults (one alert each,
// 100 to a payload), sampled while they open and after their tickets are created.
// Usage: npm run build && node bench/memory.mjs [--faults 100000] [--root DIR (another checkout's build)]
import { parseArgs } from 'node:util';
import { startDaemon, waitOutboxEmpty } from './lib/daemon.mjs';
import { bodies } from './lib/payloads.mjs';
import { postLoad } from './lib/load.mjs';
import { rssBytes } from './lib/processes.mjs';

const MiB = 2 ** 20;

export async function benchMemory({ faults = 100_000, perPayload = 100, root, log = console.error } = {}) {
  const daemon = await startDaemon({ port: 19597, ...(root ? { root } : {}) });
  let peak = rssBytes(daemon.pid);
  // The highest RSS of each phase, so that a peak can be told to come from opening, tickets or repeats.
  const phasePeaks = {};
  let phase = 'opening';
  const sampler = setInterval(() => {
    const rss = rssBytes(daemon.pid);
    peak = Math.max(peak, rss);
    phasePeaks[phase] = Math.max(phasePeaks[phase] ?? 0, rss);
  }, 100);
  try {
    const idle = rssBytes(daemon.pid);
    const started = Date.now();
    const all = bodies(faults / perPayload, perPayload, faults, 'webhook');
    await postLoad({ url: `${daemon.base}/api/v1/alerts/alertmanager`, bodies: all, connections: 4, amount: all.length });
    const openSeconds = (Date.now() - started) / 1000;
    const afterOpen = rssBytes(daemon.pid);
    log(`memory: ${faults} faults open in ${openSeconds.toFixed(1)} s, RSS ${Math.round(afterOpen / MiB)} MiB; waiting for their tickets`);
    phase = 'tickets';
    await waitOutboxEmpty(daemon.base, 600_000);
    const afterTickets = rssBytes(daemon.pid);
    phase = 'repeats';
    // Every alert once more: all of them repeats now, answered from memory.
    await postLoad({ url: `${daemon.base}/api/v1/alerts/alertmanager`, bodies: all, connections: 4, amount: all.length });
    const afterRepeats = rssBytes(daemon.pid);
    const open = await (await fetch(`${daemon.base}/metrics`)).text();
    const openFaults = open
      .split('\n')
      .filter((l) => l.startsWith('faultdesk_faults{') && l.includes('state="open"'))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    return {
      faults,
      openFaults,
      secondsToOpen: Math.round(openSeconds),
      secondsUntilTicketsCreated: Math.round((Date.now() - started) / 1000),
      rssMiB: {
        idle: Math.round(idle / MiB),
        afterOpening: Math.round(afterOpen / MiB),
        afterTickets: Math.round(afterTickets / MiB),
        afterRepeats: Math.round(afterRepeats / MiB),
        peak: Math.round(Math.max(peak, afterRepeats) / MiB),
        peakByPhase: Object.fromEntries(Object.entries(phasePeaks).map(([k, v]) => [k, Math.round(v / MiB)])),
      },
    };
  } finally {
    clearInterval(sampler);
    await daemon.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { faults: { type: 'string', default: '100000' }, root: { type: 'string' } } });
  console.log(JSON.stringify(await benchMemory({ faults: Number(values.faults), root: values.root }), null, 2));
}
