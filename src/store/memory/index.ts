import type {
  AlertRow,
  FaultRow,
  FitRow,
  LocalTicketAttachmentInfo,
  LocalTicketCommentRow,
  LocalTicketRow,
  OutboxRow,
  RatingRow,
  Repos,
  Store,
  WritebackCommandRow,
  WritebackRow,
} from '../types';

/** The tables of the in-memory store; rows are plain objects, copied in and out like a database would. */
interface Tables {
  faults: Map<string, FaultRow>;
  alerts: Map<number, AlertRow>;
  outbox: Map<number, OutboxRow>;
  tickets: Map<number, LocalTicketRow>;
  comments: Map<number, LocalTicketCommentRow & { op_key: string | null }>;
  attachments: Map<number, LocalTicketAttachmentInfo & { content: string }>;
  fits: FitRow[];
  ratings: Array<RatingRow & { id: number }>;
  inboundSeen: Map<string, number>;
  cursors: Map<string, { value: string; updated_at: number }>;
  writebacks: Map<string, WritebackRow>;
  commands: Map<number, WritebackCommandRow>;
  ids: { alert: number; outbox: number; ticket: number; comment: number; attachment: number; rating: number; command: number };
}

const HOLDS_LINE = new Set(['pending', 'running', 'parked']);

function emptyTables(): Tables {
  return {
    faults: new Map(),
    alerts: new Map(),
    outbox: new Map(),
    tickets: new Map(),
    comments: new Map(),
    attachments: new Map(),
    fits: [],
    ratings: [],
    inboundSeen: new Map(),
    cursors: new Map(),
    writebacks: new Map(),
    commands: new Map(),
    ids: { alert: 0, outbox: 0, ticket: 0, comment: 0, attachment: 0, rating: 0, command: 0 },
  };
}

function copyTables(t: Tables): Tables {
  const copyMap = <K, V extends object>(m: Map<K, V>) => new Map([...m].map(([k, v]) => [k, { ...v }]));
  return {
    faults: copyMap(t.faults),
    alerts: copyMap(t.alerts),
    outbox: copyMap(t.outbox),
    tickets: copyMap(t.tickets),
    comments: copyMap(t.comments),
    attachments: copyMap(t.attachments),
    fits: t.fits.map((f) => ({ ...f })),
    ratings: t.ratings.map((r) => ({ ...r })),
    inboundSeen: new Map(t.inboundSeen),
    cursors: copyMap(t.cursors),
    writebacks: copyMap(t.writebacks),
    commands: copyMap(t.commands),
    ids: { ...t.ids },
  };
}

