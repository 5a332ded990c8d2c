import { describe, expect, it } from 'vitest';
import { checkSecretType } from '../../../src/controllers/vault-secret/typed-target.ts';

const data = (entries: Record<string, string>) =>
  new Map(Object.entries(entries).map(([key, value]) => [key, Buffer.from(value)]));

describe('checkSecretType', () => {
  it.each([
    ['Opaque', {}, undefined],
    ['kubernetes.io/tls', { 'tls.crt': 'c', 'tls.key': 'k' }, undefined],
    [
      'kubernetes.io/tls',
      { 'tls.crt': 'c' },
      'a Secret of type kubernetes.io/tls needs the key tls.key',
    ],
    [
      'kubernetes.io/tls',
      {},
      'a Secret of type kubernetes.io/tls needs the keys tls.crt and tls.key',
    ],
    ['kubernetes.io/dockerconfigjson', { '.dockerconfigjson': '{"auths":{"r.io":{}}}' }, undefined],
    [
      'kubernetes.io/dockerconfigjson',
      {},
      'a Secret of type kubernetes.io/dockerconfigjson needs the key .dockerconfigjson',
    ],
    [
      'kubernetes.io/dockerconfigjson',
      { '.dockerconfigjson': 'hunter2' },
      'a Secret of type kubernetes.io/dockerconfigjson has a .dockerconfigjson that is not JSON',
    ],
    [
      'kubernetes.io/dockerconfigjson',
      { '.dockerconfigjson': '{"auth":1}' },
      'a Secret of type kubernetes.io/dockerconfigjson has a .dockerconfigjson without an "auths" object',
    ],
    ['kubernetes.io/basic-auth', { password: 'p' }, undefined],
    [
      'kubernetes.io/basic-auth',
      { token: 't' },
      'a Secret of type kubernetes.io/basic-auth needs at least one of the keys username, password',
    ],
    [
      'kubernetes.io/ssh-auth',
      {},
      'a Secret of type kubernetes.io/ssh-auth needs the key ssh-privatekey',
    ],
  ])('%s with %j', (type, entries, expected) => {
    expect(checkSecretType(type, data(entries))?.message).toBe(expected);
  });

  it('never quotes the content it refuses', () => {
    const problem = checkSecretType(
      'kubernetes.io/dockerconfigjson',
      data({ '.dockerconfigjson': 'hunter2' }),
    );
    expect(problem?.message).not.toContain('hunter2');
  });
});
