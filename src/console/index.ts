import path from 'node:path';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '../errors';
import { logRefusal, toAppError } from '../http/errors';
import type { Registrar } from '../http/routes/registrar';
import type { Logger } from '../log';
import { faultPages, type FaultPageDeps } from './faults';
import { otherPages, type OtherPageDeps } from './pages';
import { ASSETS, ConsoleViews, type PageFrame } from './render';
import { isConsolePath, type ConsoleSessions, type Session } from './session';

export { ConsoleSessions } from './session';

export interface ConsoleDeps extends FaultPageDeps, OtherPageDeps {
  sessions: ConsoleSessions;
  logger: Logger;
  maxBodyBytes: number;
}

/** What every page handler gets: the frame (who, CSRF, role) and how to answer. */
export interface PageKit {
  views: ConsoleViews;
  /** The frame of this request's page; mints the open console's anonymous session when it has none. */
  frame(req: Request, res: Response, title: string, nav: string): PageFrame;
  send(res: Response, status: number, html: string): void;
  /** Form bodies of the console (url-encoded), with the CSRF token checked. */
  form: RequestHandler[];
}

/** The static files the pages load: ours, and Chart.js from its npm package (no CDN). */
function staticFiles(): Map<string, { file: string; type: string }> {
  const chartDir = path.dirname(require.resolve('chart.js'));
  return new Map([
    ['console.css', { file: path.join(ASSETS, 'static', 'console.css'), type: 'text/css' }],
    ['console.js', { file: path.join(ASSETS, 'static', 'console.js'), type: 'text/javascript' }],
    ['charts.js', { file: path.join(ASSETS, 'static', 'charts.js'), type: 'text/javascript' }],
    ['chart.umd.min.js', { file: path.join(chartDir, 'chart.umd.min.js'), type: 'text/javascript' }],
  ]);
}

/** Headers of every console page: no script or style but our own files, no framing, nothing cached. */
const PAGE_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/**
 * The console at `/`: server-rendered pages that read without JavaScript, a
 * little script for live updates, confirmations and charts. Every route goes
 * through the registrar with its auth decision; the pages read with viewer
 * credentials, the actions need admin and a CSRF token.
 */
export function consoleRoutes(routes: Registrar, deps: ConsoleDeps): ErrorRequestHandler {
  const views = new ConsoleViews();
  const { sessions } = deps;

  const sessionOf = (req: Request, res: Response): Session | undefined => {
    const existing = sessions.read(req);
    if (existing || sessions.secured) return existing;
    const fresh = sessions.anonymous();
    sessions.write(req, res, fresh);
    // Later reads in this request (the CSRF token of the forms) see the new session.
    res.locals.session = fresh;
    return fresh;
  };

  const kit: PageKit = {
    views,
    frame(req, res, title, nav) {
      const session = (res.locals.session as Session | undefined) ?? sessionOf(req, res);
      const principal = res.locals.principal as { role: string; name: string } | undefined;
      return {
        title,
        nav,
        user: principal ? { name: principal.name, role: principal.role } : undefined,
        csrf: session ? sessions.csrf(session) : '',
        secured: sessions.secured,
        canAct: principal?.role === 'admin' && !!session,
      };
    },
    send(res, status, html) {
      res.status(status).set(PAGE_HEADERS).type('html').send(html);
    },
    form: [
      express.urlencoded({ extended: false, limit: deps.maxBodyBytes, parameterLimit: 100 }),
      (req, res, next) => {
        // A form posted from another site's page: its Origin says so, and it cannot know the token.
        const origin = req.get('Origin');
        if (origin && origin !== 'null' && safeHost(origin) !== req.get('Host')) return next(new AppError('forbidden', 'this form came from another site'));
        const session = sessions.read(req);
        const token = (req.body as Record<string, unknown> | undefined)?._csrf;
        if (!session || !sessions.csrfMatches(session, token)) {
          return next(new AppError('forbidden', 'the form has expired or did not come from this console: reload the page and try again'));
        }
        res.locals.session = session;
        next();
      },
    ],
  };

  const files = staticFiles();
  routes.get('/static/:file', { kind: 'public' }, (req, res, next) => {
    const f = files.get(String(req.params.file));
    if (!f) return next(new AppError('not_found', 'file not found'));
    res.set({ 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'public, max-age=300' }).type(f.type).sendFile(f.file);
  });

  const loginPage = (req: Request, res: Response, status: number, error?: string) => {
    const next = typeof req.body?.next === 'string' ? req.body.next : req.method === 'GET' && req.path !== '/login' ? req.originalUrl : String(req.query.next ?? '/');
    const frame: PageFrame = { title: 'Log in', nav: 'login', user: undefined, csrf: '', secured: true, canAct: false };
    kit.send(res, status, views.page('login', frame, { next: localPath(next), error }));
  };

  routes.get('/login', { kind: 'public' }, (req, res) => {
    if (!sessions.secured || sessions.read(req)) return res.redirect(303, localPath(String(req.query.next ?? '/')));
    loginPage(req, res, 200);
  });
  routes.post('/login', { kind: 'public' }, express.urlencoded({ extended: false, limit: 16_384, parameterLimit: 10 }), (req, res, next) => {
    const origin = req.get('Origin');
    if (origin && origin !== 'null' && safeHost(origin) !== req.get('Host')) return next(new AppError('forbidden', 'this form came from another site'));
    const body = (req.body ?? {}) as Record<string, unknown>;
    const session = typeof body.token === 'string' && body.token !== '' ? sessions.login(body.token, typeof body.name === 'string' ? body.name : undefined) : undefined;
    if (!session) {
      deps.logger.info('console login refused');
      return loginPage(req, res, 401, 'That token is neither the admin nor the viewer token.');
    }
    deps.logger.info('console login', { role: session.role, name: session.name });
    sessions.write(req, res, session);
    res.redirect(303, localPath(typeof body.next === 'string' ? body.next : '/'));
  });
  routes.post('/logout', { kind: 'public' }, (req, res) => {
    sessions.end(req, res);
    res.redirect(303, sessions.secured ? '/login' : '/');
  });

  faultPages(routes, deps, kit);
  otherPages(routes, deps, kit);

  // To be used after the routes: errors of console pages answer as pages (the JSON API keeps its JSON errors).
  return consoleErrors(deps.logger, kit, loginPage);
}

function consoleErrors(logger: Logger, kit: PageKit, loginPage: (req: Request, res: Response, status: number) => void): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (!req.route || !isConsolePath(req.path) || res.headersSent) return next(err);
    const error = toAppError(err);
    logRefusal(logger, req.method, req.path, error, err);
    if (error.kind === 'unauthorized') return loginPage(req, res, 401);
    const frame = kit.frame(req, res, 'Error', '');
    kit.send(res, error.status, kit.views.page('error', frame, { status: error.status, message: error.message, fields: error.fields ?? [], back: localPath(req.get('Referer') ?? '/') }));
  };
}

/** A redirect target that stays on this site. */
export function localPath(target: string): string {
  try {
    const url = new URL(target, 'http://console.invalid');
    if (url.host !== 'console.invalid') return '/';
    return `${url.pathname}${url.search}`;
  } catch {
    return '/';
  }
}

function safeHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
