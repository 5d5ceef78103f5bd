import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../helpers';
import { claimFrontendConfig, FRONTEND_CONFIG_PHP } from './frontend';

// The Zabbix e2e takes over the frontend's fixed config path for as long as it runs;
// whatever was there before must come back, also after runs that were killed.

let dir: string;
let cleanup: () => void;
let paths: { config: string; state: string };

beforeEach(() => {
  ({ dir, cleanup } = tempDir('faultdesk-zbx-conf-'));
  paths = { config: path.join(dir, 'zabbix.conf.php'), state: path.join(dir, '.faultdesk-e2e') };
});
afterEach(() => cleanup());

test('without a config before: ours while held, none after', () => {
  const release = claimFrontendConfig(paths);
  expect(readFileSync(paths.config, 'utf8')).toBe(FRONTEND_CONFIG_PHP);
  release();
  expect(existsSync(paths.config)).toBe(false);
  expect(existsSync(paths.state)).toBe(false);
});

test("an operator's config is put back when the last of two runs releases", () => {
  writeFileSync(paths.config, "<?php $DB['TYPE'] = 'MYSQL';\n");
  const first = claimFrontendConfig(paths);
  const second = claimFrontendConfig(paths);
  first();
  expect(readFileSync(paths.config, 'utf8')).toBe(FRONTEND_CONFIG_PHP);
  second();
  expect(readFileSync(paths.config, 'utf8')).toBe("<?php $DB['TYPE'] = 'MYSQL';\n");
  expect(existsSync(paths.state)).toBe(false);
});

test('a holder whose process is gone does not keep the config', () => {
  writeFileSync(paths.config, '<?php // theirs\n');
  const release = claimFrontendConfig(paths);
  // A run that was killed left its entry; no process has pid 2^22 + 1 (above Linux's pid_max).
  mkdirSync(path.join(paths.state, 'holders'), { recursive: true });
  writeFileSync(path.join(paths.state, 'holders', '4194305-deadbeef'), '');
  release();
  expect(readFileSync(paths.config, 'utf8')).toBe('<?php // theirs\n');
});
