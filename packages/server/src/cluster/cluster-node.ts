import { randomUUID } from 'node:crypto';
import type { Route, Router } from '../channels/route.js';
import type { Logger } from '../logger.js';
import { checkObject, checkOptionalPositiveInteger, checkOptionalString } from '../option-checks.js';
import { errorText } from '../error-text.js';
import { RedisStorage } from '../storage/redis-storage.js';
import { DEFAULT_PATCH_WINDOW } from '../storage/storage.js';
import type { Position } from '../storage/storage.js';
import { ClusterTopic, type ForwardContext } from './cluster-topic.js';
import { ConnectionStorage } from './connection-storage.js';
import { decodeMessage, encodeMessage, type Answer, type NodeMessage, type Request, type Update } from './messages.js';
import { createNodeId } from './node-id.js';
import { OwnedTopic, type OwnerContext } from './owned-topic.js';
import { connectRedis, redact, type RedisClient } from './redis-client.js';
import { nodeChannel, TopicKeys } from './topic-keys.js';
import { TopicLease } from './topic-lease.js';

export interface ClusterOptions {
  /** The Redis every node of the cluster uses, e.g. `redis://10.0.0.5:6379`. */
  redis: string;
  /**
   * How long a node owns a topic without renewing its lease. When a node dies, its topics
   * move to another node within about this time. Default 5.
   */
  leaseSeconds?: number;
  /** Starts every Redis key and channel name, to share one Redis between deployments. Default `livestate:`. */
  prefix?: string;
  /** Patches kept per topic so a reconnecting client can resume with patches only. Default 128. */
  patchWindow?: number;
  /** This node's name in logs and in Redis. Default: host, pid and a random suffix. */
  nodeId?: string;
}

/** Throws a `TypeError` naming the `cluster` option that is wrong, when the server is built. */
export function checkClusterOptions(cluster: unknown): void {
  checkObject(cluster, 'cluster');
  if (typeof cluster.redis !== 'string') throw new TypeError(`invalid cluster.redis: expected a Redis URL such as "redis://127.0.0.1:6379", got ${typeof cluster.redis}`);
  const { leaseSeconds } = cluster;
  if (leaseSeconds !== undefined && !(typeof leaseSeconds === 'number' && Number.isFinite(leaseSeconds) && leaseSeconds > 0)) {
    throw new TypeError(`invalid cluster.leaseSeconds: expected a positive number of seconds, got ${String(leaseSeconds)}`);
  }
  checkOptionalString(cluster.prefix, 'cluster.prefix');
  checkOptionalPositiveInteger(cluster.patchWindow, 'cluster.patchWindow');
  checkOptionalString(cluster.nodeId, 'cluster.nodeId');
}

/** How long a request waits for a dead owner's lease to expire before it gives up. */
const TAKEOVER_PATIENCE = 3;

/**
 * One process of a cluster. Any node accepts sockets and joins for any topic; each topic is
 * owned by one node at a time (a lease in Redis), which applies its events and publishes the
 * updates that every node fans out to its own members.
 */
export class ClusterNode implements ForwardContext, OwnerContext {
  readonly nodeId: string;
  private readonly prefix: string;
  private readonly leaseMs: number;
  private readonly storage: RedisStorage;
  private readonly owned = new Map<string, OwnedTopic>();
  private readonly topics = new Map<string, ClusterTopic>();
  private readonly owners = new Map<string, string>();
  private readonly barriers = new Map<string, () => void>();
  /** Answers to other nodes that could not be published while this node's command connection was down. */
  private heldAnswers: Array<() => Promise<void>> = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private nextRequest = 1;
  private closing = false;

  private constructor(
    options: ClusterOptions,
    private readonly router: Router,
    readonly logger: Logger,
    private readonly redis: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly releaseIdleMs: number,
  ) {
    this.nodeId = options.nodeId ?? createNodeId();
    this.prefix = options.prefix ?? 'livestate:';
    this.leaseMs = Math.round((options.leaseSeconds ?? 5) * 1000);
    this.storage = new RedisStorage({ client: redis, prefix: this.prefix, patchWindow: options.patchWindow ?? DEFAULT_PATCH_WINDOW });
  }

  /**
   * `releaseIdleMs`: a topic owned here that gets no request for this long is handed back (its
   * lease released), so leases and memory follow the topics in use; the next request, on any
   * node, takes it again from Redis.
   */
  static async start(options: ClusterOptions, router: Router, logger: Logger, releaseIdleMs: number): Promise<ClusterNode> {
    let node: ClusterNode | undefined;
    const redis = await connectRedis(options.redis, 'commands', logger, {
      onBack: () => {
        node?.sendHeldAnswers();
        node?.resynchronize();
      },
    });
    const subscriber = await connectRedis(options.redis, 'updates', logger, {
      onDown: () => node?.topics.forEach((view) => view.connectionLost()),
      onBack: () => node?.resynchronize(),
    }).catch(async (error: unknown) => {
      await redis.close();
      throw error;
    });
    node = new ClusterNode(options, router, logger, redis, subscriber, releaseIdleMs);
    await subscriber.subscribe(nodeChannel(node.prefix, node.nodeId), (message) => node.receive(message));
    node.timers.push(
      setInterval(() => void node.renewLeases(), node.leaseMs / 3),
      setInterval(() => void node.watchOwners(), node.leaseMs / 2),
    );
    logger.info(`cluster: node ${node.nodeId} using Redis ${redact(options.redis)} (lease ${node.leaseMs / 1000} s)`);
    return node;
  }

