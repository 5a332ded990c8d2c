// `npm run cluster`: the test control plane in the foreground, for trying kvsync by hand.
// Usage: node test/support/cluster-cli.ts [--json] [--dir <path>]
//   --json   print one JSON line with the connection details and pids (for scripts and tests)
//   --dir    keep certificates, etcd data and logs in <path> instead of a temporary directory
import { parseArgs } from 'node:util';
import { startControlPlane } from './control-plane.ts';

const { values } = parseArgs({
  options: { json: { type: 'boolean', default: false }, dir: { type: 'string' } },
});

const cp = await startControlPlane({
  dir: values.dir,
  log: values.json ? undefined : (message) => console.error(message),
});

if (values.json) {
  const { kubeconfigPath, server, caFile, issuer, binDir, dir, processes, startupMs } = cp;
  console.log(
    JSON.stringify({ kubeconfigPath, server, caFile, issuer, binDir, dir, processes, startupMs }),
  );
} else {
  console.log(`
kvsync test control plane is up (${(cp.startupMs / 1000).toFixed(1)} s)
  server:     ${cp.server}
  issuer:     ${cp.issuer}
  kubeconfig: ${cp.kubeconfigPath}
  logs:       ${cp.processes.map((p) => p.logPath).join('\n              ')}
  tools:      ${cp.binDir} (kubectl, helm)

export KUBECONFIG=${cp.kubeconfigPath}

Press Ctrl-C to stop.`);
}

// The servers do not hold our event loop open (so scripts exit when done); this does, until a signal.
const keepAlive = setInterval(() => {}, 1 << 30);
let exitCode = 0;
let shuttingDown = false;
const shutdown = async (reason: string) => {
  if (shuttingDown) {
    // A second Ctrl-C: leave now; the supervisors still stop the servers when our pipes close.
    console.error('exiting without waiting');
    process.exit(130);
  }
  shuttingDown = true;
  clearInterval(keepAlive);
  console.error(`${reason}; stopping the control plane`);
  await cp.stop();
  console.error('stopped');
  process.exit(exitCode);
};
process.on('SIGINT', () => void shutdown('interrupted'));
process.on('SIGTERM', () => void shutdown('terminated'));
void cp.crashed.then((message) => {
  exitCode = 1;
  void shutdown(message);
});
