// Orchestration only: read the VaultSecret, resolve its identity, read what it references
// (from cache when the version is known), build the Secret, write it if it differs, write the
// status if it changed. Decisions live in the pure modules beside this one.
import { randomUUID } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ConditionType } from '../../api/reasons.ts';
import type { VaultSecret, VaultSecretStatus } from '../../api/vault-secret.ts';
import {
  apiVersion,
  kind,
  pendingForceSync,
  refreshIntervalMs,
  targetSecretName,
} from '../../api/vault-secret.ts';
import type { IdentityResolver } from '../../identity/types.ts';
import type { CertificateConverter, TlsMaterial } from '../../keyvault/certificate/index.ts';
import { CertificateError } from '../../keyvault/certificate/index.ts';
import { VaultError } from '../../keyvault/errors.ts';
import type { ObjectProperties, SecretValue } from '../../keyvault/types.ts';
import type { VaultPool } from '../../keyvault/vault-pool.ts';
import type { VaultMirror } from '../../keyvault/vault-mirror.ts';
import { isConflict } from '../../kube/api-errors.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { DigestedSecret, SecretWithoutData } from '../../kube/secret-digest.ts';
import type { SecretWriter } from '../../kube/secret-writer.ts';
import type { StatusWriter } from '../../kube/status-writer.ts';
import type { ReconcileResult } from '../../runtime/controller.ts';
import { TerminalError } from '../../runtime/controller.ts';
import {
  comparable,
  creationPolicy,
  dataDiffers,
  desiredSecret,
  mayWrite,
  needsWrite,
  replacement,
} from './desired-secret.ts';
import { adoptionRefusal } from './adopt.ts';
import type { Failure } from './failure.ts';
import { MERGE_FROM_ANNOTATION, mergeRefusal } from './merge-consent.ts';
import { classifyFailure, firstVaultFailure, SecretConflictError } from './failure.ts';
import type { ObjectRead, SyncPlan } from './plan.ts';
import { fixedReads, planSync, readId } from './plan.ts';
import { nextRefreshMs } from './refresh.ts';
import type { SyncedObject } from './secret-data.ts';
import { buildSecretData, ContentError } from './secret-data.ts';
import type { Outcome } from './status.ts';
import { checkSecretType } from './typed-target.ts';
import { nextStatus, progressStatus, readyCondition, statusChanged } from './status.ts';

export interface ReconcilerDeps {
  readonly vaultSecrets: { get(key: string): VaultSecret | undefined };
  /** kvsync's own Secrets, from the informer cache, without their values. */
  readonly secrets: { get(key: string): DigestedSecret | undefined };
  readonly secretWriter: SecretWriter;
  readonly statusWriter: StatusWriter;
  readonly events: EventRecorder;
  readonly pool: VaultPool;
  readonly certificates: Pick<CertificateConverter, 'convert'>;
  readonly identities: IdentityResolver;
  /** Validates `spec.vault.url` and returns its normalised form; throws InvalidSpecError. */
  readonly vaultUrlOf: (url: string) => string;
  readonly expiryWindowMs: number;
  /** For VaultSecrets that set no refreshInterval. */
  readonly defaultRefreshInterval: string;
  readonly log: Logger;
  readonly now?: () => Date;
  readonly random?: () => number;
  readonly onRotation?: (vaultSecret: VaultSecret, object: SyncedObject) => void;
  /** The Secret's data was written and differs from before (rollout restarts, event latency). */
  readonly onDataChanged?: (vaultSecret: VaultSecret, change: DataChange) => void;
  readonly onSynced?: (
    vaultSecret: VaultSecret,
    status: { ready: boolean; objects: readonly SyncedObject[] },
  ) => void;
  readonly onDeleted?: (key: string) => void;
}

export interface DataChange {
  /** The data kvsync wrote (its own keys only under Merge), base64 as in the Secret. */
  readonly data: Readonly<Record<string, string>>;
  /** The Secret was created, or this VaultSecret never synced before. */
  readonly firstSync: boolean;
  /** Same objects, versions and spec as the last sync: someone edited the Secret, kvsync undid it. */
  readonly driftRepair: boolean;
}

/** After the next sweep is due, time for it to finish before a stale VaultSecret looks again. */
const staleRetryMarginMs = 1_000;
/** While a sweep runs its successor is not scheduled yet; its recovery enqueues anyway. */
const slowRetryMs = 60_000;

