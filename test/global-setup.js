// Runs once before all test files: finds out whether PostgreSQL and MariaDB are there (their
// tests run when they are, and must in CI), and builds dist/ for the
// tests that run the daemon as its own process.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const pg = require('pg');
const mysql = require('mysql2/promise');

module.exports = async function globalSetup() {
  const url = process.env.FAULTDESK_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    process.env.FAULTDESK_TEST_PG = '1';
  } catch (err) {
    if (process.env.CI) throw new Error(`PostgreSQL at ${url} is not reachable, and CI must run the PostgreSQL tests: ${err.message}`, { cause: err });
    process.env.FAULTDESK_TEST_PG = '0';
    process.stderr.write(`\nSKIPPING the PostgreSQL tests: no server at ${url} (${err.message}).\n`);
  } finally {
    await client.end().catch(() => undefined);
  }
  const mysqlUrl = process.env.FAULTDESK_TEST_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test';
  let conn;
  try {
    conn = await mysql.createConnection({ uri: mysqlUrl, connectTimeout: 3000 });
    await conn.query('select 1');
    process.env.FAULTDESK_TEST_MYSQL = '1';
  } catch (err) {
    if (process.env.CI) throw new Error(`MariaDB at ${mysqlUrl} is not reachable, and CI must run the MariaDB tests: ${err.message}`, { cause: err });
    process.env.FAULTDESK_TEST_MYSQL = '0';
    process.stderr.write(`\nSKIPPING the MariaDB tests: no server at ${mysqlUrl} (${err.message}).\n`);
  } finally {
    await conn?.end().catch(() => undefined);
  }
  const root = path.resolve(__dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  // The rest of `npm run build`: the console's templates and static files next to its compiled code.
  execFileSync(process.execPath, [path.join(root, 'scripts/copy-console-assets.mjs')], { stdio: 'inherit' });
};
