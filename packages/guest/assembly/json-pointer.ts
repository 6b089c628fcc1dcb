/** A key as a JSON Pointer reference token (RFC 6901): `~` becomes `~0`, `/` becomes `~1`. */
export function escapeKey(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