  /** Where a connection-scoped state of `topic` is kept: Redis, under its epoch. */
  connectionStorage(topic: string, resume: Position | undefined): ConnectionStorage {
    return new ConnectionStorage(this.storage, topic, resume);
  }

  /** The local view of a topic a channel joins. */
  topicFor(topic: string): ClusterTopic {
    let view = this.topics.get(topic);
    if (!view) {
      view = new ClusterTopic(this, topic);
      this.topics.set(topic, view);
    }
    return view;
  }

  /**
   * Hands every owned topic over (finishing queued work first, then releasing its lease) and
   * disconnects. Requests that other nodes published here until then are answered `moved`:
   * this node stops listening first, then waits for those answers to leave, so every request
   * sent to it either gets an answer or was published to nobody (and its node asks Redis again).
   */
  async close(): Promise<void> {
    this.closing = true;
    this.timers.forEach(clearInterval);
    const owned = [...this.owned.values()];
    await Promise.all(owned.map((topic) => this.release(topic)));
    await this.subscriber.unsubscribe(nodeChannel(this.prefix, this.nodeId)).catch(() => undefined);
    await Promise.all(owned.map((topic) => topic.drain()));
    await Promise.allSettled([this.subscriber.close(), this.redis.close()]);
  }

  nextRequestId(): string {
    return String(this.nextRequest++);
  }

  async send(request: Request): Promise<string> {
    const deadline = Date.now() + TAKEOVER_PATIENCE * this.leaseMs;
    let unreachable: string | undefined;
    for (;;) {
      // Its answer or update would be published while this node is not subscribed, and never arrive.
      if (!this.subscriber.isReady) throw new Error('the connection that receives answers is down');
      const owner = await this.ownerOf(request.topic);
      const ownedHere = owner === this.nodeId && this.owned.get(request.topic);
      if (ownedHere) {
        void ownedHere.handle(request);
        return owner;
      }
      if (owner !== this.nodeId && (await this.redis.publish(nodeChannel(this.prefix, owner), encodeMessage(request))) > 0) {
        return owner;
      }
      // Nobody listens on the owner's channel: its node stopped. One that shut down released its
      // leases before it stopped listening (however late its `released` reaches this node), so
      // the lease is read again at once; only one that still names the stopped node is waited out.
      this.owners.delete(request.topic);
      if (owner === unreachable) {
        if (Date.now() > deadline) throw new Error(`no node took topic "${request.topic}" over from ${owner}`);
        await new Promise((resolve) => setTimeout(resolve, this.leaseMs / 5));
      }
      unreachable = owner;
    }
  }

  subscribe(topic: string): Promise<void> {
    return this.subscriber.subscribe(new TopicKeys(this.prefix, topic).updates, (message) => {
      const { header, body } = decodeMessage<Update>(message);
      if (header.kind === 'released') this.owners.delete(topic);
      this.topics.get(topic)?.onUpdate(header, body);
    });
  }

  forget(topic: string): void {
    this.topics.delete(topic);
    this.owners.delete(topic);
    this.subscriber.unsubscribe(new TopicKeys(this.prefix, topic).updates).catch(() => undefined);
  }

  async answer(to: string, answer: Answer, body?: string): Promise<void> {
    try {
      await this.redis.publish(nodeChannel(this.prefix, to), encodeMessage(answer, body));
    } catch (error) {
      // Redis is gone: an answer for this node's own clients (an error, since nothing can be
      // stored) is still delivered, so they learn now rather than when Redis returns.
      if (to === this.nodeId) {
        this.topics.get(answer.topic)?.onAnswer(answer, body ?? '');
        return;
      }
      // Requests can still arrive (the other connection may be back first); their node waits for an answer.
      if (this.closing || this.redis.isReady) throw error;
      this.heldAnswers.push(() => this.answer(to, answer, body));
    }
  }

  private sendHeldAnswers(): void {
    const held = this.heldAnswers;
    this.heldAnswers = [];
    for (const send of held) send().catch((error: unknown) => this.logger.error(`cluster: cannot answer a node: ${errorText(error)}`));
  }

  lost(topic: string): void {
    this.owned.delete(topic);
    this.owners.delete(topic);
  }

  /** The node that owns a topic; when none does, this node takes it. */
  private async ownerOf(topic: string): Promise<string> {
    const cached = this.owners.get(topic);
    if (cached) return cached;
    const keys = new TopicKeys(this.prefix, topic);
    const lease = new TopicLease(this.redis, keys, this.nodeId, this.leaseMs);
    let owner = (await lease.holder())?.nodeId;
    if (owner === undefined && !this.closing) {
      const token = await lease.acquire();
      if (token !== undefined) owner = await this.take(topic, lease, token);
      else owner = (await lease.holder())?.nodeId;
    }
    if (owner === undefined) throw new Error(`topic "${topic}" has no owner`);
    this.owners.set(topic, owner);
    return owner;
  }

