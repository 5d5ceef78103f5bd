import { sql, type ColumnDataType, type ColumnDefinitionBuilder, type CreateTableBuilder, type Expression, type Kysely, type RawBuilder } from 'kysely';
import type { Dialect } from './types';

/** A column type: one of Kysely's names or an expression. */
export type ColumnType = ColumnDataType | Expression<unknown>;

/** Builds a column: the third argument of Kysely's addColumn. */
export type ColumnBuild = (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;

/**
 * The column types and statements that differ between the dialects, for the
 * migrations. SQLite and PostgreSQL keep the exact DDL they always had (their
 * installs exist); MySQL/MariaDB gets its own where it must:
 *
 * - TEXT cannot be a primary key or indexed whole: key and indexed text
 *   columns are VARCHAR (`key(length)`), every other text is `text` (MEDIUMTEXT);
 * - tables are InnoDB with a binary collation (`createTable`): idents and
 *   keys compare byte for byte, as on SQLite and PostgreSQL, and not case- or
 *   accent-insensitively as MySQL's default collations do;
 * - column-level REFERENCES is ignored by MySQL: foreign keys are table
 *   constraints there (`references` on the column plus `foreignKey` on the table);
 * - TEXT defaults must be expressions, `||` is OR, and NOT NULL changes
 *   restate the column's type.
 */
export interface Ddl {
  readonly dialect: Dialect;
  /** Auto-increment id: use as `addColumn('id', ddl.serial, ddl.idColumn)`. */
  readonly serial: ColumnDataType;
  readonly idColumn: ColumnBuild;
  /** A column holding another table's serial id (its type must match the id's on MySQL). */
  readonly serialRef: ColumnDataType;
  /** Epoch milliseconds. */
  readonly time: ColumnDataType;
  /** A float. */
  readonly real: ColumnDataType;
  /** Text of any length (MySQL's TEXT stops at 64 KiB: MEDIUMTEXT there). */
  readonly text: ColumnType;
  /** Text that is a primary key, part of an index, or a foreign key: at most `length` characters on MySQL. */
  key(length: number): ColumnDataType;
  /** A text column's default value (JSON documents such as '{}' included). */
  textDefault(value: string): Expression<unknown>;
  /** CREATE TABLE with the table options the dialect needs. */
  createTable(db: Kysely<unknown>, name: string): CreateTableBuilder<string, never>;
  /** A column's foreign key, column-level where the dialect honours it; pair with `foreignKey` on the table. */
  references(target: string): ColumnBuild;
  /** The table-level foreign key of `table`.`column` on MySQL (`target` is "table.column"); nothing elsewhere. */
  foreignKey(table: string, column: string, target: string): <TB extends string, C extends string>(builder: CreateTableBuilder<TB, C>) => CreateTableBuilder<TB, C>;
  /** String concatenation. */
  concat(...parts: Array<Expression<unknown> | string>): RawBuilder<string>;
  /** ALTER TABLE … SET NOT NULL / DROP NOT NULL; MySQL restates the column's type. */
  setNotNull(db: Kysely<unknown>, table: string, column: string, type: ColumnDataType): Promise<void>;
  dropNotNull(db: Kysely<unknown>, table: string, column: string, type: ColumnDataType): Promise<void>;
  /** DROP INDEX, when it exists (MySQL names the table and has no IF EXISTS: it must exist there). */
  dropIndex(db: Kysely<unknown>, table: string, index: string): Promise<void>;
}

/** Key lengths on MySQL, in characters (utf8mb4: four bytes each; an InnoDB index key holds 3,072 bytes). */
export const KEY = {
  /** A fault id (a UUID) or another short id. */
  id: 64,
  /** A short name: a system, a state, a source, a kind. */
  name: 64,
  /** An ordering line, a job name, a cursor name, an external id. */
  line: 255,
  /** A fault's ident (category and key labels), an alert's (source and the source's id), another long key. */
  long: 700,
} as const;

export function ddlFor(dialect: Dialect): Ddl {
  const mysql = dialect === 'mysql';
  const literal = (value: string) => sql.lit(value);
  const parts = (items: Array<Expression<unknown> | string>) => items.map((p) => (typeof p === 'string' ? literal(p) : p));
  const ref = (target: string) => {
    const [table, column] = target.split('.') as [string, string];
    return { table, column };
  };
  return {
    dialect,
    serial: dialect === 'postgres' ? 'bigserial' : mysql ? 'bigint' : 'integer',
    idColumn: (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()),
    serialRef: mysql ? 'bigint' : 'integer',
    time: dialect === 'sqlite' ? 'integer' : 'bigint',
    real: dialect === 'sqlite' ? 'real' : 'double precision',
    text: mysql ? sql`mediumtext` : 'text',
    key: (length) => (mysql ? `varchar(${length})` : 'text'),
    // MySQL allows a TEXT default only as an expression (MariaDB takes either).
    textDefault: (value) => (mysql ? sql`(${literal(value)})` : literal(value)),
    createTable(db, name) {
      const table = db.schema.createTable(name);
      return mysql ? table.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`) : table;
    },
    references: (target) => (c) => (mysql ? c : c.references(target)),
    foreignKey:
      (table, column, target) =>
      <TB extends string, C extends string>(builder: CreateTableBuilder<TB, C>) => {
        if (!mysql) return builder;
        const { table: to, column: toColumn } = ref(target);
        return builder.addForeignKeyConstraint(`${table}_${column}_fk`, [column as C], to, [toColumn]);
      },
    concat: (...items) => (mysql ? sql<string>`concat(${sql.join(parts(items))})` : sql<string>`(${sql.join(parts(items), sql` || `)})`),
    async setNotNull(db, table, column, type) {
      if (mysql) await sql`alter table ${sql.table(table)} modify ${sql.ref(column)} ${sql.raw(type)} not null`.execute(db);
      else if (dialect === 'postgres') await sql`alter table ${sql.table(table)} alter column ${sql.ref(column)} set not null`.execute(db);
      else throw new Error('SQLite cannot change a column: rebuild the table');
    },
    async dropNotNull(db, table, column, type) {
      if (mysql) await sql`alter table ${sql.table(table)} modify ${sql.ref(column)} ${sql.raw(type)} null`.execute(db);
      else if (dialect === 'postgres') await sql`alter table ${sql.table(table)} alter column ${sql.ref(column)} drop not null`.execute(db);
      else throw new Error('SQLite cannot change a column: rebuild the table');
    },
    async dropIndex(db, table, index) {
      if (mysql) await db.schema.dropIndex(index).on(table).execute();
      else await db.schema.dropIndex(index).ifExists().execute();
    },
  };
}
