import { hostname, userInfo } from 'node:os';
import { Command } from 'commander';
import { isValidName, runKeys } from '../layout/keys.js';
import { readManifest } from '../manifest/read-manifest.js';
import { ALL_NODES, decodeControl } from '../records/control-record.js';
import { requestControl, resumeAll, type ControlRequestContext } from '../node/request-control.js';
import { getIfExists } from '../store/get-if-exists.js';
import { systemClock } from '../time/system-clock.js';
import { UserError } from './describe-error.js';
import { userErrors } from './manifest/cli-support.js';
import { checkRunId } from './manifest/publish-run.js';
import { withStore } from './manifest/store-option.js';

interface ControlFlags {
  store: string;
  run: string;
  node?: string;
  all?: boolean;
}

type Action = 'pause' | 'resume' | 'drain';

const SUMMARIES: Record<Action, string> = {
  pause: 'stop claiming new items (current items finish); the node stays up',
  resume: 'claim items again after a pause',
  drain: 'finish the current items, then exit',
};

/** `replay-node pause|resume|drain`: operator requests through control objects the nodes watch. */
export function controlCommands(): Command[] {
  return (['pause', 'resume', 'drain'] as const).map((action) =>
    new Command(action)
      .summary(SUMMARIES[action])
      .description(
        `${SUMMARIES[action][0]!.toUpperCase()}${SUMMARIES[action].slice(1)}, for one node or all of a run. Writes ` +
          'runs/<run>/control/<node|all>.json; nodes see it at their next control poll (once per heartbeat, a third of the lease TTL). No central server.',
      )
      .requiredOption('--store <url>', 'the shared store')
      .requiredOption('--run <run>', 'the run')
      .option('--node <id>', 'the node to act on')
      .option('--all', 'act on every node of the run')
      .action(userErrors((flags: ControlFlags) => control(action, flags))),
  );
}

async function control(action: Action, flags: ControlFlags): Promise<void> {
  if (Boolean(flags.node) === Boolean(flags.all)) throw new UserError(`${action} needs exactly one of --node ID or --all`);
  const target = flags.all ? ALL_NODES : flags.node!;
  if (!flags.all && (!isValidName(target) || target === ALL_NODES)) throw new UserError(`--node ${JSON.stringify(target)} is not a node id`);
  checkRunId(flags.run);
  await withStore(flags.store, { probe: true }, async (store) => {
    await readManifest(store, flags.run);
    const ctx: ControlRequestContext = { store, clock: systemClock, run: flags.run, by: `${userInfo().username}@${hostname()}` };
    const say = (line: string): void => void process.stdout.write(`${line}\n`);
    if (!flags.all && !(await getIfExists(store, runKeys(flags.run).node(target)))) {
      say(`note: no node ${target} has joined run ${flags.run} yet; the request waits for it`);
    }
    if (action === 'resume' && flags.all) {
      const targets = await resumeAll(ctx);
      say(`resumed run ${flags.run}: cleared the pause of ${targets.join(', ')}`);
      return;
    }
    const change = action === 'pause' ? { paused: true } : action === 'resume' ? { paused: false } : { drain: true };
    await requestControl(ctx, target, change);
    const who = flags.all ? `every node of run ${flags.run}` : `node ${target} of run ${flags.run}`;
    say(`${action} requested for ${who} (runs/${flags.run}/control/${target}.json)`);
    if (action === 'resume' && !flags.all) {
      const key = runKeys(flags.run).control(ALL_NODES);
      const all = await getIfExists(store, key);
      if (all && decodeControl(key, all.body).paused) say(`note: the whole run is paused (pause --all); ${target} stays paused until resume --all`);
    }
  });
}