  private async take(topic: string, lease: TopicLease, token: number): Promise<string> {
    const route = this.routeOf(topic);
    try {
      const stored = await this.storage.load(topic);
      // Taken while the node began to close: its topics were already handed back, this one would keep its lease.
      if (this.closing) throw new Error(`node ${this.nodeId} is shutting down`);
      this.owned.set(topic, new OwnedTopic(this, topic, route, token, this.storage, stored));
    } catch (error) {
      await lease.release(token).catch(() => undefined);
      throw error;
    }
    this.logger.info(`cluster: node ${this.nodeId} owns topic "${topic}" (fencing token ${token})`);
    return this.nodeId;
  }

  private routeOf(topic: string): Route {
    const route = this.router.match(topic);
    if (!route) throw new Error(`no route matches topic "${topic}"`);
    return route;
  }

  private receive(message: string): void {
    let decoded;
    try {
      decoded = decodeMessage<NodeMessage>(message);
    } catch (error) {
      this.logger.error(`cluster: unreadable message on ${this.nodeId}'s channel: ${errorText(error)}`);
      return;
    }
    const { header, body } = decoded;
    if (header.kind === 'barrier') {
      this.barriers.get(header.id)?.();
    } else if (header.kind === 'join' || header.kind === 'event') {
      const owned = this.owned.get(header.topic);
      if (owned) void owned.handle(header);
      else void this.answer(header.from, { kind: 'moved', topic: header.topic, req: header.req }).catch(() => undefined);
    } else {
      if (header.kind === 'moved') this.owners.delete(header.topic);
      this.topics.get(header.topic)?.onAnswer(header, body);
    }
  }

  /** Resolves once everything published to this node before now has been received. */
  private barrier(): Promise<void> {
    const id = randomUUID();
    return new Promise<void>((resolve, reject) => {
      this.barriers.set(id, resolve);
      this.redis.publish(nodeChannel(this.prefix, this.nodeId), encodeMessage({ kind: 'barrier', id })).catch(reject);
    }).finally(() => this.barriers.delete(id));
  }

  private async renewLeases(): Promise<void> {
    const idleSince = Date.now() - this.releaseIdleMs;
    await Promise.all(
      [...this.owned.values()].map(async (topic) => {
        if (topic.lastRequestAt < idleSince) {
          await this.release(topic);
          return;
        }
        const lease = new TopicLease(this.redis, new TopicKeys(this.prefix, topic.topic), this.nodeId, this.leaseMs);
        const renewed = await lease.renew(topic.token).catch(() => undefined);
        if (renewed === false && this.owned.get(topic.topic) === topic) {
          this.logger.warn(`cluster: node ${this.nodeId} lost the lease of topic "${topic.topic}"`);
          this.lost(topic.topic);
        }
      }),
    );
  }

  /**
   * Requests sent to an owner whose lease is gone are settled: events fail, joins go to the
   * next owner. Members that may have missed updates ask for the state again.
   */
  private async watchOwners(): Promise<void> {
    for (const [topic, view] of this.topics) {
      view.resynchronize();
      view.retryJoins(Date.now() - this.leaseMs);
      for (const owner of view.pendingOwners) {
        if (owner === this.nodeId) continue;
        const holder = await new TopicLease(this.redis, new TopicKeys(this.prefix, topic), this.nodeId, this.leaseMs)
          .holder()
          .catch(() => null);
        if (holder === null || holder?.nodeId === owner) continue;
        this.owners.delete(topic);
        try {
          await this.barrier();
        } catch {
          continue;
        }
        view.ownerLost(owner);
      }
    }
  }

  /** Called as each connection comes back; members ask for the state once both are. */
  private resynchronize(): void {
    this.owners.clear();
    if (!this.redis.isReady || !this.subscriber.isReady) return;
    for (const view of this.topics.values()) view.resynchronize();
  }

  private async release(topic: OwnedTopic): Promise<void> {
    const keys = new TopicKeys(this.prefix, topic.topic);
    const lease = new TopicLease(this.redis, keys, this.nodeId, this.leaseMs);
    try {
      await topic.handOver(() => lease.release(topic.token));
      if (!this.disown(topic)) return;
      await this.redis.publish(keys.updates, encodeMessage({ kind: 'released' }));
      this.logger.info(`cluster: node ${this.nodeId} released topic "${topic.topic}"`);
    } catch (error) {
      this.disown(topic);
      this.logger.warn(`cluster: could not release topic "${topic.topic}": ${errorText(error)}`);
    }
  }

  /** Stops owning a topic here; `false` when it was not (or no longer) owned here. */
  private disown(topic: OwnedTopic): boolean {
    if (this.owned.get(topic.topic) !== topic) return false;
    this.owned.delete(topic.topic);
    this.owners.delete(topic.topic);
    return true;
  }
}