/** Listings older than this are refreshed when a VaultSecret is seen for the first time. */
const firstSightListingMaxAgeMs = 30_000;

/** A first sync still under way after this long says so in the status (kstatus InProgress). */
const firstSyncGraceMs = 2_000;

export class VaultSecretReconciler {
  private readonly deps: ReconcilerDeps;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly registered = new Set<string>();
  /**
   * The force-sync value last acted on, per VaultSecret. The status records it too (for restarts),
   * but the informer cache may not show that write yet when kvsync's own Secret write requeues.
   */
  private readonly forceSyncsHandled = new Map<string, string>();
  /**
   * The versions this process announced as rotations, per VaultSecret: the status it compares with
   * comes from the cache and may not show its own last write yet.
   */
  private readonly announced = new Map<string, Map<string, string>>();

  constructor(deps: ReconcilerDeps) {
    this.deps = deps;
    this.now = deps.now ?? (() => new Date());
    this.random = deps.random ?? Math.random;
  }

  /**
   * `signal` aborts every Kubernetes write and Azure call of this reconcile (the Lease was lost, or
   * the shutdown deadline passed): an aborted reconcile writes nothing, not even its status.
   */
  async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const vaultSecret = this.deps.vaultSecrets.get(key);
    if (!vaultSecret) {
      this.forget(key);
      return {};
    }
    const log = this.deps.log.child({ vaultsecret: key, reconcileId: randomUUID() });
    const refreshMs = refreshIntervalMs(vaultSecret, this.deps.defaultRefreshInterval);
    const secretName = targetSecretName(vaultSecret);

    let outcome: Outcome;
    let failed: { error: unknown; failure: Failure } | undefined;
    const progress = this.reportSlowFirstSync(vaultSecret, secretName, signal);
    try {
      const synced = await this.sync(key, vaultSecret, refreshMs, signal);
      outcome = {
        ok: true,
        secretName,
        keyCount: synced.data.size,
        objects: synced.objects,
        dataChanged: synced.changed,
        refreshedAt: synced.refreshedAt,
      };
    } catch (error) {
      signal.throwIfAborted();
      const failure = classifyFailure(error, refreshMs);
      if (failure.internal) throw error;
      failed = { error, failure };
      outcome = { ok: false, secretName, reason: failure.reason, message: failure.message };
    } finally {
      progress.cancel();
    }

    const shown = (await progress.written) ?? vaultSecret.status;
    const status = await this.writeStatus(key, vaultSecret, shown, outcome, log, signal);
    // After the status records the new versions, so that a rotation is announced once even when a
    // Secret write succeeded but its answer was lost (the retry finds nothing left to write).
    if (outcome.ok) this.announceRotations(key, vaultSecret, outcome.objects, signal);
    if (!failed) {
      return {
        requeueAfterMs: nextRefreshMs(
          refreshMs,
          status,
          this.now(),
          this.deps.expiryWindowMs,
          this.random,
        ),
      };
    }

