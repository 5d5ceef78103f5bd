import type { AxiosInstance } from 'axios';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { OperationHandler } from '../outbox/worker';
import type { Store } from '../store';
import { AlertmanagerTarget } from './alertmanager';
import { WritebackHandler } from './handler';
import { createWritebackMetrics, registerAgentBacklog } from './metrics';
import { NagiosTarget } from './nagios';
import type { WritebackTarget } from './target';
import { ZabbixTarget } from './zabbix';

export { AlertmanagerTarget, silenceMatchers } from './alertmanager';
export { ZabbixTarget, zabbixError, ZABBIX_ACTION } from './zabbix';
export { NagiosTarget, acknowledgeCommands, cleanField, commandLine, writeCommandFile } from './nagios';
export { WritebackHandler } from './handler';
export { renewSilences } from './renew';
export { MutedAlertsWatch } from './muted-alerts';
export type { WritebackTarget, WritebackContext, WritebackPlan, WritebackPayload } from './target';

export type WritebackConfig = NonNullable<Config['writeback']>;

/** The targets the config names, in a fixed order (one outbox system each, named after its source). */
export function createTargets(config: WritebackConfig | undefined, axios?: AxiosInstance): WritebackTarget[] {
  if (!config) return [];
  const targets: WritebackTarget[] = [];
  const am = config.alertmanager;
  if (am) {
    targets.push(
      new AlertmanagerTarget({
        urls: am.urls,
        silenceForMs: am.silence_for,
        timeoutMs: am.timeout,
        bearerToken: am.bearer_token,
        basicAuth: am.basic_auth ? { username: am.basic_auth.username, password: am.basic_auth.password } : undefined,
        axios,
      }),
    );
  }
  const zbx = config.zabbix;
  if (zbx?.api_token) targets.push(new ZabbixTarget({ url: zbx.url, apiToken: zbx.api_token, closeOnTicketClose: zbx.close_on_ticket_close, timeoutMs: zbx.timeout, axios }));
  const nagios = config.nagios;
  if (nagios) targets.push(new NagiosTarget({ commandFile: nagios.command_file, author: nagios.author }));
  return targets;
}

export interface WritebackDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  axios?: AxiosInstance;
}

/** The outbox handlers of the configured write-back targets, with their metrics, and the Alertmanager target (its muted alerts are watched). */
export function createWriteback(config: WritebackConfig | undefined, deps: WritebackDeps): { handlers: OperationHandler[]; alertmanager?: AlertmanagerTarget } {
  const targets = createTargets(config, deps.axios);
  if (targets.length === 0) return { handlers: [] };
  const metrics = createWritebackMetrics(
    deps.registry,
    targets.map((t) => t.system),
  );
  const handlers = targets.map((target) => new WritebackHandler({ store: deps.store, target, clock: deps.clock, logger: deps.logger, metrics, dryRun: config?.dry_run ?? false }));
  if (config?.nagios && !config.nagios.command_file) registerAgentBacklog(deps.registry, 'nagios', deps.store, deps.clock);
  const alertmanager = targets.find((t): t is AlertmanagerTarget => t instanceof AlertmanagerTarget);
  return { handlers, ...(alertmanager ? { alertmanager } : {}) };
}
