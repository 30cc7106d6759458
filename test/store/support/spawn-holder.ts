import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./file-store-holder.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Starts file-store-holder.ts and resolves once it prints `signal` (it is then stopped at that point). */
export async function spawnHolder(mode: 'hold-lock' | 'stall-stream', root: string, key: string, signal: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, mode, root, key], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === signal) resolve();
    });
    child.once('close', (code) => reject(new Error(`holder exited (${code}) before "${signal}": ${stderr}`)));
  });
  return child;
}

/** SIGKILL, and wait until the process is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.kill('SIGKILL');
  await gone;
}
