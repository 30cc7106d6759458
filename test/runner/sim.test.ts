import { describe, expect, it } from 'vitest';
import { createRunner } from '../../src/runner/create-runner.js';
import { RunnerConfigError } from '../../src/runner/runner-config-error.js';
import { RunnerFailure, type RunnerProgress, type RunResult, type WorkItem } from '../../src/runner/runner.js';
import { blockNumFromId, simIntegrityHash } from '../../src/runner/sim-chain.js';
import { parseSimFaults, type SimFaultSpec } from '../../src/runner/sim-faults.js';
import { SimRunner, type SimRunnerOptions } from '../../src/runner/sim.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { itemId } from '../../src/layout/keys.js';
import { silentLogger } from '../../src/util/logger.js';

function item(start: number, end: number, extra: Partial<WorkItem> = {}): WorkItem {
  const replica = extra.replica;
  return { run: 'r1', itemId: itemId({ start, end, replica }), start, end, snapshot: null, chainId: 'test-chain', ...extra };
}

function setup(options: SimRunnerOptions = {}, nodeId = 'n1') {
  const clock = new ManualClock();
  const runner = new SimRunner({ blocksPerSecond: 100, stepMs: 100, ...options }, { clock, nodeId });
  return { clock, runner };
}

/** Starts a run and records its progress and outcome without awaiting it. */
function start(runner: SimRunner, work: WorkItem, signal = new AbortController().signal) {
  const progress: RunnerProgress[] = [];
  const state: { result?: RunResult; error?: unknown; settled: boolean } = { settled: false };
  const promise = runner.run(work, { signal, onProgress: (p) => progress.push(p) }).then(
    (result) => { state.result = result; state.settled = true; },
    (error: unknown) => { state.error = error; state.settled = true; },
  );
  return { progress, state, promise };
}

/** Advances the manual clock step by step until the run settles (bounded, so a bug cannot loop forever). */
async function finish(clock: ManualClock, run: ReturnType<typeof start>, stepMs = 100, maxSteps = 10_000) {
  for (let i = 0; i < maxSteps && !run.state.settled; i++) await clock.advance(stepMs);
  await run.promise;
  return run.state;
}