    const { error, failure } = failed;
    log.info({ reason: failure.reason }, 'sync failed: %s', failure.message);
    switch (failure.retry.kind) {
      case 'backoff':
        throw error;
      case 'after':
        return { requeueAfterMs: failure.retry.ms };
      case 'never':
        throw new TerminalError(failure.message);
    }
  }

  private async sync(
    key: string,
    vaultSecret: VaultSecret,
    refreshMs: number,
    signal: AbortSignal,
  ) {
    const plan = planSync(vaultSecret);
    const vaultUrl = this.deps.vaultUrlOf(vaultSecret.spec.vault.url);
    const identity = await this.deps.identities.resolve(vaultSecret, { signal });
    signal.throwIfAborted();
    const mirror = this.deps.pool.mirror(vaultUrl, identity);
    const forceSync = this.pendingForceSync(key, vaultSecret);
    const listingMaxAgeMs =
      forceSync !== undefined ? 0 : this.registered.has(key) ? Infinity : firstSightListingMaxAgeMs;
    const fixed = fixedReads(plan);
    this.register(key, mirror, plan, fixed, refreshMs);

    const found = await this.find(mirror, plan, listingMaxAgeMs);
    const reads = [...fixed, ...[...found.values()].flat().map(latestSecret)];
    this.register(key, mirror, plan, reads, refreshMs);
    const latest = latestNames(reads);
    if (forceSync !== undefined) {
      // Past the sweep and the value cache; pinned versions never change and stay cached.
      await this.deps.pool.reread(key, mirror, latest);
      this.forceSyncsHandled.set(key, forceSync);
    }
    const values = await this.fetchAll(mirror, reads);
    const certificates = await this.convertCertificates(mirror, plan, values);
    signal.throwIfAborted();
    const refreshedAt = new Date(
      mirror.confirmedAt(latest, found.size > 0) ?? this.now().getTime(),
    );

    const { data, objects } = buildSecretData({ plan, values, found, certificates });
    const typeProblem = checkSecretType(vaultSecret.spec.target?.type ?? 'Opaque', data);
    if (typeProblem) throw new ContentError('InvalidContent', typeProblem.message);
    if (data.size === 0) {
      throw new ContentError(
        'InvalidContent',
        'nothing to write: no object matched and no key was produced',
      );
    }
    const desired = desiredSecret(vaultSecret, data);
    const written = await this.writeSecret(vaultSecret, desired, signal);
    const changed = written !== 'unchanged';
    if (changed) {
      this.deps.onDataChanged?.(vaultSecret, {
        data: desired.data ?? {},
        ...dataChangeKind(vaultSecret, objects, written === 'created'),
      });
    }
    const stale = mirror.sweepFailure;
    if (stale) {
      // The Secret holds the last values read; say that they could not be re-validated. Nothing
      // changes before the next sweep (whose recovery enqueues every user): look again after it.
      throw new VaultError(
        stale.error.kind,
        `could not check the vault for new versions since ${stale.since.toISOString()}: ${stale.error.message}`,
        {
          cause: stale.error,
          retryAfterMs:
            (this.deps.pool.nextSweepInMs(mirror.key) ?? (refreshMs || slowRetryMs)) +
            staleRetryMarginMs,
        },
      );
    }
    return { objects, data, changed, refreshedAt };
  }

  /** A kvsync.io/force-sync value not acted on yet, by the status or by this process. */
  private pendingForceSync(key: string, vaultSecret: VaultSecret): string | undefined {
    const requested = pendingForceSync(vaultSecret);
    return requested !== this.forceSyncsHandled.get(key) ? requested : undefined;
  }

  private register(
    key: string,
    mirror: VaultMirror,
    plan: SyncPlan,
    reads: readonly ObjectRead[],
    refreshMs: number,
  ): void {
    const latest = latestNames(reads);
    const finds = plan.sources.flatMap((source) =>
      source.type === 'find' ? [source.selector] : [],
    );
    this.deps.pool.register(key, mirror, { latest, finds, refreshIntervalMs: refreshMs });
    this.registered.add(key);
  }

  private async find(
    mirror: VaultMirror,
    plan: SyncPlan,
    maxAge: number,
  ): Promise<Map<number, ObjectProperties[]>> {
    const found = new Map<number, ObjectProperties[]>();
    for (const [index, source] of plan.sources.entries()) {
      if (source.type === 'find') found.set(index, await mirror.find(source.selector, maxAge));
    }
    return found;
  }

  /** All or nothing: every read must succeed before anything is written. */
  private async fetchAll(
    mirror: VaultMirror,
    reads: readonly ObjectRead[],
  ): Promise<Map<string, SecretValue>> {
    const unique = new Map(reads.map((read) => [readId(read), read]));
    const settled = await Promise.allSettled(
      [...unique.values()].map((read) =>
        read.version === undefined
          ? mirror.latest(read.name)
          : mirror.version(read.name, read.version),
      ),
    );
    const values = new Map<string, SecretValue>();
    const failures: VaultError[] = [];
    [...unique.values()].forEach((read, index) => {
      const result = settled[index]!;
      if (result.status === 'fulfilled') values.set(readId(read), result.value);
      else failures.push(describe(read, result.reason));
    });
    if (failures.length > 0) throw firstVaultFailure(failures);
    return values;
  }

  /** Off the event loop and once per version (see CertificateConverter). */
  private async convertCertificates(
    mirror: VaultMirror,
    plan: SyncPlan,
    values: ReadonlyMap<string, SecretValue>,
  ): Promise<Map<number, TlsMaterial | CertificateError>> {
    const converted = new Map<number, TlsMaterial | CertificateError>();
    const conversions = plan.sources.map(async (source, index) => {
      if (source.type !== 'certificate') return;
      const value = values.get(readId(source.read));
      if (!value) return;
      const { output } = source;
      try {
        const tls = await this.deps.certificates.convert(
          { mirror: mirror.key, name: source.read.name, version: value.properties.version },
          { value: value.value, contentType: value.properties.contentType },
          { includeRoot: output.includeRoot, keyFormat: output.keyFormat, format: output.format },
        );
        converted.set(index, tls);
      } catch (error) {
        if (!(error instanceof CertificateError)) throw error;
        converted.set(index, error);
      }
    });
    await Promise.all(conversions);
    return converted;
  }

  /** Whether the Secret was created, its data changed, or neither. */
  private async writeSecret(
    vaultSecret: VaultSecret,
    desired: V1Secret,
    signal: AbortSignal,
  ): Promise<'created' | 'changed' | 'unchanged'> {
    const namespace = desired.metadata!.namespace!;
    const name = desired.metadata!.name!;
    const policy = creationPolicy(vaultSecret);

    if (policy === 'Merge') {
      // The cache's digest covers the whole Secret, keys others wrote included: compare kvsync's
      // keys with the Secret as it is now.
      const live = await this.deps.secretWriter.read(namespace, name, signal);
      if (!live)
        throw new SecretConflictError(
          `creationPolicy Merge needs an existing Secret ${name}; create it first`,
        );
      const current = comparable(live, desired, policy);
      const refusal = mergeRefusal(current, vaultSecret);
      if (refusal !== undefined) throw new SecretConflictError(refusal);
      this.checkOwnership(current, vaultSecret);
      if (!needsWrite(current, desired, policy, vaultSecret.metadata.uid)) return 'unchanged';
      await this.deps.secretWriter.apply(desired, signal);
      return dataDiffers(current, desired) ? 'changed' : 'unchanged';
    }

    let current = this.deps.secrets.get(`${namespace}/${name}`);
    if (!current) {
      try {
        await this.deps.secretWriter.create(desired, signal);
        return 'created';
      } catch (error) {
        if (!isConflict(error)) throw error;
        const live = await this.deps.secretWriter.read(namespace, name, signal);
        if (!live) throw error;
        current = comparable(live, desired, policy);
      }
    }
    this.checkOwnership(current, vaultSecret);
    if (!needsWrite(current, desired, policy, vaultSecret.metadata.uid)) return 'unchanged';
    await this.deps.secretWriter.replace(
      replacement(current, desired, vaultSecret.metadata.uid),
      signal,
    );
    return dataDiffers(current, desired) ? 'changed' : 'unchanged';
  }

  private checkOwnership(current: SecretWithoutData, vaultSecret: VaultSecret): void {
    if (mayWrite(current, vaultSecret)) return;
    const adoption = vaultSecret.spec.target?.adopt ? adoptionRefusal(current, vaultSecret) : '';
    throw new SecretConflictError(
      adoption ||
        `Secret ${current.metadata?.name} exists and is not managed by this VaultSecret; ` +
          'delete or rename it, choose another target.name, or use creationPolicy Merge with ' +
          `the Secret annotated ${MERGE_FROM_ANNOTATION}: ${vaultSecret.metadata.name}`,
    );
  }

  private announceRotations(
    key: string,
    vaultSecret: VaultSecret,
    objects: readonly SyncedObject[],
    signal: AbortSignal,
  ): void {
    const before = new Map(
      (vaultSecret.status?.objects ?? []).map((o) => [`${o.kind}/${o.name}`, o.version]),
    );
    for (const object of objects) {
      const id = `${object.kind}/${object.name}`;
      const previous = before.get(id);
      if (previous === undefined || previous === object.version) continue;
      const announced = this.announced.get(key) ?? new Map<string, string>();
      if (announced.get(id) === object.version) continue;
      announced.set(id, object.version);
      this.announced.set(key, announced);
      this.deps.events.emit(
        eventTarget(vaultSecret),
        'Normal',
        'Rotated',
        `${object.kind} ${object.name} rotated from version ${previous} to ${object.version}`,
        signal,
      );
      this.deps.onRotation?.(vaultSecret, object);
    }
  }

  /**
   * A VaultSecret without status counts as Current in kstatus. When its first sync takes longer
   * than a moment (a slow or paused vault), show Reconciling=True until it ends; a quick one
   * writes its status once, as before.
   */
  private reportSlowFirstSync(vaultSecret: VaultSecret, secretName: string, signal: AbortSignal) {
    const report: { written?: Promise<VaultSecretStatus | undefined>; cancel: () => void } = {
      cancel: () => {},
    };
    if (vaultSecret.status?.observedGeneration !== undefined) return report;
    const { namespace, name, generation } = vaultSecret.metadata;
    const timer = setTimeout(() => {
      const status = progressStatus(generation, secretName, this.now());
      report.written = this.deps.statusWriter.write(namespace, name, status, signal).then(
        () => status,
        // The final status write follows anyway and says what happened.
        () => undefined,
      );
    }, firstSyncGraceMs);
    report.cancel = () => clearTimeout(timer);
    return report;
  }

  private async writeStatus(
    key: string,
    vaultSecret: VaultSecret,
    previous: VaultSecretStatus | undefined,
    outcome: Outcome,
    log: Logger,
    signal: AbortSignal,
  ) {
    const status = nextStatus({
      previous,
      generation: vaultSecret.metadata.generation,
      outcome,
      now: this.now(),
      expiryWindowMs: this.deps.expiryWindowMs,
      handledForceSync: this.forceSyncsHandled.get(key),
    });
    this.deps.onSynced?.(vaultSecret, {
      ready: outcome.ok,
      objects: outcome.ok ? outcome.objects : [],
    });
    if (!statusChanged(previous, status)) return status;

    const wasReady = readyCondition(previous);
    const ready = readyCondition(status);
    if (ready && (wasReady?.status !== ready.status || wasReady.reason !== ready.reason)) {
      const type = ready.status === 'True' ? 'Normal' : 'Warning';
      this.deps.events.emit(eventTarget(vaultSecret), type, ready.reason, ready.message, signal);
      log.info({ ready: ready.status, reason: ready.reason }, 'ready condition changed');
    }
    const expiring = status.conditions?.find((c) => c.type === ConditionType.ExpiringSoon);
    const wasExpiring = previous?.conditions?.find((c) => c.type === ConditionType.ExpiringSoon);
    if (expiring?.status === 'True' && wasExpiring?.reason !== expiring.reason) {
      const { reason, message } = expiring;
      this.deps.events.emit(eventTarget(vaultSecret), 'Warning', reason, message, signal);
    }
    await this.deps.statusWriter.write(
      vaultSecret.metadata.namespace,
      vaultSecret.metadata.name,
      status,
      signal,
    );
    return status;
  }

  private forget(key: string): void {
    this.deps.pool.release(key);
    this.registered.delete(key);
    this.forceSyncsHandled.delete(key);
    this.announced.delete(key);
    this.deps.onDeleted?.(key);
  }
}

