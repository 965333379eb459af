// `server.json` in the state directory: which process serves it. One server per state directory; the CLI
// reads it to tell whether a running server will take the jobs it enqueues.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from './database.ts';

export interface ServerInfo {
  readonly pid: number;
  readonly url: string;
  readonly startedAt: string;
}

const serverFile = (stateDir: string) => join(stateDir, 'server.json');

function read(stateDir: string): ServerInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(serverFile(stateDir), 'utf8')) as Partial<ServerInfo>;
    return typeof info.pid === 'number' && typeof info.url === 'string' ? (info as ServerInfo) : undefined;
  } catch {
    return undefined;
  }
}

/** The server running on this state directory, if one is. */
export function runningServer(stateDir: string): ServerInfo | undefined {
  const info = read(stateDir);
  return info !== undefined && processAlive(info.pid) ? info : undefined;
}

/** Another server already runs on the state directory. */
export class StateDirectoryBusy extends Error {
  override name = 'StateDirectoryBusy';
}

/** Records this process as the state directory's server; throws when a live one is recorded already. */
export function claimServerFile(stateDir: string, info: ServerInfo): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(serverFile(stateDir), `${JSON.stringify(info)}\n`, { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const other = runningServer(stateDir);
    if (other !== undefined && other.pid !== info.pid) {
      throw new StateDirectoryBusy(
        `another Ferry server (pid ${other.pid}, ${other.url}) already uses the state directory ${stateDir}`,
      );
    }
    // Left behind by a server that did not stop cleanly.
    rmSync(serverFile(stateDir), { force: true });
  }
  throw new StateDirectoryBusy(`cannot record the server in ${serverFile(stateDir)}`);
}

/** Rewrites this process's record, e.g. with the port it listens on. */
export function updateServerFile(stateDir: string, info: ServerInfo): void {
  writeFileSync(serverFile(stateDir), `${JSON.stringify(info)}\n`);
}

/** Removes the record, if it is this process's. */
export function releaseServerFile(stateDir: string, pid: number): void {
  if (read(stateDir)?.pid === pid) rmSync(serverFile(stateDir), { force: true });
}
