import { sql, type Kysely, type Migration } from 'kysely';
import { ddlFor, KEY, type ColumnBuild, type ColumnType } from './ddl';
import type { Dialect } from './types';

export type { Dialect } from './types';

/**
 * One migration source for every dialect. What differs (column types, table
 * options, foreign keys, a few statements) comes from ddl.ts: a new migration
 * writes `text` for text, `key(KEY.…)` for text that is a key or indexed,
 * `time` for times, `createTable` for tables (see ddl.ts and the README).
 */
export function migrations(dialect: Dialect): Record<string, Migration> {
  const ddl = ddlFor(dialect);
  const { serial, idColumn, serialRef, time, real, text, key } = ddl;
  return {
    '0001_initial': {
      async up(db: Kysely<unknown>) {
        await ddl
          .createTable(db, 'faults')
          .addColumn('id', key(KEY.id), (c) => c.primaryKey())
          .addColumn('ident', key(KEY.long), (c) => c.notNull())
          .addColumn('current', 'integer')
          .addColumn('category', text, (c) => c.notNull())
          .addColumn('fault_key', text, (c) => c.notNull())
          .addColumn('key_labels', text, (c) => c.notNull())
          .addColumn('state', key(KEY.name), (c) => c.notNull())
          .addColumn('severity', 'integer', (c) => c.notNull())
          .addColumn('priority', text, (c) => c.notNull())
          .addColumn('repair_time_hours', real, (c) => c.notNull())
          .addColumn('rt_a', real, (c) => c.notNull())
          .addColumn('rt_b', real, (c) => c.notNull())
          .addColumn('opened_at', time, (c) => c.notNull())
          .addColumn('due_at', time, (c) => c.notNull())
          .addColumn('resolved_at', time)
          .addColumn('updated_at', time, (c) => c.notNull())
          .addColumn('last_update_at', time)
          .addColumn('alert_count', 'integer', (c) => c.notNull())
          .addColumn('firing_count', 'integer', (c) => c.notNull())
          .addColumn('state_changes', text, (c) => c.notNull())
          .addColumn('last_change_at', time, (c) => c.notNull())
          .addColumn('ticket_wanted', text, (c) => c.notNull())
          .addColumn('ticket_system', text, (c) => c.notNull())
          .addColumn('ticket_id', text)
          .addColumn('ticket_status', text)
          .addColumn('ticket_url', text)
          .addColumn('ticket_error', text)
          .addColumn('rule_file', text, (c) => c.notNull())
          .addColumn('rule_line', 'integer', (c) => c.notNull())
          .addColumn('summary', text, (c) => c.notNull())
          .addColumn('timeline', text, (c) => c.notNull())
          .execute();
        // NULLs are distinct in a unique index, so superseded faults (current NULL) may share an ident.
        await db.schema.createIndex('faults_current_ident').on('faults').columns(['ident', 'current']).unique().execute();
        await db.schema.createIndex('faults_state').on('faults').columns(['state', 'current']).execute();
        await db.schema.createIndex('faults_opened').on('faults').column('opened_at').execute();

        await ddl
          .createTable(db, 'alerts')
          .addColumn('id', serial, idColumn)
          .addColumn('fault_id', key(KEY.id), (c) => ddl.references('faults.id')(c.notNull()))
          .addColumn('ident', key(KEY.long), (c) => c.notNull())
          .addColumn('source', text, (c) => c.notNull())
          .addColumn('source_id', text, (c) => c.notNull())
          .addColumn('status', text, (c) => c.notNull())
          .addColumn('labels', text, (c) => c.notNull())
          .addColumn('annotations', text, (c) => c.notNull())
          .addColumn('starts_at', time, (c) => c.notNull())
          .addColumn('ends_at', time)
          .addColumn('generator_url', text)
          .addColumn('fs', 'integer', (c) => c.notNull())
          .addColumn('first_received_at', time, (c) => c.notNull())
          .addColumn('last_received_at', time, (c) => c.notNull())
          .$call(ddl.foreignKey('alerts', 'fault_id', 'faults.id'))
          .execute();
        await db.schema.createIndex('alerts_fault_ident').on('alerts').columns(['fault_id', 'ident']).unique().execute();
        await db.schema.createIndex('alerts_ident').on('alerts').column('ident').execute();

        await ddl
          .createTable(db, 'outbox')
          .addColumn('id', serial, idColumn)
          .addColumn('fault_id', key(KEY.id), (c) => c.notNull())
          .addColumn('system', key(KEY.name), (c) => c.notNull())
          .addColumn('kind', text, (c) => c.notNull())
          .addColumn('payload', text, (c) => c.notNull())
          .addColumn('state', key(KEY.name), (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('next_attempt_at', time, (c) => c.notNull())
          .addColumn('claimed_until', time)
          .addColumn('last_error', text)
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('updated_at', time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('outbox_state_due').on('outbox').columns(['state', 'next_attempt_at']).execute();
        await db.schema.createIndex('outbox_fault').on('outbox').columns(['fault_id', 'state']).execute();

        await ddl
          .createTable(db, 'local_tickets')
          .addColumn('id', serial, idColumn)
          .addColumn('fault_id', key(KEY.id), (c) => c.notNull())
          .addColumn('status', text, (c) => c.notNull())
          .addColumn('subject', text, (c) => c.notNull())
          .addColumn('body', text, (c) => c.notNull())
          .addColumn('priority', text, (c) => c.notNull())
          .addColumn('fields', text, (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('updated_at', time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('local_tickets_fault').on('local_tickets').column('fault_id').execute();
        await ddl
          .createTable(db, 'local_ticket_comments')
          .addColumn('id', serial, idColumn)
          .addColumn('ticket_id', serialRef, (c) => ddl.references('local_tickets.id')(c.notNull()))
          .addColumn('body', text, (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .$call(ddl.foreignKey('local_ticket_comments', 'ticket_id', 'local_tickets.id'))
          .execute();
        await ddl
          .createTable(db, 'local_ticket_attachments')
          .addColumn('id', serial, idColumn)
          .addColumn('ticket_id', serialRef, (c) => ddl.references('local_tickets.id')(c.notNull()))
          .addColumn('filename', text, (c) => c.notNull())
          .addColumn('content_type', text, (c) => c.notNull())
          .addColumn('content', text, (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .$call(ddl.foreignKey('local_ticket_attachments', 'ticket_id', 'local_tickets.id'))
          .execute();
      },
    },
    '0002_fault_muted': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('faults').addColumn('muted', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      },
    },
    '0003_fault_mail_log': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('faults').addColumn('mail_log', text, (c) => c.notNull().defaultTo(ddl.textDefault('{}'))).execute();
      },
    },
    '0004_learning': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('faults').addColumn('at_risk_at', time).execute();
        // Resolved by the stale sweep, not by its alerts: its duration says nothing about repair time.
        await db.schema.alterTable('faults').addColumn('stale', 'integer', (c) => c.notNull().defaultTo(0)).execute();
        await ddl
          .createTable(db, 'repair_time_fits')
          .addColumn('id', serial, idColumn)
          .addColumn('category', key(KEY.line), (c) => c.notNull())
          .addColumn('a', real, (c) => c.notNull())
          .addColumn('b', real, (c) => c.notNull())
          .addColumn('samples', 'integer', (c) => c.notNull())
          .addColumn('rmse_hours', real, (c) => c.notNull())
          .addColumn('fitted_at', time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('repair_time_fits_category').on('repair_time_fits').columns(['category', 'fitted_at']).execute();
        await ddl
          .createTable(db, 'satisfaction')
          .addColumn('id', serial, idColumn)
          .addColumn('fault_id', text, (c) => c.notNull())
          .addColumn('category', text, (c) => c.notNull())
          .addColumn('score', real, (c) => c.notNull())
          .addColumn('source', key(KEY.name), (c) => c.notNull())
          /** The rating's own id in its system, so a pulled rating is stored once. */
          .addColumn('external_id', key(KEY.line))
          .addColumn('comment', text)
          .addColumn('rated_at', time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('satisfaction_external').on('satisfaction').columns(['source', 'external_id']).unique().execute();
        await db.schema.createIndex('satisfaction_rated').on('satisfaction').column('rated_at').execute();
        await ddl
          .createTable(db, 'job_runs')
          .addColumn('name', key(KEY.line), (c) => c.notNull())
          .addColumn('slot', time, (c) => c.notNull())
          .addColumn('started_at', time, (c) => c.notNull())
          .addPrimaryKeyConstraint('job_runs_pk', ['name', 'slot'])
          .execute();
      },
    },
    '0005_local_comment_op_key': {
      async up(db: Kysely<unknown>) {
        // The outbox operation that wrote a comment: a second delivery of it after a crash writes nothing.
        await db.schema.alterTable('local_ticket_comments').addColumn('op_key', key(KEY.line)).execute();
        await db.schema.createIndex('local_ticket_comments_op_key').on('local_ticket_comments').column('op_key').unique().execute();
      },
    },
    '0006_outbox_line': {
      async up(db: Kysely<unknown>) {
        // Workers take a system's pending operations in id order: this index walks them in that
        // order and stops at the batch size, where (state, next_attempt_at) made every claim sort
        // every due operation (quadratic in a storm).
        await db.schema.createIndex('outbox_line').on('outbox').columns(['system', 'state', 'id']).execute();
        // "Is an earlier operation of this fault still undelivered?" must search by fault, not walk the
        // line above: with system in this index, SQLite's planner picks it over outbox_line. (The
        // fault's pending operations, any system, keep outbox_fault.)
        await db.schema.createIndex('outbox_fault_line').on('outbox').columns(['fault_id', 'system', 'state']).execute();
      },
    },
    '0007_outbox_ordering_line': {
      // Every operation names its ordering line; a digest's is no longer a made-up fault id, so
      // fault_id can be a foreign key.
      async up(db: Kysely<unknown>) {
        const lineOf = sql`case when fault_id like 'digest:%' then fault_id else ${ddl.concat('fault:', sql.ref('fault_id'))} end`;
        const faultOf = sql`case when fault_id like 'digest:%' then null else fault_id end`;
        if (dialect !== 'sqlite') {
          await db.schema.alterTable('outbox').addColumn('line', key(KEY.line)).execute();
          await ddl.dropNotNull(db, 'outbox', 'fault_id', key(KEY.id));
          await sql`update outbox set line = ${lineOf}, fault_id = ${faultOf}`.execute(db);
          await ddl.setNotNull(db, 'outbox', 'line', key(KEY.line));
          await sql`alter table outbox add constraint outbox_fault_fk foreign key (fault_id) references faults (id)`.execute(db);
        } else {
          // SQLite cannot add a foreign key to a table: build the new one and move the rows.
          await ddl
            .createTable(db, 'outbox_next')
            .addColumn('id', serial, idColumn)
            .addColumn('line', text, (c) => c.notNull())
            .addColumn('fault_id', text, (c) => c.references('faults.id'))
            .addColumn('system', text, (c) => c.notNull())
            .addColumn('kind', text, (c) => c.notNull())
            .addColumn('payload', text, (c) => c.notNull())
            .addColumn('state', text, (c) => c.notNull())
            .addColumn('attempts', 'integer', (c) => c.notNull())
            .addColumn('next_attempt_at', time, (c) => c.notNull())
            .addColumn('claimed_until', time)
            .addColumn('last_error', text)
            .addColumn('created_at', time, (c) => c.notNull())
            .addColumn('updated_at', time, (c) => c.notNull())
            .execute();
          await sql`insert into outbox_next (id, line, fault_id, system, kind, payload, state, attempts, next_attempt_at, claimed_until, last_error, created_at, updated_at)
            select id, ${lineOf}, ${faultOf}, system, kind, payload, state, attempts, next_attempt_at, claimed_until, last_error, created_at, updated_at from outbox`.execute(db);
          await db.schema.dropTable('outbox').execute();
          await sql`alter table outbox_next rename to outbox`.execute(db);
          await db.schema.createIndex('outbox_state_due').on('outbox').columns(['state', 'next_attempt_at']).execute();
          await db.schema.createIndex('outbox_fault').on('outbox').columns(['fault_id', 'state']).execute();
          await db.schema.createIndex('outbox_line').on('outbox').columns(['system', 'state', 'id']).execute();
        }
        // "Is an earlier operation of this line still undelivered?" searches by line (see 0006).
        await ddl.dropIndex(db, 'outbox', 'outbox_fault_line');
        await db.schema.createIndex('outbox_line_order').on('outbox').columns(['line', 'system', 'state']).execute();
      },
    },
    '0008_human_loop': {
      async up(db: Kysely<unknown>) {
        const add = (name: string, type: ColumnType, build?: ColumnBuild) => db.schema.alterTable('faults').addColumn(name, type, build ?? ((c) => c)).execute();
        await add('acknowledged_at', time);
        await add('acknowledged_by', text);
        await add('handled_at', time);
        await add('handled_by', text);
        await add('human_closed_at', time);
        await add('human_closed_by', text);
        await add('close_code', text);
        await add('priority_pinned', text);
        await add('tier', key(KEY.name));
        await add('tier_history', text, (c) => c.notNull().defaultTo(ddl.textDefault('[]')));
        await add('reopen_count', 'integer', (c) => c.notNull().defaultTo(0));
        await add('follows_ticket', text);
        await add('ticket_seen', text, (c) => c.notNull().defaultTo(ddl.textDefault('{}')));
        await db.schema.createIndex('faults_tier').on('faults').columns(['tier', 'current', 'state']).execute();
        await ddl
          .createTable(db, 'inbound_seen')
          .addColumn('key', key(KEY.long), (c) => c.primaryKey())
          .addColumn('seen_at', time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('inbound_seen_at').on('inbound_seen').column('seen_at').execute();
        await ddl
          .createTable(db, 'cursors')
          .addColumn('name', key(KEY.line), (c) => c.primaryKey())
          .addColumn('value', text, (c) => c.notNull())
          .addColumn('updated_at', time, (c) => c.notNull())
          .execute();
      },
    },
    '0009_writeback': {
      async up(db: Kysely<unknown>) {
        // What faultdesk wrote back to each monitoring system about a fault (an Alertmanager silence's id).
        await ddl
          .createTable(db, 'writebacks')
          .addColumn('fault_id', key(KEY.id), (c) => ddl.references('faults.id')(c.notNull()))
          .addColumn('system', key(KEY.name), (c) => c.notNull())
          .addColumn('ref', text)
          .addColumn('active', 'integer', (c) => c.notNull())
          .addColumn('active_until', time)
          .addColumn('updated_at', time, (c) => c.notNull())
          .addPrimaryKeyConstraint('writebacks_pk', ['fault_id', 'system'])
          .$call(ddl.foreignKey('writebacks', 'fault_id', 'faults.id'))
          .execute();
        await db.schema.createIndex('writebacks_due').on('writebacks').columns(['system', 'active', 'active_until']).execute();
        // Commands for an agent on the monitoring host (Nagios' command file is local to it).
        await ddl
          .createTable(db, 'writeback_commands')
          .addColumn('id', serial, idColumn)
          .addColumn('system', key(KEY.name), (c) => c.notNull())
          .addColumn('fault_id', key(KEY.id), (c) => ddl.references('faults.id')(c.notNull()))
          .addColumn('command', text, (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('fetched_at', time)
          .addColumn('done_at', time)
          .$call(ddl.foreignKey('writeback_commands', 'fault_id', 'faults.id'))
          .execute();
        await db.schema.createIndex('writeback_commands_pending').on('writeback_commands').columns(['system', 'done_at', 'id']).execute();
      },
    },
    '0011_retention': {
      async up(db: Kysely<unknown>) {
        // The retention purge finds the oldest resolved faults without reading the others.
        await db.schema.createIndex('faults_resolved').on('faults').columns(['state', 'resolved_at']).execute();
      },
    },
    '0012_record_once': {
      async up(db: Kysely<unknown>) {
        // A local ticket keeps the fault record by reference: stored once, with the fault.
        await db.schema.alterTable('local_ticket_attachments').addColumn('record_format', text).execute();
      },
    },
    // The console's ticket pages read a ticket's comments and attachments by ticket.
    '0013_local_ticket_thread_indexes': {
      async up(db: Kysely<unknown>) {
        await db.schema.createIndex('local_ticket_comments_ticket').on('local_ticket_comments').column('ticket_id').execute();
        await db.schema.createIndex('local_ticket_attachments_ticket').on('local_ticket_attachments').column('ticket_id').execute();
      },
    },
    '0014_writeback_commands_fault': {
      async up(db: Kysely<unknown>) {
        // The retention purge deletes a fault's commands, and deleting a fault checks that none refer
        // to it: without this index, each is a walk of the whole table.
        await db.schema.createIndex('writeback_commands_fault').on('writeback_commands').column('fault_id').execute();
      },
    },
  };
}
