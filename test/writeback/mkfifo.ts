import { execFileSync } from 'node:child_process';

/** Node has no mkfifo; coreutils does. */
export function mkfifoSync(file: string): void {
  execFileSync('mkfifo', [file]);
}
