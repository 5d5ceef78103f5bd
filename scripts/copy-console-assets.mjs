// The console's templates and static files are not TypeScript: `npm run build` copies them next to the compiled console.
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const to = path.join(repo, 'dist/console/assets');
rmSync(to, { recursive: true, force: true });
cpSync(path.join(repo, 'src/console/assets'), to, { recursive: true });
