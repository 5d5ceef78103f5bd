import type { LocalTicketStore } from '../types';
import { insertReturningId, type Db, type SqlOptions } from './common';

export function sqlLocalTicketStore(db: Db, options: SqlOptions): LocalTicketStore {
  const attachmentInfo = ['id', 'ticket_id', 'filename', 'content_type', 'created_at', 'record_format'] as const;
  return {
    findOpenByFault: (faultId) =>
      db.selectFrom('local_tickets').selectAll().where('fault_id', '=', faultId).where('status', '!=', 'closed').orderBy('id', 'desc').executeTakeFirst(),
    get: (id) => db.selectFrom('local_tickets').selectAll().where('id', '=', id).executeTakeFirst(),
    insert: (row) => insertReturningId(db, options, 'local_tickets', row),
    async update(id, set) {
      await db.updateTable('local_tickets').set(set).where('id', '=', id).execute();
    },
    async addComment(ticketId, body, at, opKey = null) {
      await db.insertInto('local_ticket_comments').values({ ticket_id: ticketId, body, created_at: at, op_key: opKey }).execute();
    },
    async hasComment(opKey) {
      return (await db.selectFrom('local_ticket_comments').select('id').where('op_key', '=', opKey).executeTakeFirst()) !== undefined;
    },
    async addAttachment(ticketId, a, at) {
      await db
        .insertInto('local_ticket_attachments')
        .values({ ticket_id: ticketId, filename: a.filename, content_type: a.contentType, content: a.record ? '' : a.content, created_at: at, record_format: a.record ?? null })
        .execute();
    },
    async hasRecord(ticketId) {
      return (await db.selectFrom('local_ticket_attachments').select('id').where('ticket_id', '=', ticketId).where('record_format', 'is not', null).executeTakeFirst()) !== undefined;
    },
    async list(filter) {
      let q = db.selectFrom('local_tickets').selectAll();
      if (filter.status) q = q.where('status', '=', filter.status);
      if (filter.id !== undefined) q = q.where('id', '=', filter.id);
      const tickets = await q.orderBy('id', 'desc').limit(filter.limit).offset(filter.offset).execute();
      const ids = tickets.map((t) => t.id);
      const comments = ids.length ? await db.selectFrom('local_ticket_comments').selectAll().where('ticket_id', 'in', ids).orderBy('id').execute() : [];
      const attachments = ids.length
        ? await db
            .selectFrom('local_ticket_attachments')
            .select([...attachmentInfo, (eb) => eb.fn<number>(options.dialect === 'mysql' ? 'char_length' : 'length', ['content']).as('size')])
            .where('ticket_id', 'in', ids)
            .orderBy('id')
            .execute()
        : [];
      return { tickets, comments, attachments: attachments.map((a) => ({ ...a, size: Number(a.size) })) };
    },
    async attachment(id) {
      const a = await db.selectFrom('local_ticket_attachments').selectAll().where('id', '=', id).executeTakeFirst();
      return a ? { ...a, size: a.content.length } : undefined;
    },
  };
}
