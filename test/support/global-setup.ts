// One control plane per `integration` run, shared by every test file through inject('controlPlane').
import type { TestProject } from 'vitest/node';
import { startControlPlane, type ControlPlaneInfo } from './control-plane.ts';
import { installCrds } from './crds.ts';
import { kubeConfigFrom } from './kube.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    controlPlane: ControlPlaneInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cp = await startControlPlane({
    // Cheap (writes of a few resources, no bodies); tests prove who wrote what, and when.
    audit: true,
    beforeControllers: async (info) => installCrds(kubeConfigFrom(info)),
  });
  process.stderr.write(
    `control plane ready at ${cp.server} in ${(cp.startupMs / 1000).toFixed(1)} s (logs in ${cp.dir})\n`,
  );
  // A dead component otherwise shows up only as connection errors in unrelated tests.
  void cp.crashed.then((message) => process.stderr.write(`control plane: ${message}\n`));
  const info: ControlPlaneInfo = {
    kubeconfigPath: cp.kubeconfigPath,
    server: cp.server,
    caFile: cp.caFile,
    issuer: cp.issuer,
    binDir: cp.binDir,
    ...(cp.auditLogPath ? { auditLogPath: cp.auditLogPath } : {}),
  };
  project.provide('controlPlane', info);
  return () => cp.stop();
}
