// Runs once before all test files: finds out whether PostgreSQL is there (the
// PostgreSQL tests run when it is, and must in CI), and builds dist/ for the
// tests that run the daemon as its own process.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const pg = require('pg');

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
  const root = path.resolve(__dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
};
