import type { Config } from '../config';
import { splitListen } from '../http/listen';

/**
 * Calls the running daemon's API with the admin credentials of its config:
 * people's actions go through the daemon, which is the store's only writer on
 * SQLite and wakes its outbox at once.
 */
export function daemonClient(config: Pick<Config, 'listen' | 'auth'>, url?: string) {
  const base = (url ?? defaultUrl(config.listen)).replace(/\/+$/, '');
  const admin = config.auth.admin;
  const authorization = admin?.bearer_token
    ? `Bearer ${admin.bearer_token}`
    : admin?.basic_auth
      ? `Basic ${Buffer.from(`${admin.basic_auth.username}:${admin.basic_auth.password ?? ''}`).toString('base64')}`
      : undefined;
  return {
    base,
    async post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Faultdesk-Via': 'cli', ...(authorization ? { Authorization: authorization } : {}) },
          body: JSON.stringify(body),
        });
      } catch (err) {
        const why = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
        throw new Error(`cannot reach the daemon at ${base} (${why}); is it running? --url names another address`, { cause: err });
      }
      const text = await res.text();
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = { error: text };
      }
      return { status: res.status, json };
    },
  };
}

/** Where the daemon of this config listens, as a URL this machine can call. */
function defaultUrl(listen: string): string {
  const { host, port } = splitListen(listen);
  const local = !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${local.includes(':') ? `[${local}]` : local}:${port}`;
}
