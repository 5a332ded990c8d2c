import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { describe, expect, it } from 'vitest';
import { SharedTokenRequests } from '../../../src/identity/shared-token-requests.ts';

/** A credential whose requests stay open until answered, counting what reaches it. */
function slowCredential() {
  const calls: { scopes: string | string[]; options: GetTokenOptions | undefined }[] = [];
  const answers: ((token: AccessToken | Error) => void)[] = [];
  const credential: TokenCredential = {
    getToken(scopes, options) {
      calls.push({ scopes, options });
      return new Promise((resolve, reject) =>
        answers.push((answer) => (answer instanceof Error ? reject(answer) : resolve(answer))),
      );
    },
  };
  const answerAll = (answer: AccessToken | Error) => answers.splice(0).forEach((a) => a(answer));
  return { credential, calls, answerAll };
}

const token = (name: string): AccessToken => ({
  token: name,
  expiresOnTimestamp: Date.now() + 3.6e6,
});
const vault = 'https://vault.azure.net/.default';

describe('sharingTokenRequests', () => {
  it('sends one request for concurrent callers and passes later calls through', async () => {
    const { credential, calls, answerAll } = slowCredential();
    const shared = new SharedTokenRequests(credential);
    const waiting = Array.from({ length: 5 }, () => shared.getToken(vault));
    expect(calls).toHaveLength(1);
    answerAll(token('first'));
    expect((await Promise.all(waiting)).map((t) => t?.token)).toEqual(Array(5).fill('first'));

    const later = shared.getToken(vault);
    expect(calls, 'after the answer, the credential (and its cache) is asked again').toHaveLength(
      2,
    );
    answerAll(token('second'));
    expect((await later)?.token).toBe('second');
  });

  it('keeps different scopes, tenants and claims apart', () => {
    const { credential, calls } = slowCredential();
    const shared = new SharedTokenRequests(credential);
    void shared.getToken(vault);
    void shared.getToken('https://storage.azure.com/.default');
    void shared.getToken(vault, { tenantId: 'other' });
    void shared.getToken(vault, { claims: 'e30=' });
    void shared.getToken([vault]);
    expect(calls).toHaveLength(4);
  });

  it('shares a failure, then tries again', async () => {
    const { credential, calls, answerAll } = slowCredential();
    const shared = new SharedTokenRequests(credential);
    const both = [shared.getToken(vault), shared.getToken(vault)];
    answerAll(new Error('AADSTS700016'));
    for (const result of await Promise.allSettled(both)) expect(result.status).toBe('rejected');
    void shared.getToken(vault);
    expect(calls).toHaveLength(2);
  });

  it("does not let one caller's abort cancel the request the others wait on", async () => {
    const { credential, calls, answerAll } = slowCredential();
    const shared = new SharedTokenRequests(credential);
    const other = shared.getToken(vault);
    const aborting = new AbortController();
    const aborted = shared.getToken(vault, { abortSignal: aborting.signal });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.options?.abortSignal).toBeUndefined();
    // The aborted caller stops waiting at once; the other still gets the shared answer.
    aborting.abort(new Error('lost the Lease'));
    await expect(aborted).rejects.toThrow('lost the Lease');
    answerAll(token('shared'));
    expect((await other)?.token).toBe('shared');
  });
});