const byId = <T extends { id: number | string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const copy = <T extends object>(row: T): T => ({ ...row });

function unique(violation: string): Error {
  return Object.assign(new Error(`UNIQUE constraint failed: ${violation}`), { code: 'SQLITE_CONSTRAINT_UNIQUE' });
}

/**
 * The in-memory fake of every stage's store: the same contract as the SQL
 * stores (test/store/contract.test.ts runs one suite against both), for the
 * unit tests of the core. A transaction works on a copy of the tables and
 * swaps it in when the work succeeds, so a failed one leaves nothing behind.
 * One process, no locks: it stands for SQLite, not for replicas.
 */
export function memoryStore(): Store {
  let tables = emptyTables();
  let queue: Promise<unknown> = Promise.resolve();
  // Outside a transaction every call commits on its own, in line with the transactions.
  const autocommit = new Proxy({} as Repos, {
    get: (_target, stage: string) =>
      new Proxy(
        {},
        {
          get:
            (_t, method: string) =>
            (...args: unknown[]) =>
              store.transaction((tx) => (tx[stage as keyof Repos] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!(...args)),
        },
      ),
  });
  const store: Store = {
    dialect: 'memory',
    repos: autocommit,
    jobs: {
      async runOnce(_name, _now, work) {
        await work();
        return true;
      },
    },
    transaction<T>(work: (tx: Repos) => Promise<T>): Promise<T> {
      // One transaction at a time, like SQLite's one writer.
      const run = queue.then(async () => {
        const draft = copyTables(tables);
        const result = await work(memoryRepos(() => draft));
        tables = draft;
        return result;
      });
      queue = run.catch(() => undefined);
      return run;
    },
    ping: async () => true,
    sizeBytes: async () => Buffer.byteLength(JSON.stringify({ ...tables, faults: [...tables.faults.values()], alerts: [...tables.alerts.values()], outbox: [...tables.outbox.values()] })),
    compact: async () => 0,
    isRetryable: (err) => (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE',
    close: async () => undefined,
  };
  return store;
}

function memoryRepos(current: () => Tables): Repos {
  const t = () => current();
  const faultsWhere = (pred: (f: FaultRow) => boolean) => [...t().faults.values()].filter(pred).map(copy);
  const liveInCurrent = (f: FaultRow) => f.current === 1 && f.state !== 'resolved';

  function checkFaultIdent(row: FaultRow): void {
    if (row.current === null) return;
    for (const other of t().faults.values()) {
      if (other.id !== row.id && other.current === row.current && other.ident === row.ident) throw unique('faults.ident, faults.current');
    }
  }

  return {
    faults: {
      locksRows: false,
      findCurrent: async (idents) => {
        const wanted = new Set(idents);
        return faultsWhere((f) => f.current === 1 && wanted.has(f.ident)).sort(byId);
      },
      getMany: async (ids) => {
        const wanted = new Set(ids);
        return faultsWhere((f) => wanted.has(f.id)).sort(byId);
      },
      get: async (id) => {
        const f = t().faults.get(id);
        return f && copy(f);
      },
      insertMany: async (rows) => {
        for (const row of rows) {
          if (t().faults.has(row.id)) throw unique('faults.id');
          checkFaultIdent(row);
          t().faults.set(row.id, copy(row));
        }
      },
      updateMany: async (rows) => {
        for (const row of rows) {
          checkFaultIdent(row);
          t().faults.set(row.id, copy(row));
        }
      },
      setTicket: async (id, ticket) => {
        const f = t().faults.get(id);
        if (f) Object.assign(f, ticket);
      },
      list: async (filter) =>
        faultsWhere(
          (f) =>
            (!filter.state || f.state === filter.state) &&
            (!filter.states || filter.states.includes(f.state)) &&
            (!filter.category || f.category === filter.category) &&
            (!filter.tier || f.tier === filter.tier) &&
            (filter.acknowledged === undefined || (f.acknowledged_at !== null) === filter.acknowledged),
        )
          .sort(
            (a, b) =>
              (filter.order === 'urgency' ? Number(a.state === 'resolved') - Number(b.state === 'resolved') || b.severity - a.severity : 0) ||
              b.opened_at - a.opened_at ||
              (a.id < b.id ? -1 : 1),
          )
          .slice(filter.offset, filter.offset + filter.limit),
      listCurrentInState: async (state) => faultsWhere((f) => f.current === 1 && f.state === state),
      resolvedSince: async (since) =>
        faultsWhere((f) => f.state === 'resolved' && f.stale === 0 && (f.resolved_at ?? -Infinity) >= since).map((f) => ({
          category: f.category,
          severity: f.severity,
          opened_at: f.opened_at,
          resolved_at: f.resolved_at,
        })),
      overdueNotFlagged: async (now) => faultsWhere((f) => liveInCurrent(f) && f.due_at < now && f.at_risk_at === null),
      countOverdue: async (now) => faultsWhere((f) => liveInCurrent(f) && f.due_at < now).length,
      findByTicket: async (system, ticketId) => faultsWhere((f) => f.ticket_system === system && f.ticket_id === ticketId)[0],
      countByState: async () => {
        const out: Record<string, number> = {};
        for (const f of t().faults.values()) if (f.current === 1) out[f.state] = (out[f.state] ?? 0) + 1;
        return out;
      },
      countByTier: async () => {
        const counts = new Map<string, number>();
        for (const f of t().faults.values()) if (liveInCurrent(f) && f.tier !== null) counts.set(f.tier, (counts.get(f.tier) ?? 0) + 1);
        return [...counts].map(([tier, n]) => ({ tier, n }));
      },
      countByCategoryAndState: async () => {
        const counts = new Map<string, { category: string; state: string; n: number }>();
        for (const f of t().faults.values()) {
          if (f.current !== 1) continue;
          const k = `${f.category}\u0000${f.state}`;
          const c = counts.get(k) ?? { category: f.category, state: f.state, n: 0 };
          c.n += 1;
          counts.set(k, c);
        }
        return [...counts.values()];
      },
    },

    alerts: {
      findInCurrentFaults: async (idents) => {
        const wanted = new Set(idents);
        return [...t().alerts.values()].filter((a) => wanted.has(a.ident) && t().faults.get(a.fault_id)?.current === 1).map(copy);
      },
      findInFaults: async (faultIds, idents) => {
        const faults = new Set(faultIds);
        const wanted = new Set(idents);
        return [...t().alerts.values()].filter((a) => faults.has(a.fault_id) && wanted.has(a.ident)).map(copy);
      },
      staleFaults: async (cutoff, sources) => {
        if (sources.length === 0) return [];
        const allowed = new Set(sources);
        const byFault = new Map<string, { last: number; others: number }>();
        for (const a of t().alerts.values()) {
          const f = t().faults.get(a.fault_id);
          if (!f || !liveInCurrent(f) || a.status !== 'firing') continue;
          const s = byFault.get(a.fault_id) ?? { last: -Infinity, others: 0 };
          s.last = Math.max(s.last, a.last_received_at);
          if (!allowed.has(a.source)) s.others += 1;
          byFault.set(a.fault_id, s);
        }
        return [...byFault].filter(([, s]) => s.others === 0 && s.last < cutoff).map(([id]) => id);
      },
      firingOf: async (faultId) => [...t().alerts.values()].filter((a) => a.fault_id === faultId && a.status === 'firing').map(copy),
      insert: async (rows) => {
        for (const row of rows) {
          if (!t().faults.has(row.fault_id)) throw new Error('FOREIGN KEY constraint failed: alerts.fault_id');
          for (const a of t().alerts.values()) if (a.fault_id === row.fault_id && a.ident === row.ident) throw unique('alerts.fault_id, alerts.ident');
          const id = ++t().ids.alert;
          t().alerts.set(id, { ...row, id } as AlertRow);
          row.id = id;
        }
      },
      updateMany: async (rows) => {
        for (const row of rows) t().alerts.set(row.id, copy(row));
      },
      touch: async (ids, at) => {
        for (const id of ids) {
          const a = t().alerts.get(id);
          if (a) a.last_received_at = at;
        }
      },
      listByFault: async (faultId, limit = 10_000) =>
        [...t().alerts.values()].filter((a) => a.fault_id === faultId).sort(byId).slice(0, limit).map(copy),
    },

    outbox: (() => {
      const rows = () => [...t().outbox.values()].sort(byId);
      const firstInLine = (now: number, system: string) => {
        const waiting = new Set<string>();
        const out: OutboxRow[] = [];
        for (const op of rows()) {
          if (op.system !== system) continue;
          const blocked = waiting.has(op.line);
          if (HOLDS_LINE.has(op.state)) waiting.add(op.line);
          if (!blocked && op.state === 'pending' && op.next_attempt_at <= now) out.push(op);
        }
        return out;
      };
      return {
        insert: async (row) => {
          if (row.fault_id !== null && row.fault_id !== undefined && !t().faults.has(row.fault_id)) throw new Error('FOREIGN KEY constraint failed: outbox.fault_id');
          const id = ++t().ids.outbox;
          t().outbox.set(id, { ...row, fault_id: row.fault_id ?? null, id } as OutboxRow);
          return id;
        },
        insertMany: async (rows) => {
          for (const row of rows) {
            if (row.fault_id !== null && row.fault_id !== undefined && !t().faults.has(row.fault_id)) throw new Error('FOREIGN KEY constraint failed: outbox.fault_id');
            const id = ++t().ids.outbox;
            t().outbox.set(id, { ...row, fault_id: row.fault_id ?? null, id } as OutboxRow);
          }
        },
        pendingOfFaults: async (faultIds) => {
          const wanted = new Set(faultIds);
          return rows().filter((o) => o.fault_id !== null && wanted.has(o.fault_id) && o.state === 'pending').map(copy);
        },
        replacePayload: async (id, payload, now) => {
          const o = t().outbox.get(id);
          if (o && o.state === 'pending') Object.assign(o, { payload, updated_at: now });
        },
        delete: async (id) => {
          if (t().outbox.get(id)?.state === 'pending') t().outbox.delete(id);
        },
        due: async (now, limit, system) => firstInLine(now, system).slice(0, limit).map(copy),
        claimDue: async (now, limit, system, leaseUntil) =>
          firstInLine(now, system)
            .slice(0, limit)
            .map((o) => copy(Object.assign(o, { state: 'running', claimed_until: leaseUntil, attempts: o.attempts + 1, updated_at: now }))),
        claim: async (id, now, leaseUntil) => {
          const o = t().outbox.get(id);
          if (!o || o.state !== 'pending') return false;
          Object.assign(o, { state: 'running', claimed_until: leaseUntil, attempts: o.attempts + 1, updated_at: now });
          return true;
        },
        complete: async (id, now) => {
          const o = t().outbox.get(id);
          if (o) Object.assign(o, { state: 'done', claimed_until: null, last_error: null, updated_at: now });
        },
        retryLater: async (id, nextAttemptAt, error, now) => {
          const o = t().outbox.get(id);
          if (o) Object.assign(o, { state: 'pending', claimed_until: null, next_attempt_at: nextAttemptAt, last_error: error, updated_at: now });
        },
        park: async (id, error, now) => {
          const o = t().outbox.get(id);
          if (o) Object.assign(o, { state: 'parked', claimed_until: null, last_error: error, updated_at: now });
        },
        releaseExpiredClaims: async (now) => {
          let n = 0;
          for (const o of t().outbox.values()) {
            if (o.state === 'running' && o.claimed_until !== null && o.claimed_until < now) {
              Object.assign(o, { state: 'pending', claimed_until: null, updated_at: now });
              n += 1;
            }
          }
          return n;
        },
        statsBySystem: async () => {
          const stats = new Map<string, { system: string; depth: number; parked: number; oldestCreatedAt: number | null }>();
          for (const o of t().outbox.values()) {
            if (!HOLDS_LINE.has(o.state)) continue;
            const s = stats.get(o.system) ?? { system: o.system, depth: 0, parked: 0, oldestCreatedAt: null };
            s.depth += 1;
            if (o.state === 'parked') s.parked += 1;
            s.oldestCreatedAt = s.oldestCreatedAt === null ? o.created_at : Math.min(s.oldestCreatedAt, o.created_at);
            stats.set(o.system, s);
          }
          return [...stats.values()];
        },
        listByFault: async (faultId) => rows().filter((o) => o.fault_id === faultId).map(copy),
        list: async (filter) =>
          rows()
            .filter((o) => (!filter.state || o.state === filter.state) && (!filter.system || o.system === filter.system))
            .slice(filter.offset, filter.offset + filter.limit)
            .map(copy),
        retryParked: async (now, which) => {
          const ids = which.ids ? new Set(which.ids) : undefined;
          let n = 0;
          for (const o of t().outbox.values()) {
            if (o.state !== 'parked' || (ids && !ids.has(o.id)) || (which.faultId && o.fault_id !== which.faultId)) continue;
            Object.assign(o, { state: 'pending', next_attempt_at: now, updated_at: now });
            n += 1;
          }
          return n;
        },
      };
    })(),

    mail: {
      recent: async (kinds, since) => {
        const wanted = new Set(kinds);
        return [...t().outbox.values()].filter((o) => o.system === 'email' && wanted.has(o.kind) && o.created_at >= since).sort(byId).map(copy);
      },
    },

    localTickets: {
      findOpenByFault: async (faultId) => {
        const open = [...t().tickets.values()].filter((x) => x.fault_id === faultId && x.status !== 'closed').sort(byId);
        const last = open[open.length - 1];
        return last && copy(last);
      },
      get: async (id) => {
        const x = t().tickets.get(id);
        return x && copy(x);
      },
      insert: async (row) => {
        const id = ++t().ids.ticket;
        t().tickets.set(id, { ...row, id });
        return id;
      },
      update: async (id, set) => {
        const x = t().tickets.get(id);
        if (x) Object.assign(x, set);
      },
      addComment: async (ticketId, body, at, opKey = null) => {
        if (opKey !== null && [...t().comments.values()].some((c) => c.op_key === opKey)) throw unique('local_ticket_comments.op_key');
        const id = ++t().ids.comment;
        t().comments.set(id, { id, ticket_id: ticketId, body, created_at: at, op_key: opKey });
      },
      hasComment: async (opKey) => [...t().comments.values()].some((c) => c.op_key === opKey),
      addAttachment: async (ticketId, a, at) => {
        const id = ++t().ids.attachment;
        const content = a.record ? '' : a.content;
        t().attachments.set(id, { id, ticket_id: ticketId, filename: a.filename, content_type: a.contentType, content, created_at: at, size: content.length, record_format: a.record ?? null });
      },
      hasRecord: async (ticketId) => [...t().attachments.values()].some((a) => a.ticket_id === ticketId && a.record_format !== null),
      list: async (filter) => {
        const tickets = [...t().tickets.values()]
          .filter((x) => (!filter.status || x.status === filter.status) && (filter.id === undefined || x.id === filter.id))
          .sort((a, b) => b.id - a.id)
          .slice(filter.offset, filter.offset + filter.limit)
          .map(copy);
        const ids = new Set(tickets.map((x) => x.id));
        const comments = [...t().comments.values()].filter((c) => ids.has(c.ticket_id)).sort(byId).map(copy);
        const attachments = [...t().attachments.values()]
          .filter((a) => ids.has(a.ticket_id))
          .sort(byId)
          .map(({ content: _content, ...info }) => info);
        return { tickets, comments, attachments };
      },
      attachment: async (id) => {
        const a = t().attachments.get(id);
        return a && copy(a);
      },
    },

    fits: {
      insert: async (row) => {
        t().fits.push({ ...row });
      },
      latest: async () => {
        const seen = new Set<string>();
        return [...t().fits].reverse().sort((a, b) => b.fitted_at - a.fitted_at).filter((f) => !seen.has(f.category) && seen.add(f.category)).map(copy);
      },
    },

    satisfaction: {
      insert: async (row) => {
        if (row.external_id !== null && t().ratings.some((r) => r.source === row.source && r.external_id === row.external_id)) return false;
        t().ratings.push({ ...row, id: ++t().ids.rating });
        return true;
      },
      summary: async (since) => {
        const by = new Map<string, { category: string; sum: number; n: number }>();
        for (const r of t().ratings) {
          if (r.rated_at < since) continue;
          const s = by.get(r.category) ?? { category: r.category, sum: 0, n: 0 };
          s.sum += r.score;
          s.n += 1;
          by.set(r.category, s);
        }
        return [...by.values()];
      },
      lastPulled: async (source) => {
        const times = t().ratings.filter((r) => r.source === source).map((r) => r.rated_at);
        return times.length ? Math.max(...times) : undefined;
      },
    },

    inbound: {
      remember: async (key, at) => {
        if (t().inboundSeen.has(key)) return false;
        t().inboundSeen.set(key, at);
        return true;
      },
      forget: async (before) => {
        let n = 0;
        for (const [key, at] of t().inboundSeen) if (at < before && t().inboundSeen.delete(key)) n += 1;
        return n;
      },
      cursor: async (name) => t().cursors.get(name)?.value,
      saveCursor: async (name, value, at) => {
        t().cursors.set(name, { value, updated_at: at });
      },
    },
    writebacks: {
      get: async (faultId, system) => {
        const w = t().writebacks.get(`${faultId}|${system}`);
        return w && copy(w);
      },
      listByFault: async (faultId) =>
        [...t().writebacks.values()]
          .filter((w) => w.fault_id === faultId)
          .sort((a, b) => a.system.localeCompare(b.system))
          .map(copy),
      put: async (row) => {
        t().writebacks.set(`${row.fault_id}|${row.system}`, copy(row));
      },
      renewalsDue: async (system, before, limit) =>
        [...t().writebacks.values()]
          .filter((w) => {
            const f = t().faults.get(w.fault_id);
            return w.system === system && w.active === 1 && w.active_until !== null && w.active_until < before && f !== undefined && liveInCurrent(f) && f.acknowledged_at !== null && f.human_closed_at === null;
          })
          .sort((a, b) => (a.active_until ?? 0) - (b.active_until ?? 0))
          .slice(0, limit)
          .map((w) => w.fault_id),
      queueCommand: async (row) => {
        const id = ++t().ids.command;
        t().commands.set(id, { ...row, id, fetched_at: null, done_at: null });
        return id;
      },
      fetchCommands: async (system, limit, now) => {
        const rows = [...t().commands.values()].filter((c) => c.system === system && c.done_at === null).sort(byId).slice(0, limit);
        for (const c of rows) c.fetched_at = now;
        return rows.map(copy);
      },
      completeCommand: async (system, id, now) => {
        const c = t().commands.get(id);
        if (!c || c.system !== system) return 'unknown';
        if (c.done_at !== null) return 'already';
        c.done_at = now;
        return 'confirmed';
      },
      commandBacklog: async (system) => {
        const waiting = [...t().commands.values()].filter((c) => c.system === system && c.done_at === null);
        return { waiting: waiting.length, oldestCreatedAt: waiting.length ? Math.min(...waiting.map((c) => c.created_at)) : null };
      },
    },

    retention: {
      purgeFaults: async (before, limit) => {
        const busy = new Set([...t().outbox.values()].filter((o) => o.state !== 'done' && o.fault_id !== null).map((o) => o.fault_id));
        const ids = new Set(
          [...t().faults.values()]
            .filter((f) => f.state === 'resolved' && f.resolved_at !== null && f.resolved_at < before && !busy.has(f.id))
            .sort((a, b) => (a.resolved_at ?? 0) - (b.resolved_at ?? 0))
            .slice(0, limit)
            .map((f) => f.id),
        );
        const counts = { faults: 0, alerts: 0, outbox: 0, localTickets: 0 };
        const drop = <K, V>(m: Map<K, V>, pred: (v: V) => boolean) => {
          let n = 0;
          for (const [k, v] of m) if (pred(v) && m.delete(k)) n++;
          return n;
        };
        const ticketIds = new Set([...t().tickets.values()].filter((x) => ids.has(x.fault_id)).map((x) => x.id));
        drop(t().comments, (c) => ticketIds.has(c.ticket_id));
        drop(t().attachments, (a) => ticketIds.has(a.ticket_id));
        counts.localTickets = drop(t().tickets, (x) => ids.has(x.fault_id));
        drop(t().writebacks, (w) => ids.has(w.fault_id));
        drop(t().commands, (c) => ids.has(c.fault_id));
        counts.outbox = drop(t().outbox, (o) => o.fault_id !== null && ids.has(o.fault_id));
        counts.alerts = drop(t().alerts, (a) => ids.has(a.fault_id));
        counts.faults = drop(t().faults, (f) => ids.has(f.id));
        return counts;
      },
      purgeLoose: async (before, limit) => {
        const old = [...t().outbox.values()].filter((o) => o.fault_id === null && o.state === 'done' && o.updated_at < before).slice(0, limit);
        for (const o of old) t().outbox.delete(o.id);
        return old.length;
      },
    },
  };
}
