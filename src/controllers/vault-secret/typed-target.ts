// Pure: the keys a typed Secret must carry, checked before the write so that the user reads what
// is missing in the status instead of an API server refusal in kvsync's logs.

export interface TypeProblem {
  readonly message: string;
}

type Check = (data: ReadonlyMap<string, Buffer>) => string | undefined;

const requireKeys =
  (...keys: string[]): Check =>
  (data) => {
    const missing = keys.filter((key) => !data.has(key));
    return missing.length === 0
      ? undefined
      : `needs the key${missing.length > 1 ? 's' : ''} ${missing.join(' and ')}`;
  };

const requireOneOf =
  (...keys: string[]): Check =>
  (data) =>
    keys.some((key) => data.has(key))
      ? undefined
      : `needs at least one of the keys ${keys.join(', ')}`;

const dockerConfigJson: Check = (data) => {
  const content = data.get('.dockerconfigjson');
  if (!content) return 'needs the key .dockerconfigjson';
  let parsed: unknown;
  try {
    parsed = JSON.parse(content.toString('utf8'));
  } catch {
    return 'has a .dockerconfigjson that is not JSON';
  }
  const auths = (parsed as { auths?: unknown } | null)?.auths;
  if (auths === null || typeof auths !== 'object' || Array.isArray(auths)) {
    return 'has a .dockerconfigjson without an "auths" object';
  }
  return undefined;
};

// A Map: the type is the user's text ("constructor" is a type, not Object's constructor).
const checks: ReadonlyMap<string, Check> = new Map([
  ['kubernetes.io/tls', requireKeys('tls.crt', 'tls.key')],
  ['kubernetes.io/dockerconfigjson', dockerConfigJson],
  ['kubernetes.io/dockercfg', requireKeys('.dockercfg')],
  ['kubernetes.io/basic-auth', requireOneOf('username', 'password')],
  ['kubernetes.io/ssh-auth', requireKeys('ssh-privatekey')],
]);

/** Undefined when the data fits the Secret type; otherwise what is wrong, without any value. */
export function checkSecretType(
  type: string,
  data: ReadonlyMap<string, Buffer>,
): TypeProblem | undefined {
  const problem = checks.get(type)?.(data);
  return problem === undefined ? undefined : { message: `a Secret of type ${type} ${problem}` };
}
