// CPU time from Linux's /proc: of a process, of this process's reaped children, and of the test bed's API
// server and etcd, found by the ports they serve. What the benchmarks use to say where a run's time went.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (Linux's USER_HZ). */
const TICKS_PER_SECOND = 100;

/** A process's parent and CPU seconds (its own, and its reaped children's), from /proc/<pid>/stat. */
export interface ProcessTimes {
  readonly ppid: number;
  readonly ownSeconds: number;
  readonly childrenSeconds: number;
}

/** `undefined` once the process is gone. */
function processTimes(pid: number | 'self'): ProcessTimes | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // After the name: state, ppid, ... utime (the 14th field of the line), stime, cutime, cstime.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const seconds = (...at: number[]) =>
    at.reduce((sum, i) => sum + Number(fields[i] ?? 0), 0) / TICKS_PER_SECOND;
  return { ppid: Number(fields[1] ?? 0), ownSeconds: seconds(11, 12), childrenSeconds: seconds(13, 14) };
}

/** Every process's times, by pid. */
export function allProcessTimes(): Map<number, ProcessTimes> {
  const all = new Map<number, ProcessTimes>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const times = processTimes(Number(entry));
    if (times !== undefined) all.set(Number(entry), times);
  }
  return all;
}

/**
 * CPU seconds the whole machine has spent busy (every state of /proc/stat's first line but idle and I/O wait).
 * The load average cannot tell the bench's share from other work's: it counts the threads waiting for a core
 * too, so a bench that keeps both cores busy with four runnable threads reads as a load of 4.
 */
export function machineCpuSeconds(): number {
  const [line = ''] = readFileSync('/proc/stat', 'utf8').split('\n');
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (
    [user, nice, system, irq, softirq, steal].reduce<number>((sum, n) => sum + (n ?? 0), 0) / TICKS_PER_SECOND
  );
}

/** The pid of the process whose command line holds `argument`, if one does. */
function pidWithArgument(argument: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(argument)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** The kube-apiserver serving `server` (`https://127.0.0.1:<port>`) and its etcd, on this machine. */
export function apiServerPids(server: string): readonly number[] {
  const apiServer = pidWithArgument(`--secure-port=${new URL(server).port}`);
  if (apiServer === undefined) return [];
  const etcdServers = readFileSync(`/proc/${apiServer}/cmdline`, 'utf8')
    .split('\0')
    .find((arg) => arg.startsWith('--etcd-servers='));
  const url = etcdServers?.slice('--etcd-servers='.length);
  const etcd = url === undefined ? undefined : pidWithArgument(`--listen-client-urls=${url}`);
  return etcd === undefined ? [apiServer] : [apiServer, etcd];
}

/** CPU milliseconds the processes have used so far (those gone count nothing). */
function cpuMs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (processTimes(pid)?.ownSeconds ?? 0) * 1000, 0);
}

/** CPU milliseconds this process's children have used, counted once reaped. */
function childrenCpuMs(): number {
  return (processTimes('self')?.childrenSeconds ?? 0) * 1000;
}

/** CPU milliseconds a run cost: the API server with its etcd, the tool (this process and its children), a proxy. */
export interface CpuSpent {
  readonly server: number;
  readonly tool: number;
  readonly proxy: number;
}

/**
 * Meters runs against the API server serving `server` (and through the proxy process `proxyPid`): what each
 * costs in CPU, the tool's counted as this process's own time and its children's reaped meanwhile.
 */
export function cpuMeter(
  server: string,
  proxyPid?: number,
): <T>(work: () => Promise<T>) => Promise<{ value: T; cpu: CpuSpent }> {
  const servers = apiServerPids(server);
  const now = (): CpuSpent => {
    const own = process.cpuUsage();
    return {
      server: cpuMs(servers),
      tool: (own.user + own.system) / 1000 + childrenCpuMs(),
      proxy: proxyPid === undefined ? 0 : cpuMs([proxyPid]),
    };
  };
  return async (work) => {
    const before = now();
    const value = await work();
    const after = now();
    const spent = (key: keyof CpuSpent) => after[key] - before[key];
    return { value, cpu: { server: spent('server'), tool: spent('tool'), proxy: spent('proxy') } };
  };
}
