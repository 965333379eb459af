// Progress of a long operation (a deployment, a wait, a diff): a spinner on a terminal (yocto-spinner, loaded
// only then), plain lines on standard error otherwise, one per change of what is going on.
import { err } from './cli.ts';

export interface Progress {
  /** What is going on now. */
  update(text: string): void;
  /** Stops, with the outcome as the last line. */
  done(text: string, ok: boolean): void;
}

/** Whether standard error is a terminal a spinner can redraw. */
const interactive = () => process.stderr.isTTY === true && process.env.TERM !== 'dumb' && !process.env.CI;

export async function progress(text: string): Promise<Progress> {
  if (!interactive()) return plainProgress(text);
  const { default: yoctoSpinner } = await import('yocto-spinner');
  const spinner = yoctoSpinner({ text, stream: process.stderr }).start();
  return {
    update: (next) => {
      spinner.text = next;
    },
    done: (last, ok) => void (ok ? spinner.success(last) : spinner.error(last)),
  };
}

/** Plain lines: the start, each new text once, and the outcome. */
function plainProgress(text: string): Progress {
  let last = text;
  err(text);
  return {
    update: (next) => {
      if (next !== last) err(next);
      last = next;
    },
    done: (outcome) => err(outcome),
  };
}
