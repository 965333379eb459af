#!/usr/bin/env node
// The `ferry` command: the local mode (`ferry serve`, which `npm start` runs) and the commands that operate an
// install, local or on AWS. This
// file only dispatches: each command is a module of `commands/`, loaded when it runs, and the local mode's
// wiring is its composition root, `functions/runtime/local.ts`. `serve` with no configuration given or found
// runs the demo instead, so that `npm start` on a fresh clone deploys something.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CliError, type Command, defaultConfigPath, err, out, printHelp, UsageError } from './cli.ts';

const COMMANDS: Readonly<Record<string, { readonly summary: string; load(): Promise<Command> }>> = {
  serve: {
    summary: 'Receive webhooks, deploy and reconcile (what `npm start` runs)',
    load: () => import('./commands/serve.ts'),
  },
  demo: {
    summary: 'Run the demo: a local cluster, a Git server and an example app, deployed (no configuration)',
    load: () => import('./commands/demo.ts'),
  },
  validate: { summary: 'Check a configuration file', load: () => import('./commands/validate.ts') },
  status: {
    summary: 'Show every part: sync, applied and head commits, pin, last check and result; the queue',
    load: () => import('./commands/status.ts'),
  },
  ui: { summary: 'Serve the status page on this machine', load: () => import('./commands/ui.ts') },
  history: {
    summary: "List a part's deployments with short ids: commit, trigger, result, duration, objects",
    load: () => import('./commands/history.ts'),
  },
  diff: {
    summary: 'Compare the live cluster with a revision (exit code 1 when they differ)',
    load: () => import('./commands/diff.ts'),
  },
  plan: {
    summary: 'What deploying a revision would change, from the live cluster (nothing applied)',
    load: () => import('./commands/plan.ts'),
  },
  deploy: {
    summary: 'Deploy a branch or tag of an environment now, or pin it at a commit',
    load: () => import('./commands/deploy.ts'),
  },
  rollback: {
    summary: "Pin a part at an earlier deployment's commit (or any commit)",
    load: () => import('./commands/rollback.ts'),
  },
  suspend: {
    summary: 'Stop pushes and checks from deploying a part until it is resumed',
    load: () => import('./commands/suspend.ts'),
  },
  resume: {
    summary: 'Lift a suspension and release a pin: the part follows its branch or tags again',
    load: () => import('./commands/resume.ts'),
  },
  wait: {
    summary: 'Wait until a part is Synced (at a commit), for scripts and CI',
    load: () => import('./commands/wait.ts'),
  },
  redrive: {
    summary: 'Show the dead letters, then put them back on the deploy queue',
    load: () => import('./commands/redrive.ts'),
  },
};

const HELP = `Usage: ferry <command> [options]

Ferry's local mode, and the commands that operate an install: the local mode's state directory
(--state-dir, default .ferry) or an AWS install (--stack NAME --region R, with your AWS credentials), with the
same output for both.

Commands:
${Object.entries(COMMANDS)
  .map(([name, { summary }]) => `  ${name.padEnd(10)} ${summary}`)
  .join('\n')}

Run \`ferry <command> --help\` for a command's options. \`ferry --version\` prints the version.`;

function command(name: string): Promise<Command> {
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (entry === undefined) throw new UsageError(`unknown command "${name}"`);
  return entry.load();
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h') return printHelp(HELP);
  if (name === '--version' || name === '-v') {
    const require = createRequire(import.meta.url);
    out((require('../package.json') as { version: string }).version);
    return 0;
  }
  if (name === 'help') return printHelp(args[0] === undefined ? HELP : (await command(args[0])).help);
  if (name === 'serve' && !configurationGivenOrFound(args)) {
    err(
      `ferry: no configuration given (--config, FERRY_CONFIG_FILE) or found (${defaultConfigPath()} in ${process.cwd()}): starting the demo.`,
    );
    err(
      '       To deploy your own apps: cp ferry.config.example.yaml ferry.config.yaml, edit it, start again.',
    );
    return (await command('demo')).run(args);
  }
  return (await command(name)).run(args);
}

/** A configuration named on the command line or in the environment, or one in the working directory. */
function configurationGivenOrFound(args: readonly string[]): boolean {
  const given = args.some(
    (arg) =>
      arg === '--config' ||
      arg.startsWith('--config=') ||
      /^-c/.test(arg) ||
      arg === '--help' ||
      arg === '-h',
  );
  return given || Boolean(process.env.FERRY_CONFIG_FILE) || existsSync(defaultConfigPath());
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      err(`ferry: ${error.message}`);
      err(`Run \`ferry ${error.command === undefined ? '' : `${error.command} `}--help\` for usage.`);
      process.exit(2);
    }
    // Known failures are one clear line; anything else is reported without a stack trace too.
    err(`ferry: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(error instanceof CliError ? error.exitCode : 1);
  },
);
