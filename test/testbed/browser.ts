// A headless Chromium for the status page's browser tests: Debian's `chromium` package, installed with apt-get
// where it is missing (as the kube-apiserver is built where it is missing). A machine where it cannot be
// installed stops the run with one line saying what to install.
import { hasCommand, MissingPrerequisite, run } from './process.ts';

const COMMAND = 'chromium';
const INSTALL_HINT =
  "install Chromium to run the status page's browser tests (Debian: apt-get install chromium)";

/** The Chromium executable's path, installed first if it is missing. */
export async function ensureChromium(log: (line: string) => void): Promise<string> {
  const found = await executable();
  if (found !== undefined) return found;
  if (!(await hasCommand('apt-get'))) {
    throw new MissingPrerequisite(`${COMMAND} is not installed: ${INSTALL_HINT}`);
  }
  log(`${COMMAND} is not installed: installing Debian's ${COMMAND} package (apt-get update, then install)`);
  // Another run installing packages holds dpkg's lock: wait for it rather than fail.
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', [...lock, 'update', '-qq'], { env });
    await run('apt-get', [...lock, 'install', '-y', '-qq', '--no-install-recommends', COMMAND], { env });
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).trim().split('\n').at(-1);
    throw new MissingPrerequisite(`${COMMAND} could not be installed (${reason}): ${INSTALL_HINT}`);
  }
  const installed = await executable();
  if (installed === undefined) {
    throw new MissingPrerequisite(`${COMMAND} is still missing after apt-get install: ${INSTALL_HINT}`);
  }
  log(`${COMMAND} installed at ${installed}`);
  return installed;
}

/** The path of `chromium` on the PATH, when it is there. */
async function executable(): Promise<string | undefined> {
  const path = await run('sh', ['-c', `command -v ${COMMAND}`]).catch(() => '');
  return path.trim() === '' ? undefined : path.trim();
}
