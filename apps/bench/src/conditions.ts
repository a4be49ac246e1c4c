/** The run's conditions for the report: machine, load before and after, versions, devices. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { Devices } from './devices.js';
import type { CaseRecord, Conditions } from './report/model.js';

export function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** The devices that ran, described while their runtimes are alive. */
export function describeDevices(d: Devices): Conditions['devices'] {
  return d.targets.map((t) => ({ device: t.device, label: t.label, describe: t.rt.backend(t.device).describe() }));
}

export function conditions(d: Devices | null, devices: Conditions['devices'], loadBefore: number[], cases: readonly CaseRecord[], peers: Record<string, string>, notes: string[]): Conditions {
  const cpus = os.cpus();
  const commit = gitCommit();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown CPU',
    cpuCount: cpus.length,
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadBefore,
    loadAfter: os.loadavg(),
    loadMax: Math.max(loadBefore[0] ?? 0, ...cases.map((c) => c.load1)),
    ...(commit ? { gitCommit: commit } : {}),
    devices,
    missing: d?.missing ?? [],
    peers: { ...peers },
    notes,
  };
}
