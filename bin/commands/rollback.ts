// `ferry rollback`: pins a part at an earlier deployment's commit (or any commit): a manual job with pin:true,
// held until `ferry resume`.
import { usage } from '../cli.ts';
import { PART_OPTIONS_HELP } from '../manual-job.ts';
import { deployCommand } from './deploy.ts';

export const help = usage(
  'ferry rollback <app>/<environment> <deployment|commit> [options]',
  `Deploys the commit of a deployment (its id or short id, from \`ferry history\`) or a commit (a full SHA or a
unique prefix) and pins the part there: pushes and new commits deploy nothing until \`ferry resume\`, and
checks report the part OutOfSync with the head they see (healing drift back to the pin with selfHeal). The job
goes to the install's worker, whose deployment the command waits for, as \`ferry deploy\` does.`,
  [
    ['--ref <ref>', "Ref the pin is recorded with, which `resume` follows (default: the deployment's)"],
    ['--override-deletion-budget', "Prune even more objects than the environment's deletion budget allows"],
    ...PART_OPTIONS_HELP,
  ],
);

export function run(args: readonly string[]): Promise<number> {
  return deployCommand('rollback', help, args, true);
}
