import type { Metrics } from '../../metrics';
import type { ReloadResult } from '../../reload';
import type { Store } from '../../store';
import { admin, type Registrar } from './registrar';

export interface SystemRouteDeps {
  store: Store;
  metrics: Metrics;
  reload: () => Promise<ReloadResult>;
  isReady: () => boolean;
}

/** Health, readiness, metrics and reload: what operators and their tools call. */
export function systemRoutes(routes: Registrar, deps: SystemRouteDeps): void {
  routes.post('/-/reload', admin, async (_req, res) => {
    const result = await deps.reload();
    if (result.ok) res.json({ status: 'success', files: result.files, categories: result.categories, restartRequired: result.restartRequired });
    else res.status(500).json({ status: 'error', error: result.error, errors: result.problems });
  });

  routes.get('/metrics', { kind: 'metrics' }, async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  routes.get('/-/healthy', { kind: 'public' }, (_req, res) => {
    res.type('text/plain').send('OK\n');
  });
  routes.get('/-/ready', { kind: 'public' }, async (_req, res) => {
    const ready = deps.isReady() && (await deps.store.ping());
    res.status(ready ? 200 : 503).type('text/plain').send(ready ? 'OK\n' : 'not ready\n');
  });
}
