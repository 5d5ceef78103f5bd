import { z } from 'zod';
import type { Clock } from '../../clock';
import { notFound } from '../../errors';
import type { Logger } from '../../log';
import type { Store } from '../../store';
import { parseBody, parseQuery } from './query';
import type { Registrar } from './registrar';

export interface WritebackRouteDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
}

const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** text: one `id<TAB>line` per line, for the shell agent; json otherwise (or by the Accept header). */
  format: z.enum(['json', 'text']).optional(),
});
const idParam = z.strictObject({ id: z.coerce.number().int().positive() });

/**
 * The Nagios agent's side of write-back: the commands waiting for it (each a
 * cleaned, single line for nagios.cmd), and its confirmation of each one it
 * wrote. A command stays in the list until confirmed, so an agent that died
 * between writing and confirming writes it again (an acknowledgement twice is harmless).
 */
export function writebackRoutes(routes: Registrar, deps: WritebackRouteDeps): void {
  const { store, clock, logger } = deps;
  const agent = { kind: 'agent', agent: 'nagios' } as const;

  routes.get('/api/v1/writeback/nagios', agent, async (req, res) => {
    const q = parseQuery(listQuery, req);
    const commands = await store.repos.writebacks.fetchCommands('nagios', q.limit, clock.now());
    const text = q.format === 'text' || (q.format === undefined && req.accepts(['application/json', 'text/plain']) === 'text/plain');
    if (text) {
      res.type('text/plain; charset=utf-8').send(commands.map((c) => `${c.id}\t${c.command}\n`).join(''));
      return;
    }
    res.json({ commands: commands.map((c) => ({ id: c.id, fault: c.fault_id, line: c.command, createdAt: new Date(c.created_at).toISOString() })) });
  });

  routes.post('/api/v1/writeback/nagios/:id/done', agent, async (req, res) => {
    const { id } = parseBody(idParam, { id: req.params.id }, 'path');
    // Confirmed before (the agent retried its confirmation) is fine; never queued is not.
    const result = await store.repos.writebacks.completeCommand('nagios', id, clock.now());
    if (result === 'unknown') throw notFound(`nagios command ${id}`);
    logger.debug('nagios agent wrote a command', { command: id, by: res.locals.principal?.name });
    res.json({ status: 'success', id, result });
  });
}