describe('sim runner', () => {
  it('replays at the configured speed, reporting progress every step, and chains hashes between intervals', async () => {
    const { clock, runner } = setup();
    const first = start(runner, item(0, 100));
    await clock.advance(500);
    expect(first.progress.at(-1)?.headBlock).toBe(50);
    expect(first.state.settled).toBe(false);
    const a = await finish(clock, first);
    expect(first.progress.map((p) => p.headBlock)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(first.progress.at(-1)?.blocksPerSecond).toBeCloseTo(100);
    expect(first.progress[4]?.etaSeconds).toBeCloseTo(0.5);

    const b = await finish(clock, start(runner, item(100, 250)));
    expect(a.result?.endHash).toBe(b.result?.startHash);
    expect(a.result?.endHash).toBe(simIntegrityHash('test-chain', 100));
    expect(b.result?.endHash).not.toBe(a.result?.endHash);
    expect(b.result?.headBlock).toBe(250);
    expect(blockNumFromId(b.result!.headBlockId)).toBe(250);
    expect(b.result?.timings.replay).toBe(1500);
    expect(b.result?.runner).toBe('sim/1');
  });

  it('gives the same hashes and block id for the same chain and block on any node, different ones on another chain', async () => {
    const one = setup({}, 'n1');
    const two = setup({}, 'n2');
    const x = await finish(one.clock, start(one.runner, item(0, 30)));
    const y = await finish(two.clock, start(two.runner, item(0, 30)));
    const z = await finish(two.clock, start(two.runner, item(0, 30, { chainId: 'other' })));
    expect(x.result).toEqual(y.result);
    expect(z.result?.endHash).not.toBe(x.result?.endHash);
    expect(z.result?.headBlockId).not.toBe(x.result?.headBlockId);
  });

  it('stops promptly with the abort reason when aborted', async () => {
    const { clock, runner } = setup();
    const controller = new AbortController();
    const run = start(runner, item(0, 1000), controller.signal);
    await clock.advance(300);
    const reason = new Error('lease lost');
    controller.abort(reason);
    await run.promise;
    expect(run.state.error).toBe(reason);
    expect(run.progress.at(-1)?.headBlock).toBe(30);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('is instant at speed 0', async () => {
    const { runner } = setup({ blocksPerSecond: 0 });
    const run = start(runner, item(0, 1_000_000));
    await run.promise;
    expect(run.state.result?.headBlock).toBe(1_000_000);
  });
});

describe('sim faults', () => {
  const it100 = item(0, 100);

  it('crashAt fails the attempt at that block with a log tail, only `times` times', async () => {
    const { clock, runner } = setup({ faults: { crashAt: { item: it100.itemId, block: 42, times: 1 } } });
    const crashed = await finish(clock, start(runner, it100));
    expect(crashed.error).toBeInstanceOf(RunnerFailure);
    const failure = crashed.error as RunnerFailure;
    expect(failure.reason).toBe('crashed');
    expect(failure.message).toContain('block 42');
    expect(failure.details.exitCode).toBe(1);
    expect(failure.details.logTail?.at(-1)).toBe('simulated crash at block 42');
    expect(failure.details.logTail?.[0]).toContain('chain database started with hash');
    const retried = await finish(clock, start(runner, it100));
    expect(retried.result?.endHash).toBe(simIntegrityHash('test-chain', 100));
  });

  it('scopes faults by item, replica, node and attempt', async () => {
    const spec: SimFaultSpec = {
      crashAt: [
        { item: '0000000000-0000000100', replica: 2, block: 10 },
        { node: 'n9', block: 10 },
        { item: '0000000100-0000000200', attempt: 1, block: 150, signal: 'SIGSEGV' },
      ],
    };
    const { clock, runner } = setup({ faults: spec }, 'n1');
    const r1 = await finish(clock, start(runner, item(0, 100, { replica: 1 })));
    const r2 = await finish(clock, start(runner, item(0, 100, { replica: 2 })));
    expect(r1.result).toBeDefined();
    expect((r2.error as RunnerFailure).reason).toBe('crashed');
    const attempt1 = await finish(clock, start(runner, item(100, 200, { attempt: 1 })));
    const attempt2 = await finish(clock, start(runner, item(100, 200, { attempt: 2 })));
    expect((attempt1.error as RunnerFailure).details).toMatchObject({ exitCode: null, signal: 'SIGSEGV' });
    expect(attempt2.result).toBeDefined();
    const other = setup({ faults: spec }, 'n9');
    const onN9 = await finish(other.clock, start(other.runner, item(300, 400)));
    expect((onN9.error as RunnerFailure).reason).toBe('crashed');
  });

  it('hang stops progress until aborted', async () => {
    const { clock, runner } = setup({ faults: { hang: { item: it100.itemId, block: 30 } } });
    const controller = new AbortController();
    const run = start(runner, it100, controller.signal);
    await clock.advance(60_000);
    expect(run.state.settled).toBe(false);
    expect(run.progress.at(-1)?.headBlock).toBe(30);
    controller.abort(new Error('stop'));
    await run.promise;
    expect((run.state.error as Error).message).toBe('stop');
  });

  it('hang with a stall timeout fails the attempt as stalled', async () => {
    const { clock, runner } = setup({ stallTimeoutMs: 5_000, faults: { hang: { block: 30 } } });
    const run = start(runner, it100);
    await clock.advance(300);
    await clock.advance(4_999);
    expect(run.state.settled).toBe(false);
    await clock.advance(1);
    await run.promise;
    expect((run.state.error as RunnerFailure).reason).toBe('stalled');
  });

  it('wrongHash changes only the chosen item end hash, differently per node', async () => {
    const faults: SimFaultSpec = { wrongHash: { item: '0000000000-0000000100.r2' } };
    const a = setup({ faults }, 'n1');
    const b = setup({ faults }, 'n2');
    const good = await finish(a.clock, start(a.runner, item(0, 100, { replica: 1 })));
    const badA = await finish(a.clock, start(a.runner, item(0, 100, { replica: 2 })));
    const badB = await finish(b.clock, start(b.runner, item(0, 100, { replica: 2 })));
    expect(good.result?.endHash).toBe(simIntegrityHash('test-chain', 100));
    expect(badA.result?.endHash).not.toBe(good.result?.endHash);
    expect(badA.result?.endHash).not.toBe(badB.result?.endHash);
    expect(badA.result?.startHash).toBe(good.result?.startHash);
  });

  it('slow replays the chosen item at its own speed', async () => {
    const { clock, runner } = setup({ faults: { slow: { item: it100.itemId, blocksPerSecond: 10 } } });
    const run = start(runner, it100);
    await clock.advance(1000);
    expect(run.progress.at(-1)?.headBlock).toBe(10);
    const fast = start(runner, item(100, 200));
    await clock.advance(1000);
    expect(fast.progress.at(-1)?.headBlock).toBe(200);
  });
});

describe('sim fault spec and factory', () => {
  it('rejects malformed specs with a one-line reason', () => {
    expect(() => parseSimFaults('{nope')).toThrow(/not valid JSON/);
    expect(() => parseSimFaults('{"explode":{}}')).toThrow(/unknown fault "explode"/);
    expect(() => parseSimFaults('{"crashAt":{"blok":3}}')).toThrow(/unknown field "blok"/);
    expect(() => parseSimFaults('{"slow":{"item":"x"}}')).toThrow(/needs "blocksPerSecond"/);
    expect(() => parseSimFaults('{"crashAt":{"block":"3"}}')).toThrow(RunnerConfigError);
  });

  it('createRunner builds sim with faults from options or REPLAY_SIM_FAULTS, refuses unknown names', async () => {
    const clock = new ManualClock();
    const env = { REPLAY_SIM_FAULTS: '{"crashAt":{"block":5}}' };
    const fromEnv = createRunner('sim', { sim: { blocksPerSecond: 0 } }, { clock, logger: silentLogger, env });
    await expect(fromEnv.run(item(0, 10), { signal: new AbortController().signal, onProgress: () => {} }))
      .rejects.toMatchObject({ reason: 'crashed' });
    const fromOptions = createRunner('sim', { sim: { blocksPerSecond: 0, faults: '{}' } }, { clock, logger: silentLogger, env });
    await expect(fromOptions.run(item(0, 10), { signal: new AbortController().signal, onProgress: () => {} }))
      .resolves.toMatchObject({ headBlock: 10 });
    expect(() => createRunner('sim', {}, { clock, logger: silentLogger, env: { REPLAY_SIM_FAULTS: '[' } })).toThrow(/REPLAY_SIM_FAULTS is not valid JSON/);
    expect(() => createRunner('geth', {}, { clock, logger: silentLogger })).toThrow(/unknown runner "geth"/);
  });
});
