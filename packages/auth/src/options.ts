import { AuthConfigError } from './errors';

/** Rejects option objects that are not plain objects or that carry keys not in `known` (typos fail loudly). */
export function checkOptions(value: unknown, known: readonly string[], where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', `${where} must be an object`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new AuthConfigError(
        'ERR_AUTH_CONFIG_UNKNOWN_OPTION',
        `${where}: unknown option ${JSON.stringify(key)} (known: ${known.join(', ')})`,
      );
    }
  }
  return value as Record<string, unknown>;
}
