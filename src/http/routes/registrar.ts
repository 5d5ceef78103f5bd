import type express from 'express';
import type { RequestHandler } from 'express';
import { guard, type Access, type AccessControl } from '../auth';

export interface RouteEntry {
  method: 'GET' | 'POST';
  path: string;
  access: Access;
}

/**
 * Adds routes with their auth decision in front: a route cannot be added
 * through it without one (and test/http/access.test.ts checks the app's whole
 * route table, so one added around it is caught too).
 */
export function createRegistrar(app: express.Express, control: AccessControl) {
  const table: RouteEntry[] = [];
  const add =
    (method: RouteEntry['method']) =>
    (path: string, access: Access, ...handlers: RequestHandler[]): void => {
      table.push({ method, path, access });
      const register = method === 'GET' ? app.get.bind(app) : app.post.bind(app);
      register(path, guard(control, access), ...handlers);
    };
  return { get: add('GET'), post: add('POST'), table };
}

export type Registrar = ReturnType<typeof createRegistrar>;

export const viewer: Access = { kind: 'role', role: 'viewer' };
export const admin: Access = { kind: 'role', role: 'admin' };
