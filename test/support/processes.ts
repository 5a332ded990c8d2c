// Child processes that cannot outlive the Node process that started them.
//
// Each server runs under a tiny Node supervisor whose stdin is a pipe from us. When we close the
// pipe, exit, crash or are SIGKILLed, the kernel closes it, the supervisor reads EOF and
// terminates the server (SIGTERM, then SIGKILL after a grace period). Linux's PR_SET_PDEATHSIG
// would do the same but is not reachable from Node.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import type { Socket } from 'node:net';

const SUPERVISOR = `
const { spawn } = require('node:child_process');
const { constants } = require('node:os');
const graceMs = Number(process.argv[1]);
const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['ignore', 2, 2] });
child.on('error', (err) => { process.stderr.write('supervisor: ' + err.message + '\\n'); process.exit(127); });
child.on('spawn', () => process.stdout.write(child.pid + '\\n'));
child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), graceMs);
};
// Whatever goes wrong here (e.g. EPIPE writing the pid to a parent that died), the server dies first.
process.on('uncaughtException', (err) => {
  child.kill('SIGKILL');
  process.stderr.write('supervisor: ' + err.message + '\\n');
  process.exit(1);
});
process.stdout.on('error', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, stop);
`;

export interface SupervisedOptions {
  /** Short name used in messages, e.g. `etcd`. */
  name: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr of the server (and the supervisor's own complaints) go here. */
  logPath: string;
  /** How long the server gets between SIGTERM and SIGKILL. */
  graceMs?: number;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Supervised {
  name: string;
  /** The server's own pid (not the supervisor's). */
  pid: number;
  supervisorPid: number;
  logPath: string;
  /** Resolves when the supervisor exits, which it does right after the server exits. */
  exited: Promise<ProcessExit>;
  /** Terminates the server and waits for it; idempotent. */
  stop(): Promise<void>;
}

/** Starts `command` under a supervisor and resolves once the server process exists. */
export async function startSupervised(options: SupervisedOptions): Promise<Supervised> {
  const graceMs = options.graceMs ?? 10_000;
  const logFd = openSync(options.logPath, 'a');
  let supervisor: ChildProcess;
  try {
    supervisor = spawn(
      process.execPath,
      ['-e', SUPERVISOR, String(graceMs), options.command, ...options.args],
      // Own process group: a terminal's Ctrl-C reaches only us, and we stop the servers in order.
      { stdio: ['pipe', 'pipe', logFd], detached: true },
    );
  } finally {
    closeSync(logFd);
  }
  const exited = new Promise<ProcessExit>((resolve) =>
    supervisor.once('exit', (code, signal) => resolve({ code, signal })),
  );
  // Do not keep the event loop alive for the servers; our own work decides when we exit.
  supervisor.unref();
  const pid = await readPid(supervisor, exited, options);
  (supervisor.stdout as Socket).unref();
  (supervisor.stdin as Socket).unref();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (supervisor.exitCode !== null || supervisor.signalCode !== null) return;
      supervisor.stdin?.end();
      const timeout = setTimeout(() => {
        killQuietly(pid, 'SIGKILL');
        killQuietly(supervisor.pid, 'SIGKILL');
      }, graceMs + 5_000);
      await exited;
      clearTimeout(timeout);
    })();
    return stopping;
  };
  return {
    name: options.name,
    pid,
    supervisorPid: supervisor.pid ?? -1,
    logPath: options.logPath,
    exited,
    stop,
  };
}

async function readPid(
  supervisor: ChildProcess,
  exited: Promise<ProcessExit>,
  options: SupervisedOptions,
): Promise<number> {
  const stdout = supervisor.stdout;
  if (!stdout) throw new Error(`${options.name}: supervisor has no stdout`);
  stdout.setEncoding('utf8');
  let buffered = '';
  // The supervisor writes the pid once the server exists; its stdout ends only when it exits.
  const line = await new Promise<string | undefined>((resolve) => {
    stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end >= 0) resolve(buffered.slice(0, end));
    });
    stdout.on('end', () => resolve(undefined));
  });
  if (line === undefined) {
    throw new Error(
      `${options.name} could not be started (${describeExit(await exited)}); see ${options.logPath}`,
    );
  }
  return Number(line);
}

export function describeExit(exit: ProcessExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

/** True while a process with this pid exists (zombies included, which only our children become). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function killQuietly(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}
