import { randomBytes } from 'node:crypto';

/** A new epoch: 128 random bits, so a connection-scoped state's epoch can serve as the key to get it back. */
export const newEpoch = (): string => randomBytes(16).toString('base64url');
