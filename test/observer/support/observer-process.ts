import { execa, type ResultPromise } from 'execa';
import { cliPath } from '../../support/cli.js';

/** A real `replay-observer serve` process on a free port; `stop()` sends SIGTERM to it (by pid) and waits. */
export class ObserverProcess {
  url = '';
  stderr = '';
  private child: ResultPromise | undefined;

  /** `env` is merged over this process's environment (store credentials for s3 URLs). */
  async start(args: string[], env: Record<string, string> = {}): Promise<string> {
    const child = execa('node', [cliPath('replay-observer'), 'serve', '--port', '0', ...args], { reject: false, env: { LOG_LEVEL: 'warn', ...env } });
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /on (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      void child.then((result) => reject(new Error(`observer exited early (${result.exitCode}): ${this.stderr}`)));
    });
    return this.url;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async stop(): Promise<number | undefined> {
    if (!this.child) return undefined;
    this.child.kill('SIGTERM');
    const result = await this.child;
    return result.exitCode;
  }
}
