// Storage: bytes a resolved fault takes with its alert, outbox rows and local ticket (record
// attached), counted over SQLite's pages (dbstat) after N faults opened and resolved in-process.
// Usage: npm run build && node bench/storage.mjs [--faults 2000] [--root DIR]
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { root as here } from './lib/daemon.mjs';

export async function benchStorage({ faults = 2000, root = here } = {}) {
  const require = createRequire(path.join(root, 'package.json'));
  const { startDaemon } = require(path.join(root, 'dist/main'));
  const { loadConfig } = require(path.join(root, 'dist/config'));
  const { silentLogger } = require(path.join(root, 'dist/log'));
  const Database = require('better-sqlite3');
  const dir = mkdtempSync(path.join(tmpdir(), 'faultdesk-storage-'));
  const file = path.join(dir, 'db.sqlite');
  try {
    const config = loadConfig({ env: { FAULTDESK_LISTEN: '127.0.0.1:0', FAULTDESK_STORE_URL: `sqlite:${file}`, FAULTDESK_RULES: path.join(root, 'rules') } });
    const daemon = await startDaemon({ config, logger: silentLogger(), startWorkers: false });
    const t0 = Date.now();
    const alert = (n, status) => ({
      source: 'alertmanager',
      sourceId: (0x10000000 + n).toString(16),
      status,
      labels: { alertname: 'TargetDown', job: 'outage', instance: `node-${n}:9100`, severity: 'critical' },
      annotations: { summary: `node-${n} is down`, description: `The node exporter on node-${n} has not answered for 5 minutes.` },
      startsAt: t0,
      endsAt: status === 'resolved' ? Date.now() : undefined,
      receivedAt: Date.now(),
      generatorURL: 'http://127.0.0.1:9090/graph',
    });
    for (const status of ['firing', 'resolved']) {
      for (let i = 0; i < faults; i += 100) await daemon.faults.ingest('alertmanager', Array.from({ length: Math.min(100, faults - i) }, (_, k) => alert(i + k, status)));
      while ((await daemon.outbox.runOnce()) > 0);
    }
    await daemon.stop();
    const db = new Database(file, { readonly: true });
    const byTable = db.prepare('select name, sum(pgsize) as bytes from dbstat group by name order by bytes desc').all();
    const total = byTable.reduce((sum, t) => sum + t.bytes, 0);
    db.close();
    return { faults, bytesPerResolvedFault: Math.round(total / faults), largest: byTable.slice(0, 6).map((t) => ({ name: t.name, bytesPerFault: Math.round(t.bytes / faults) })) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { faults: { type: 'string', default: '2000' }, root: { type: 'string' } } });
  console.log(JSON.stringify(await benchStorage({ faults: Number(values.faults), ...(values.root ? { root: path.resolve(values.root) } : {}) }), null, 2));
}
