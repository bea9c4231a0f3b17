import { readFileSync } from 'node:fs';
import { type ConnectionOptions, credsAuthenticator } from 'nats';

/** NATS settings as read from the TESSERA_NATS_* environment (validated by service-kit). */
export interface NatsSettings {
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  credsFile?: string;
  tlsCaFile?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
}

/** Builds nats.js options: reconnect forever, never give up on the first connect. */
export function natsConnectionOptions(settings: NatsSettings, name: string): ConnectionOptions {
  const options: ConnectionOptions = {
    servers: settings.servers,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    waitOnFirstConnect: true,
    pingInterval: 5_000,
    maxPingOut: 3,
    timeout: 5_000,
    // nats.js otherwise captures a stack trace (new Error()) for every request and JetStream
    // publish: at thousands of outbox events a second that was the coordinator's top cost.
    noAsyncTraces: true,
  };
  if (settings.user !== undefined) {
    options.user = settings.user;
    options.pass = settings.pass ?? '';
  }
  if (settings.token !== undefined) options.token = settings.token;
  if (settings.credsFile !== undefined) {
    options.authenticator = credsAuthenticator(readFileSync(settings.credsFile));
  }
  if (settings.tlsCaFile ?? settings.tlsCertFile ?? settings.tlsKeyFile) {
    options.tls = {
      ...(settings.tlsCaFile ? { caFile: settings.tlsCaFile } : {}),
      ...(settings.tlsCertFile ? { certFile: settings.tlsCertFile } : {}),
      ...(settings.tlsKeyFile ? { keyFile: settings.tlsKeyFile } : {}),
    };
  }
  return options;
}

/**
 * NATS options another thread (a worker) can open its own connection with: structured-cloneable,
 * so no authenticator function — the worker builds it from `credsFile` itself.
 */
export interface ThreadConnection {
  options: Omit<ConnectionOptions, 'authenticator'>;
  credsFile?: string;
}

export function threadConnection(settings: NatsSettings, name: string): ThreadConnection {
  const { authenticator: _ignored, ...options } = natsConnectionOptions(settings, name);
  return settings.credsFile === undefined ? { options } : { options, credsFile: settings.credsFile };
}
