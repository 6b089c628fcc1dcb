import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A name for this process in the cluster: readable in logs (host and pid) and unique across
 * restarts (a random suffix), since a restarted node must never be taken for its former self.
 */
export const createNodeId = (): string => `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
