// kvsync's own Key Vault reader against Key Vault behaviour, in two tables:
// - cases.ts: behaviours kvsync relies on, seeded into and read from the fake Key Vault;
// - recorded-cases.ts: sessions recorded against the real service (recordings/). kvsync's reader
//   (the real SDK, challenge verification on) runs against each replayed session, and the fake
//   Key Vault is held to every recorded answer, so the other tests stand on real behaviour.
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { ClientSecretCredential } from '@azure/identity';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultBudget } from '../../src/keyvault/budget.ts';
import { createSecretReader } from '../../src/keyvault/secret-reader.ts';
import { startAzureDoubles, type AzureDoubles } from '../support/azure/index.ts';
import type { ConformanceBackend } from './backends.ts';
import { conformanceCases, type CaseContext } from './cases.ts';
import { replayAgainstDouble, requestJson } from './double-vs-recording.ts';
import { fakeBackend } from './fake-backend.ts';
import { recordedCases } from './recorded-cases.ts';
import { loadRecording } from './recordings.ts';
import {
  REPLAY_RESOURCE,
  REPLAY_TENANT,
  startReplayServer,
  type ReplayServer,
} from './replay-server.ts';

describe('Key Vault conformance: behaviour table on the fake Key Vault', () => {
  let backend: ConformanceBackend | undefined;
  let context: CaseContext;

  beforeAll(async () => {
    backend = await fakeBackend();
    const reader = createSecretReader({
      vaultUrl: backend.vaultUrl,
      credential: backend.credential,
      budget: createVaultBudget(),
      clientOptions: backend.clientOptions,
    });
    let counter = 0;
    context = { backend, reader, name: (prefix) => `${prefix}-${(counter += 1)}` };
  });

  afterAll(async () => {
    await backend?.stop();
  });

  it.each(conformanceCases)('$name', async (testCase) => {
    expect(await testCase.run(context)).toEqual(testCase.expected);
  });
});

describe('Key Vault conformance: kvsync reader against recorded Key Vault sessions', () => {
  let replay: ReplayServer | undefined;

  beforeAll(async () => {
    replay = await startReplayServer();
  });

  afterAll(async () => {
    await replay?.close();
  });

  const readable = recordedCases.filter((c) => c.reader !== undefined);
  it.each(readable.map((c, i) => ({ ...c, vaultName: `replay-${i}` })))(
    '$name ($file)',
    async ({ file, reader: check, vaultName }) => {
      const vault = replay!.serve(vaultName, await loadRecording(file));
      const credential = new RecordingCredential();
      const reader = createSecretReader({
        vaultUrl: vault.url,
        credential,
        budget: createVaultBudget(),
        clientOptions: { agent: replay!.agent },
      });
      const observation = await check!.run(reader);
      expect({ observation, misses: vault.misses }).toEqual({
        observation: check!.expected,
        misses: [],
      });
      // The first request went without a token and met Key Vault's challenge; the token was then
      // asked for the challenge's resource and tenant (mapped from the recording).
      expect(vault.served[0]).toBe('401 challenge');
      expect(credential.asked).toEqual([`${REPLAY_RESOURCE}/.default ${REPLAY_TENANT}`]);
    },
  );
});

describe('Key Vault conformance: the fake Key Vault against recorded Key Vault sessions', () => {
  let azure: AzureDoubles | undefined;
  let token: string;
  let clientId: string;

  beforeAll(async () => {
    azure = await startAzureDoubles();
    const clientSecret = randomUUID();
    clientId = azure.entra.registerApp({ clientSecret }).clientId;
    const credential = new ClientSecretCredential(
      azure.tenantId,
      clientId,
      clientSecret,
      azure.clientOptions,
    );
    token = (await credential.getToken(`${azure.keyVaultResource}/.default`)).token;
    for (const [i] of recordedCases.entries()) {
      azure.keyVault.createVault(`recorded-${i}`).grant(clientId);
    }
  });

  afterAll(async () => {
    await azure?.close();
  });

  it.each(recordedCases.map((c, i) => ({ ...c, index: i })))('$name ($file)', async (testCase) => {
    const recording = await loadRecording(testCase.file);
    const vault = azure!.keyVault.vault(`recorded-${testCase.index}`);
    const run = await replayAgainstDouble(testCase, recording, vault, {
      agent: azure!.agent,
      token,
    });
    expect(run).toEqual({ differences: [], notReached: testCase.notReachedByDouble ?? [] });
  });

  it('a listing whose last page is full ends with an empty page, as Key Vault ended one', async () => {
    const recording = await loadRecording('list-secrets-by-page.json');
    const recordedEnd = recording.entries.at(-1)!.ResponseBody;
    const vault = azure!.keyVault.createVault('full-last-page');
    vault.grant(clientId, { readOnly: true });
    for (const name of ['a', 'b']) vault.setSecret(`${name}-secret`, 'x');
    const pages: unknown[] = [];
    let next: string | null = `${vault.url}/secrets?api-version=2025-07-01&maxresults=2`;
    while (next !== null && pages.length < 5) {
      const answer = await requestJson('GET', next, null, { agent: azure!.agent, token });
      const page = answer.body as { nextLink: string | null };
      pages.push(page);
      next = page.nextLink;
    }
    expect(pages).toHaveLength(2);
    expect(pages[1]).toEqual(recordedEnd);
  });
});

/** Records what the SDK's challenge handling asked for; the replay accepts any token. */
class RecordingCredential implements TokenCredential {
  readonly asked: string[] = [];

  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    this.asked.push(`${[scopes].flat().join(' ')} ${options?.tenantId}`);
    return Promise.resolve({ token: 'replayed', expiresOnTimestamp: Date.now() + 3_600_000 });
  }
}
