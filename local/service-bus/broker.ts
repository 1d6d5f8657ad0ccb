// A local Service Bus namespace: an AMQP 1.0 broker on rhea that the real @azure/service-bus
// client talks to (no Docker, no cloud). Topics with filtered subscriptions, queues, peek-lock,
// lock expiry, max delivery count → dead-letter queue, duplicate detection, $management.
//
// stop() takes the bus away from clients (listener and sockets closed) but keeps every message;
// restart() brings it back on the same port — the "Service Bus away for a minute" fault.
import net from "node:net";
import type { Container } from "rhea";
import { create_container } from "./rhea.js";
import { Namespace, type EntitiesConfig } from "./entities.js";
import { attachBrokerHandlers } from "./links.js";
import { STANDARD_MAX_MESSAGE_SIZE } from "./wire.js";

export type { EntitiesConfig, QueueConfig, SubscriptionConfig, TopicConfig } from "./entities.js";

export interface ServiceBusBrokerOptions {
  /** 0 (default) = a free port. */
  port?: number;
  entities: EntitiesConfig;
  /** Largest message or batch accepted; default 256 KB (Standard tier). */
  maxMessageSizeBytes?: number;
}

export interface EntityStats {
  active: number;
  locked: number;
  deferred: number;
  enqueued: number;
  delivered: number;
  completed: number;
  abandoned: number;
  lockExpired: number;
  deadLettered: number;
}

export interface BrokerStats {
  /** Messages accepted from senders (after duplicate detection). */
  accepted: number;
  duplicates: number;
  /** Topic messages that matched no subscription. */
  unrouted: number;
  connections: number;
  /** $management requests by operation, e.g. `com.microsoft:update-disposition`. */
  management: Record<string, number>;
  /** By entity path, e.g. `run-escalations/Subscriptions/tickets/$DeadLetterQueue`. */
  entities: Record<string, EntityStats>;
}

export interface ServiceBusBroker {
  connectionString: string;
  port: number;
  /** Closes the listener and every client connection; messages and locks are kept. */
  stop(): Promise<void>;
  /** Listens again on the same port with the same state. */
  restart(): Promise<void>;
  /** stop() and release everything for good (timers included). */
  dispose(): Promise<void>;
  stats(): BrokerStats;
}

export function connectionStringFor(port: number): string {
  // Not a secret: the local broker accepts any key; UseDevelopmentEmulator makes the client use plain TCP.
  return `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`;
}

export async function startServiceBusBroker(options: ServiceBusBrokerOptions): Promise<ServiceBusBroker> {
  const ns = new Namespace(options.entities);
  const container: Container = create_container({ id: "local-service-bus" });
  const managementCalls: Record<string, number> = {};
  attachBrokerHandlers(container, ns, options.maxMessageSizeBytes ?? STANDARD_MAX_MESSAGE_SIZE, managementCalls);

  let server: net.Server | undefined;
  const sockets = new Set<net.Socket>();

  const listen = async (port: number): Promise<number> => {
    const s = container.listen({ port, host: "127.0.0.1" }) as unknown as net.Server;
    s.on("connection", (socket: net.Socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve, reject) => {
      if (s.listening) return resolve();
      s.once("listening", () => resolve());
      s.once("error", reject);
    });
    server = s;
    return (s.address() as net.AddressInfo).port;
  };

  const port = await listen(options.port ?? 0);

  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const socket of sockets) {
      socket.destroy();
      // rhea notices a peer going away only on 'end'/'error'; without this it would keep the
      // dead connection's receivers (and lock messages for them) and its heartbeat timers.
      socket.emit("end");
    }
    sockets.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  return {
    connectionString: connectionStringFor(port),
    port,
    stop,
    restart: async () => {
      if (!server) await listen(port);
    },
    dispose: async () => {
      await stop();
      ns.close();
    },
    stats: () => {
      const entities: Record<string, EntityStats> = {};
      for (const q of ns.allQueues()) entities[q.path] = { ...q.count(), ...q.counters };
      return { ...ns.counters, connections: sockets.size, management: { ...managementCalls }, entities };
    },
  };
}
