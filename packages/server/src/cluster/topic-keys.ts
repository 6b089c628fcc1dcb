/**
 * The Redis names of one topic. The topic sits in a hash tag (`{...}`) so a topic's keys
 * share one slot and its scripts also run on a Redis Cluster.
 */
export class TopicKeys {
  /** The owner: `<node id>/<fencing token>`, expiring unless renewed. */
  readonly lease: string;
  /** The last fencing token handed out: only ever incremented. */
  readonly fence: string;
  /** A hash: the state's JSON, its sequence number and epoch. */
  readonly state: string;
  /** The latest encoded patches, oldest first, for resume. */
  readonly log: string;
  /** Where the owner publishes each committed update, once, for every node. */
  readonly updates: string;

  constructor(prefix: string, readonly topic: string) {
    const base = `${prefix}{${topic}}`;
    this.lease = `${base}:lease`;
    this.fence = `${base}:fence`;
    this.state = `${base}:state`;
    this.log = `${base}:log`;
    this.updates = `${base}:updates`;
  }
}

/** The channel a node receives forwarded requests and direct answers on. */
export const nodeChannel = (prefix: string, nodeId: string): string => `${prefix}node:${nodeId}`;