/** The names read at their latest version: what sweeps watch and force-sync re-reads. */
function latestNames(reads: readonly ObjectRead[]): Set<string> {
  return new Set(reads.filter((read) => read.version === undefined).map((read) => read.name));
}

function latestSecret(properties: ObjectProperties): ObjectRead {
  return { kind: 'secret', name: properties.name, version: undefined };
}

function describe(read: ObjectRead, error: unknown): VaultError {
  if (!(error instanceof VaultError)) {
    return new VaultError('Transient', `${read.kind} ${read.name}: ${String(error)}`, {
      objectName: read.name,
      cause: error,
    });
  }
  const message = error.message.includes(read.name)
    ? error.message
    : `${read.kind} ${read.name}: ${error.message}`;
  return new VaultError(error.kind, message, {
    ...(error.statusCode !== undefined ? { statusCode: error.statusCode } : {}),
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    objectName: read.name,
    cause: error,
  });
}

/**
 * Why the data changed, from what the last sync recorded: nothing recorded means a first sync;
 * the same objects at the same versions for the same spec generation mean the Secret drifted.
 */
function dataChangeKind(
  vaultSecret: VaultSecret,
  objects: readonly SyncedObject[],
  created: boolean,
): { firstSync: boolean; driftRepair: boolean } {
  const previous = vaultSecret.status?.objects;
  if (created || previous === undefined || previous.length === 0) {
    return { firstSync: true, driftRepair: false };
  }
  const print = (list: readonly { kind: string; name: string; version?: string }[]) =>
    list
      .map((o) => `${o.kind}/${o.name}@${o.version ?? ''}`)
      .sort()
      .join(',');
  const sameSpec = vaultSecret.status?.observedGeneration === vaultSecret.metadata.generation;
  return { firstSync: false, driftRepair: sameSpec && print(previous) === print(objects) };
}

function eventTarget(vaultSecret: VaultSecret) {
  return { apiVersion, kind, metadata: vaultSecret.metadata };
}
